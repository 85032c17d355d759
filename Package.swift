// swift-tools-version: 6.0
// picpipe: an image pipeline of three services (thumbnail, metadata, fetch) on a thin core.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "picpipe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "picpipe", targets: ["picpipe"]),
        .library(name: "ImageCore", targets: ["ImageCore"]),
        .library(name: "PipelineCore", targets: ["PipelineCore"]),
        .library(name: "ThumbnailService", targets: ["ThumbnailService"]),
        .library(name: "MetadataService", targets: ["MetadataService"]),
        .library(name: "FetchService", targets: ["FetchService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/CoreOffice/XMLCoder", from: "0.18.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System-library bridges (pkg-config) and the C shims that own setjmp/longjmp; lcms2 converts colours.
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"])]),
        .target(name: "CJPEGShims", dependencies: ["CJPEG"]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),
        .target(name: "CPNGShims", dependencies: ["CPNG", "CDeflate"]),
        .systemLibrary(
            name: "CEXIF", pkgConfig: "libexif",
            providers: [.apt(["libexif-dev"])]),
        .systemLibrary(
            name: "CLCMS", pkgConfig: "lcms2",
            providers: [.apt(["liblcms2-dev"])]),
        // The formats beyond JPEG and PNG: WebP (still and animated), GIF, HEIF/HEIC and AVIF (both via libheif).
        .systemLibrary(
            name: "CWebP", pkgConfig: "libwebpdemux",
            providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(
            name: "CGIF", pkgConfig: "libgif",
            providers: [.apt(["libgif-dev"])]),
        // libheif's headers (libheif-dev), with the library opened on first use, not linked (see its CHEIF.h).
        .target(name: "CHEIF", linkerSettings: [.linkedLibrary("dl")]),
        // Pixel loops in C where Swift's checked Float-to-integer conversion keeps them scalar.
        .target(name: "CPixelKernels"),
        // glibc's mallopt, for serve's arena limit.
        .target(name: "CMallocTuning"),

        // The one lock type of the code base: a pthread mutex (NIO's), which ThreadSanitizer sees.
        .target(
            name: "Locking",
            dependencies: [.product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict),

        // Pure image operations over buffers: probe, decode, resize, orient, encode.
        .target(
            name: "ImageCore",
            dependencies: [
                "Locking", "CJPEGShims", "CPNG", "CPNGShims", "CDeflate", "CLCMS", "CWebP", "CGIF", "CHEIF",
                "CPixelKernels",
            ],
            swiftSettings: strict),

        // The function model, the store, events, journal and runtime.
        .target(
            name: "PipelineCore",
            dependencies: [
                "ImageCore", "Locking",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),

        // The services.
        .target(name: "ThumbnailService", dependencies: ["ImageCore", "PipelineCore"], swiftSettings: strict),
        .target(
            name: "MetadataService",
            dependencies: [
                "CEXIF", "ImageCore", "Locking", "PipelineCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),

        // The HTTP API: a route table over the store and the two services' public APIs.
        .target(
            name: "FetchService",
            dependencies: [
                "ImageCore", "Locking", "PipelineCore", "ThumbnailService", "MetadataService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),

        // The AWS front door: S3 (buckets over the store's areas) and the Lambda Invoke API, with SigV4, on their own
        // listener; it calls the fetch service's upload and delete paths and the runtime's invoke.
        .target(
            name: "AWSGateway",
            dependencies: [
                "ImageCore", "Locking", "PipelineCore", "FetchService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "XMLCoder", package: "XMLCoder"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),

        // The PostgreSQL backends of the journal, the metadata store and the fetch index, behind their protocols,
        // for running many processes against one shared database.
        .target(
            name: "PostgresBackend",
            dependencies: [
                "Locking", "PipelineCore", "MetadataService", "FetchService",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The thin executable.
        .executableTarget(
            name: "picpipe",
            dependencies: [
                "ImageCore", "Locking", "PipelineCore", "ThumbnailService", "MetadataService", "FetchService", "AWSGateway",
                "PostgresBackend", "CMallocTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            // Executables are linked with --export-dynamic, and the Swift runtime's start-up (its backtracer finding
            // its own path with dladdr) walks every exported symbol: 61,000 of them, about half a millisecond of each
            // start of a release picpipe. Nothing looks symbols up in the executable (libheif is dlopen'ed for
            // itself; crash backtraces read the file's own symbol table).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(configuration: .release))]),

        // libFuzzer harnesses, one per parser fed untrusted bytes. scripts/fuzz.sh builds them with
        // -sanitize=fuzzer,address -DFUZZING, and their main runs libFuzzer's driver; in a normal build each is a
        // small tool that replays the files named on its command line through the same function.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(
            name: "FuzzSupport", dependencies: ["CFuzzDriver", "ImageCore"], path: "Fuzz/Support", swiftSettings: strict),
        .executableTarget(
            name: "FuzzJPEGThumbnail", dependencies: ["FuzzSupport", "ImageCore"], path: "Fuzz/JPEGThumbnail",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzPNGThumbnail", dependencies: ["FuzzSupport", "ImageCore"], path: "Fuzz/PNGThumbnail",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzExifMetadata", dependencies: ["FuzzSupport", "ImageCore", "MetadataService"],
            path: "Fuzz/ExifMetadata", swiftSettings: strict),
        .executableTarget(
            name: "FuzzMultipartUpload", dependencies: ["FuzzSupport", "FetchService"], path: "Fuzz/MultipartUpload",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzRequestParameters",
            dependencies: ["FuzzSupport", "FetchService", .product(name: "HummingbirdCore", package: "hummingbird")],
            path: "Fuzz/RequestParameters", swiftSettings: strict),
        .executableTarget(
            name: "FuzzRawRequestHead",
            dependencies: [
                "FuzzSupport", "FetchService",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Fuzz/RawRequestHead", swiftSettings: strict),
        .executableTarget(
            name: "FuzzWebPThumbnail", dependencies: ["FuzzSupport", "ImageCore"], path: "Fuzz/WebPThumbnail",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzGIFThumbnail", dependencies: ["FuzzSupport", "ImageCore"], path: "Fuzz/GIFThumbnail",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzHEIFThumbnail", dependencies: ["FuzzSupport", "ImageCore"], path: "Fuzz/HEIFThumbnail",
            swiftSettings: strict),
        .executableTarget(
            name: "FuzzAWSSignature",
            dependencies: ["FuzzSupport", "AWSGateway", .product(name: "Crypto", package: "swift-crypto")],
            path: "Fuzz/AWSSignature", swiftSettings: strict),

        .testTarget(name: "ImageCoreTests", dependencies: ["ImageCore", "CLCMS"], swiftSettings: strict),
        .testTarget(
            name: "PipelineCoreTests",
            dependencies: [
                "Locking", "PipelineCore", "PostgresBackend",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ThumbnailServiceTests", dependencies: ["ThumbnailService", "Locking", "PipelineCore", "ImageCore"],
            swiftSettings: strict),
        .testTarget(
            name: "MetadataServiceTests",
            dependencies: [
                "CDeflate", "Locking", "MetadataService", "PipelineCore", "ImageCore", "PostgresBackend",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "FetchServiceTests",
            dependencies: [
                "FetchService", "Locking", "PipelineCore", "ThumbnailService", "MetadataService", "ImageCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: [
                "FuzzSupport", "FuzzJPEGThumbnail", "FuzzPNGThumbnail", "FuzzExifMetadata", "FuzzMultipartUpload",
                "FuzzRequestParameters", "FuzzWebPThumbnail", "FuzzGIFThumbnail", "FuzzHEIFThumbnail", "FuzzAWSSignature",
                "FuzzRawRequestHead",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "AWSGatewayTests",
            dependencies: [
                "AWSGateway", "PipelineCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "PicpipeCLITests",
            dependencies: [
                "picpipe", "ImageCore", "Locking", "PipelineCore", "AWSGateway", "PostgresBackend", "FetchService",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
    ]
)
