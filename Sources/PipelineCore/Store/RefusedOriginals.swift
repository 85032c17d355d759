// Putting a refused original back from failed/ so that replaying its event runs on it again (a dead-letter redrive).
import Foundation

/// The originals the runtime refused (`failed/NAME` with `NAME.error.json`, out of `originals/`), found by hash.
///
/// A refused picture's event still names `originals/KEY`; replayed as it is, every function would find the original
/// gone and "succeed" at doing nothing, and the dead letter would vanish from `events` and `stats`. Put back first,
/// the picture is judged again: with the limit that refused it raised it goes through, else it is refused again.
public final class RefusedOriginals {
    /// What a replay of an event will find.
    public enum Preparation: Equatable, Sendable {
        /// The original is stored (or the event names none): replay as it is.
        case ready
        /// The original was put back from `failed/NAME`.
        case restored(from: String)
        /// The original is neither stored nor kept in `failed/`: replaying would do nothing.
        case gone
    }

    private let originals: StoreHandle
    private let failed: StoreHandle
    /// `failed/` names by the SHA-256 their dead letter records, read on first use.
    private var lettersByHash: [String: [String]]?

    /// - Parameter layout: the store.
    public init(layout: StoreLayout) {
        originals = StoreHandle(area: .originals, access: .write, location: layout.originals, function: "replay")
        failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "replay")
    }

    /// Makes sure a replay of `record`'s event finds its original: puts a refused one back from `failed/` (its
    /// bytes checked against the hash) and removes its dead letter, which the replay supersedes.
    public func prepareReplay(of record: S3EventRecord) throws -> Preparation {
        let key = record.s3.object.key
        guard record.eventName.family == "ObjectCreated", key.hasPrefix("originals/"),
            let hash = record.contentHash ?? record.keyContentHash
        else { return .ready }
        let relative = String(key.dropFirst("originals/".count))
        if originals.exists(relative) { return .ready }
        for name in letters()[hash.hex] ?? [] where failed.isRegularFile(name) {
            guard let bytes = try? failed.read(name),
                bytes.withUnsafeBytes({ ContentHash(of: $0) }) == hash
            else { continue }
            _ = try originals.write(bytes, to: relative)
            try failed.remove(name + ".error.json")
            try failed.remove(name)
            lettersByHash?[hash.hex]?.removeAll { $0 == name }
            return .restored(from: name)
        }
        return .gone
    }

    /// Whether a replay of `record`'s event would find its original neither stored nor kept in `failed/`
    /// (what `prepareReplay` answers `.gone` for), changing nothing.
    public func wouldFindGone(_ record: S3EventRecord) throws -> Bool {
        let key = record.s3.object.key
        guard record.eventName.family == "ObjectCreated", key.hasPrefix("originals/"),
            let hash = record.contentHash ?? record.keyContentHash
        else { return false }
        if originals.exists(String(key.dropFirst("originals/".count))) { return false }
        return !(letters()[hash.hex] ?? []).contains { failed.isRegularFile($0) }
    }

    /// The refusal of `hash` kept in `failed/` (its bytes and their letter), if any: a picture that arrived twice
    /// and was refused under its first name is not "deleted" for its second (a delete settles such letters).
    /// - Parameter failed: the `failed/` folder, readable.
    public static func refusal(of hash: ContentHash, in failed: StoreHandle) -> (name: String, letter: DeadLetter)? {
        let decoder = JSONDecoder()
        for record in ((try? failed.list()) ?? []).sorted() where record.hasSuffix(".error.json") {
            let name = String(record.dropLast(".error.json".count))
            guard failed.isRegularFile(name), let data = try? failed.read(record),
                let letter = try? decoder.decode(DeadLetter.self, from: data), letter.sha256 == hash.hex
            else { continue }
            return (name, letter)
        }
        return nil
    }

    /// Refuses with a refusal just kept in `failed/` the uploads of the same bytes whose judge had found that original
    /// stored and kept it ("stored before this event": `failed/SOURCE.STAGE.error.json`, no bytes beside it), the
    /// refused upload having stored it: each gets the bytes and a letter under its own name, as an upload whose twin
    /// was refused before its judge ran gets them, and its "kept" letter goes. Until session 36 such an upload, judged
    /// at the same moment as its twin, kept only that letter: nothing a `replay --failed` could judge again.
    /// - Parameters:
    ///   - refusal: the letter of the refusal (its `file`, `error`, `stage` and `sha256` name the refused upload).
    ///   - bytes: the refused bytes.
    ///   - failed: the `failed/` folder, writable.
    /// - Returns: the names the uploads were refused under in `failed/`.
    @discardableResult
    public static func refuseKeptTwins(of refusal: DeadLetter, bytes: Data, in failed: StoreHandle) throws -> [String] {
        guard let sha256 = refusal.sha256 else { return [] }
        let decoder = JSONDecoder()
        var refused: [String] = []
        // A kept letter is named `SOURCE.STAGE` (`DeadLetter.numbered` keeps the ending): the others are not read.
        for record in try failed.list().sorted() where record.hasSuffix(".\(refusal.stage).error.json") {
            let name = String(record.dropLast(".error.json".count))
            guard !failed.exists(name), let data = try? failed.read(record),
                let kept = try? decoder.decode(DeadLetter.self, from: data), kept.stage == refusal.stage,
                kept.sha256 == sha256, kept.file != refusal.file
            else { continue }
            let twin = DeadLetter(
                file: kept.file, error: "\(refusal.error) (the same bytes as \(refusal.file), refused)",
                stage: refusal.stage, sha256: sha256, attempts: kept.attempts)
            refused.append(try twin.store(bytes: bytes, name: kept.file, in: failed))
            try failed.remove(record)
        }
        return refused
    }

    private func letters() -> [String: [String]] {
        if let lettersByHash { return lettersByHash }
        var found: [String: [String]] = [:]
        let decoder = JSONDecoder()
        for record in (try? failed.list()) ?? [] where record.hasSuffix(".error.json") {
            guard let data = try? failed.read(record), let letter = try? decoder.decode(DeadLetter.self, from: data),
                let sha256 = letter.sha256
            else { continue }
            found[sha256, default: []].append(String(record.dropLast(".error.json".count)))
        }
        lettersByHash = found
        return found
    }
}
