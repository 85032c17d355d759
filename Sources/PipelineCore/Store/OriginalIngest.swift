// Ingest: bytes become a content-addressed original, the first step of every path into the store.
import Foundation
import ImageCore
import Locking

/// An original stored in the `originals` area.
public struct IngestedOriginal: Sendable, Equatable {
    /// The SHA-256 of the bytes.
    public var hash: ContentHash
    /// The format sniffed from the bytes.
    public var format: ImageFormat
    /// The path inside `originals/`.
    public var relativePath: String
    /// The size in bytes.
    public var size: Int
    /// Whether the same bytes were already stored (nothing was written).
    public var alreadyStored: Bool

    /// The store-relative key used in event records: `originals/ab/abcdef….jpg`.
    public var key: String { "originals/" + relativePath }
}

/// Why an input could not be ingested.
public enum IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not JPEG or PNG.
    case notAnImage(file: String)
    /// The input is larger than allowed.
    case tooLarge(file: String, bytes: Int, limit: Int)
    /// The file is empty.
    case empty(file: String)
    /// The path names something that holds no bytes of its own to read: a named pipe, a socket, a device, a folder
    /// or (where links are not followed) a symbolic link; `kind` says which (`FileKind.special`).
    case notAFile(file: String, kind: String)
    /// The upload's permissions keep picpipe (running as `user`) from reading it.
    case notReadable(file: String, user: String)

    /// What set the file size limit when the command line did (`--max-file-bytes`): set once, before any work.
    public static let fileBytesSource = Locked<String?>(nil)

    /// Where the file size limit was set, for messages: the command line, then `PICPIPE_MAX_FILE_BYTES` (it
    /// overrides the file), else the configuration. (Until session 28 messages named the configuration whatever
    /// set the limit.)
    public static var fileBytesKnob: String {
        if let source = fileBytesSource.withLock({ $0 }) { return "set by \(source)" }
        if ProcessInfo.processInfo.environment["PICPIPE_MAX_FILE_BYTES"] != nil {
            return "set by PICPIPE_MAX_FILE_BYTES in the environment"
        }
        return "set by limits.max_file_bytes in the configuration; batch and thumbnail also take --max-file-bytes"
    }

    public var description: String {
        switch self {
        case .notAnImage(let file): return "\(file): not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (format sniffed from its bytes)"
        case .tooLarge(let file, let bytes, let limit):
            return "\(file): \(bytes) bytes, over the limit of \(limit) bytes (\(Self.fileBytesKnob))"
        case .empty(let file): return "\(file): the file is empty"
        case .notAFile(let file, let kind): return "\(file): \(kind), not a regular file; only files are read"
        case .notReadable(let file, let user):
            return "\(file): permission denied: picpipe runs as \(user), who may not read it; make it readable and put "
                + "it back in uploads/"
        }
    }
}

/// Stores bytes as a content-addressed original.
public enum OriginalIngest {
    /// Hashes, sniffs and stores `bytes` in `originals/` atomically (no-op when the same bytes are there).
    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - name: the name it arrived under, for error messages.
    ///   - maxBytes: the largest accepted input.
    ///   - originals: a writable handle on the `originals` area.
    ///   - hash: the bytes' SHA-256 when the caller computed it while reading them (`InputFile.read(_:maxBytes:hashing:)`).
    ///   - readSoon: the functions read the original right after (`serve`): it is written through the page cache
    ///     (batch reads it from memory and writes it past the cache, `AtomicFile.write`'s `direct`).
    public static func ingest(
        _ bytes: Data, name: String, maxBytes: Int, into originals: StoreHandle, hash known: ContentHash? = nil,
        readSoon: Bool = false
    ) throws -> IngestedOriginal {
        var original = try prepare(bytes, name: name, maxBytes: maxBytes, hash: known)
        original.alreadyStored = try !store(bytes, as: original, into: originals, readSoon: readSoon)
        return original
    }

    /// Checks, hashes and sniffs `bytes` and names the original they would be, writing nothing (`alreadyStored` is
    /// false: only `store` can tell). Parameters as in `ingest`.
    public static func prepare(
        _ bytes: Data, name: String, maxBytes: Int, hash known: ContentHash? = nil
    ) throws -> IngestedOriginal {
        guard !bytes.isEmpty else { throw IngestError.empty(file: name) }
        guard bytes.count <= maxBytes else {
            throw IngestError.tooLarge(file: name, bytes: bytes.count, limit: maxBytes)
        }
        let (hash, sniffed) = bytes.withUnsafeBytes { raw in (known ?? ContentHash(of: raw), ImageFormat.sniff(raw)) }
        guard let format = sniffed else { throw IngestError.notAnImage(file: name) }
        let relative = OriginalName.relativePath(hash: hash, format: format)
        return IngestedOriginal(
            hash: hash, format: format, relativePath: relative, size: bytes.count, alreadyStored: false)
    }

    /// Writes a prepared original's bytes atomically into `originals/`.
    /// - Returns: `false` when the same bytes were already stored (nothing written).
    public static func store(
        _ bytes: Data, as original: IngestedOriginal, into originals: StoreHandle, readSoon: Bool = false
    ) throws -> Bool {
        try originals.write(bytes, to: original.relativePath, overwrite: false, direct: !readSoon)
    }
}
