// Which C libraries picpipe runs with, and their versions, so a user can check them against security advisories
// (`picpipe --version`).
import CGIF
import CHEIF
import CJPEGShims
import CLCMS
import CPNG
import CPNGShims
import CWebP
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A C library the process loaded: its name, its version and the file it was loaded from.
public struct LinkedLibrary: Sendable, Equatable {
    /// The library's name (`libjpeg-turbo`).
    public var name: String
    /// Its version, from the library itself where it has a call for it, else from the headers it was built with.
    public var version: String
    /// The shared object file it was loaded from, when it can be found.
    public var file: String?

    /// - Parameters: see the properties.
    public init(name: String, version: String, file: String?) {
        self.name = name
        self.version = version
        self.file = file
    }

    /// The shared object mapped where `address` (a function of the library) lies, from `/proc/self/maps`.
    public static func file(containing address: UnsafeRawPointer?) -> String? {
        guard let address, let maps = processMaps() else { return nil }
        let target = UInt(bitPattern: address)
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, let dash = fields[0].firstIndex(of: "-"),
                let start = UInt(fields[0][..<dash], radix: 16),
                let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16), (start..<end).contains(target)
            else { continue }
            return fields[5...].joined(separator: " ")
        }
        return nil
    }

    /// The loaded shared object whose file name starts with `prefix` (`libexif.so`), from `/proc/self/maps`.
    public static func file(named prefix: String) -> String? {
        guard let maps = processMaps() else { return nil }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let path = fields[5...].joined(separator: " ")
            if path.split(separator: "/").last?.hasPrefix(prefix) == true { return path }
        }
        return nil
    }

    /// `/proc/self/maps`, read to its end (its size is reported as 0, so a sized read stops early).
    static func processMaps() -> String? {
        let descriptor = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The image libraries: libjpeg-turbo, libpng, zlib, libdeflate, Little CMS, libwebp, giflib and libheif (which
    /// this opens: it is loaded on first use).
    public static func imageLibraries() -> [LinkedLibrary] {
        let turbo = Int(CJPEGShims_turboVersionNumber())
        let turboVersion = "\(turbo / 1_000_000).\(turbo / 1000 % 1000).\(turbo % 1000)"
        let lcms = Int(cmsGetEncodedCMMversion())
        let webp = Int(WebPGetDecoderVersion())
        return [
            LinkedLibrary(
                name: "libjpeg-turbo", version: "\(turboVersion) (libjpeg API \(CJPEGShims_libVersion()), headers)",
                file: file(containing: CJPEGShims_libraryAnchor())),
            LinkedLibrary(
                name: "libpng", version: String(cString: png_get_libpng_ver(nil)),
                file: file(named: "libpng16.so")),
            LinkedLibrary(
                name: "zlib", version: String(cString: CPNGShims_zlibVersion()),
                file: file(named: "libz.so")),
            LinkedLibrary(
                name: "libdeflate", version: "\(String(cString: CPNGShims_libdeflateVersion())) (headers)",
                file: file(named: "libdeflate.so")),
            LinkedLibrary(
                name: "lcms2", version: "\(lcms / 1000).\(lcms / 10 % 100)",
                file: file(named: "liblcms2.so")),
            LinkedLibrary(
                name: "libwebp", version: "\(webp >> 16).\(webp >> 8 & 0xFF).\(webp & 0xFF)",
                file: file(named: "libwebp.so")),
            LinkedLibrary(
                name: "giflib", version: "\(GIFLIB_MAJOR).\(GIFLIB_MINOR).\(GIFLIB_RELEASE) (headers)",
                file: file(named: "libgif.so")),
            LinkedLibrary(
                name: "libheif", version: String(cString: heif_get_version()),
                file: file(named: "libheif.so")),
        ]
    }
}
