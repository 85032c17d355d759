// `picpipe metadata FILE...`: one JSON line of normalised metadata per file.
import ArgumentParser
import Foundation
import ImageCore
import MetadataService
import PipelineCore

struct MetadataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata",
        abstract: "Print the metadata of pictures as JSON lines (EXIF through libexif, size from the header).",
        discussion: """
            One JSON object per line and file, keys as in the README (null where absent). A file that is not a \
            readable JPEG, PNG, WebP, GIF, HEIC or AVIF is reported on stderr and skipped; the command then exits 1. \
            - reads standard input (cat photo.jpg | picpipe metadata -).
            """)

    @Argument(help: "JPEG, PNG, WebP, GIF, HEIC or AVIF files; - for standard input.")
    var files: [String]

    @Flag(name: .long, help: "Add every raw tag as an \"exif\" object, by IFD, with exiftool's tag names.")
    var raw = false

    @Flag(
        inversion: .prefixedNo,
        help:
            "Hash each whole file to fill sha256 (default: off; only the head of each file is read, as exiftool does).")
    var hash = false

    /// Removes every path after the first from `metadata` arguments and returns them, so that ArgumentParser
    /// (whose cost grows with the square of the number of values) parses only the flags and one path.
    /// Arguments after `--`, and arguments of other commands, are left alone.
    static func setAsideExtraFiles(_ arguments: inout [String]) -> [String] {
        guard arguments.first == configuration.commandName else { return [] }
        var kept = [arguments[0]]
        var extra: [String] = []
        var seenFirstFile = false
        for (index, argument) in arguments.enumerated().dropFirst() {
            if argument == "--" {
                kept += arguments[index...]
                break
            }
            if argument.hasPrefix("-") || !seenFirstFile {
                seenFirstFile = seenFirstFile || !argument.hasPrefix("-")
                kept.append(argument)
            } else {
                extra.append(argument)
            }
        }
        arguments = kept
        return extra
    }

    func run() throws {
        var output = StandardOutputBuffer()
        var failures = 0
        for file in files {
            do {
                let metadata =
                    file == "-"
                    ? try Self.readStandardInput(hash: hash, includeRaw: raw)
                    : try MetadataReader.read(fileAt: file, hash: hash, includeRaw: raw)
                output.append(metadata.jsonLine())
            } catch {
                output.flush()
                FileHandle.standardError.write(Data("picpipe metadata: \(LogText.escaped("\(error)"))\n".utf8))
                failures += 1
            }
        }
        output.flush()
        if failures > 0 { throw ExitCode(1) }
    }
}

extension MetadataCommand {
    /// The most bytes `-` reads: the default file size limit of the other commands.
    static let standardInputLimit = DecodeLimits().maxFileBytes

    /// The metadata of the picture on standard input (`file` is `-`, as exiftool reports it). A stream cannot be
    /// read from its head only, so it is read whole, up to `standardInputLimit`.
    static func readStandardInput(hash: Bool, includeRaw: Bool) throws -> ImageMetadata {
        let bytes: Data?
        do {
            bytes = try InputFile.readStream(STDIN_FILENO, maxBytes: standardInputLimit)
        } catch {
            throw MetadataError.unreadableFile(path: "-", reason: "\(error)")
        }
        guard let bytes else {
            throw MetadataError.unreadableFile(path: "-", reason: "more than \(standardInputLimit) bytes")
        }
        return try bytes.withUnsafeBytes {
            try MetadataReader.read(
                bytes: $0, file: "-", sha256: hash ? ContentHash(of: $0).hex : nil, includeRaw: includeRaw)
        }
    }
}

/// Lines gathered into large writes to stdout.
struct StandardOutputBuffer {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func append(_ line: String) {
        bytes.append(contentsOf: line.utf8)
        bytes.append(0x0A)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
        bytes.removeAll(keepingCapacity: true)
    }
}
