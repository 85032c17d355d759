// The reference encoders and decoders from Debian (heif-enc, heif-convert, cwebp, dwebp, img2webp, avifenc,
// avifdec, ImageMagick's convert) run by the format tests: files made by them, picpipe's decode compared with theirs.
import Foundation
import ImageCore
import Testing

enum ReferenceTools {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The tool's path on the PATH, or `nil`.
    static func path(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether every tool is installed. Absent outside CI: the test is skipped (returns early); absent in CI: the
    /// test fails, because `.ci/run` installs them.
    static func available(_ names: String...) -> Bool {
        let missing = names.filter { path($0) == nil }
        guard !missing.isEmpty else { return true }
        #expect(!isCI, "reference tools missing in CI: \(missing.joined(separator: ", ")) (.ci/run installs them)")
        print("skipped: reference tools missing: \(missing.joined(separator: ", "))")
        return false
    }

    /// Runs a tool and requires exit 0.
    @discardableResult
    static func run(_ name: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path(name), "\(name) is not installed"))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(name) \(arguments.joined(separator: " ")) failed: \(text)")
        return text
    }

    /// A fresh folder for one test's files.
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `pixels` as a PNG (picpipe's PNG writer; libpng underneath) for the tools to read.
    static func writePNG(_ pixels: PixelBuffer, to url: URL) throws {
        try Data(try ImageEncoder.encode(pixels, format: .png)).write(to: url)
    }

    static func bytes(_ url: URL) throws -> [UInt8] { try [UInt8](Data(contentsOf: url)) }

    /// picpipe's full-size decode of a file.
    static func decode(_ file: [UInt8], limits: DecodeLimits = .default) throws -> DecodedImage {
        try file.withUnsafeBytes { try ImageDecoder.decode($0, limits: limits, minimumSize: nil) }
    }

    /// A PNG the reference tool wrote, decoded (by libpng, through picpipe's PNG path).
    static func decodePNG(_ url: URL) throws -> PixelBuffer { try decode(bytes(url)).pixels }

    /// Peak signal-to-noise ratio over every sample, in dB (infinity when identical). Both pictures must have the
    /// same size and channels.
    static func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        guard a.width == b.width, a.height == b.height, a.channels == b.channels, !a.bytes.isEmpty else { return -1 }
        var sum = 0.0
        for index in a.bytes.indices {
            let difference = Double(Int(a.bytes[index]) - Int(b.bytes[index]))
            sum += difference * difference
        }
        let mse = sum / Double(a.bytes.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// The RGB samples only (a picture without alpha as it is).
    static func rgb(_ picture: PixelBuffer) -> PixelBuffer {
        guard picture.channels == 4 else { return picture }
        var bytes = [UInt8]()
        bytes.reserveCapacity(picture.width * picture.height * 3)
        for index in stride(from: 0, to: picture.bytes.count, by: 4) {
            bytes += picture.bytes[index..<(index + 3)]
        }
        return PixelBuffer(width: picture.width, height: picture.height, channels: 3, bytes: bytes)
    }

    /// A photo-like RGBA picture whose left third is fully transparent and middle third half transparent.
    static func translucentPhoto(width: Int, height: Int) -> PixelBuffer {
        let photo = TestPictures.photo(width: width, height: height)
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * 4)
        for y in 0..<height {
            for x in 0..<width {
                let index = (y * width + x) * 3
                let alpha: UInt8 = x < width / 3 ? 0 : x < 2 * width / 3 ? 128 : 255
                // Transparent pixels are black: encoders may discard their colour, so the test never depends on it.
                bytes += alpha == 0 ? [0, 0, 0, 0] : Array(photo.bytes[index..<(index + 3)]) + [alpha]
            }
        }
        return PixelBuffer(width: width, height: height, channels: 4, bytes: bytes)
    }
}
