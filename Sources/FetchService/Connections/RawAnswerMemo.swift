// Answers the raw-bytes path has given, kept per event loop, so the same plain request is answered again without the
// look-up behind it (id, recipe, file path, file cache) and without formatting its head: the thumbnails of a page
// that many clients load. An answer is given again only while nothing it was made from can have changed: the
// shortcut's revision (for thumbnails: the id index, the file cache's invalidations, the recipes) is the one read
// before it was made, and the cached file it came from is not due for its next read from disk. The whole answer
// (head, this second's Date, body) is one buffer made at most once a second and shared by every answer of that
// second: one write, no copy.
import Foundation
import Locking
import NIOCore

/// What answers of an `EventLoopShortcut` depend on besides time; any change makes every kept answer stale.
package struct ShortcutRevision: Equatable, Sendable {
    /// The id index's count of changes.
    var index: UInt64
    /// The file cache's count of invalidations.
    var files: UInt64
    /// The recipes' count of replacements.
    var recipes: UInt64
    /// The access checks' count of replacements (a reload that protects reads must not find public answers kept).
    var access: UInt64 = 0
}

/// The answers kept on one event loop (used only there: see `RawAnswerMemos`).
final class RawAnswerMemo {
    /// One kept answer: a 200 to a plain GET, given again to a GET or HEAD of the same target. A class: a look-up
    /// takes one reference, not a copy of every buffer and array in it (a tenth of the raw path's own time).
    final class Entry {
        /// The request target it answers.
        let target: [UInt8]
        /// The Accept value it was chosen for, when the answer varies by Accept (`nil`: the request had none).
        let accept: [UInt8]?
        /// Whether the answer varies by Accept.
        let varies: Bool
        /// The status line and the answer's own fields, each line ending in CRLF (Date, Server, Connection and the
        /// empty line are added to each answer).
        let head: ByteBuffer
        let body: ByteBuffer
        /// When the file it came from is due for its next read.
        let until: ContinuousClock.Instant
        let revision: ShortcutRevision
        /// The whole answer as one buffer, to a keep-alive request and to one that closes.
        var whole: Whole? = nil
        var wholeClosing: Whole? = nil

        init(
            target: [UInt8], accept: [UInt8]?, varies: Bool, head: ByteBuffer, body: ByteBuffer,
            until: ContinuousClock.Instant, revision: ShortcutRevision
        ) {
            self.target = target
            self.accept = accept
            self.varies = varies
            self.head = head
            self.body = body
            self.until = until
            self.revision = revision
        }
    }

    /// A kept answer as it is written: `head`, Date, Server (and `Connection: close`), the empty line, `body`.
    struct Whole {
        var bytes: ByteBuffer
        /// The second its Date names.
        var second: Int
        var headLength: Int
    }

    private var entries: [Int: Entry] = [:]
    /// The bytes of bodies and whole answers kept.
    private var bodyBytes = 0
    private var date = HTTPDateCache()
    /// The most bytes of bodies kept alive here (the file cache may have dropped them) and the most entries; past
    /// either, everything is forgotten (entries live a second at most anyway).
    static let budget = 16 << 20
    static let maxEntries = 4096

    /// The kept answer to a GET or HEAD of `target` with `accept`, unless there is none or it may be stale.
    func answer(
        target: ByteBufferView, accept: ByteBufferView?, now: ContinuousClock.Instant, revision: ShortcutRevision?
    ) -> Entry? {
        guard let entry = entries[Self.key(target)],
            Self.holds(entry, target: target, accept: accept, now: now, revision: revision)
        else { return nil }
        return entry
    }

    /// A kept answer as the raw path writes it.
    enum Kept {
        /// One buffer with this second's Date, and the length of its head.
        case whole(bytes: ByteBuffer, headLength: Int)
        /// Head and body apart: making the whole buffer would pass the budget.
        case parts(Entry)

        var whole: (bytes: ByteBuffer, headLength: Int)? {
            if case .whole(let bytes, let headLength) = self { return (bytes, headLength) }
            return nil
        }
    }

    /// The kept answer to a GET or HEAD of `target` with `accept`, unless there is none or it may be stale: as one
    /// buffer with this second's Date (made at most once a second per answer and kind of request), or in parts when
    /// making that buffer would pass the budget. One look-up either way.
    func kept(
        target: ByteBufferView, accept: ByteBufferView?, closes: Bool, now: ContinuousClock.Instant,
        revision: ShortcutRevision?, allocator: ByteBufferAllocator
    ) -> Kept? {
        let key = Self.key(target)
        guard let entry = entries[key],
            Self.holds(entry, target: target, accept: accept, now: now, revision: revision)
        else { return nil }
        let dateText = date.current()
        let kept = closes ? entry.wholeClosing : entry.whole
        if let kept, kept.second == date.second { return .whole(bytes: kept.bytes, headLength: kept.headLength) }
        let size = entry.head.readableBytes + 128 + entry.body.readableBytes
        guard bodyBytes - (kept?.bytes.readableBytes ?? 0) + size <= Self.budget else { return .parts(entry) }
        var bytes = allocator.buffer(capacity: size)
        bytes.writeImmutableBuffer(entry.head)
        CachedAnswer.eachAddedField(date: dateText, closes: closes) { bytes.writeHTTPField($0, $1) }
        bytes.writeStaticString("\r\n")
        let headLength = bytes.readableBytes
        bytes.writeImmutableBuffer(entry.body)
        bodyBytes += bytes.readableBytes - (kept?.bytes.readableBytes ?? 0)
        let made = Whole(bytes: bytes, second: date.second, headLength: headLength)
        if closes { entry.wholeClosing = made } else { entry.whole = made }
        return .whole(bytes: bytes, headLength: headLength)
    }

    /// Whether a kept answer may be given for this request now.
    private static func holds(
        _ entry: Entry, target: ByteBufferView, accept: ByteBufferView?, now: ContinuousClock.Instant,
        revision: ShortcutRevision?
    ) -> Bool {
        guard let revision, entry.revision == revision, now < entry.until, same(entry.target, target) else {
            return false
        }
        guard entry.varies else { return true }
        switch (entry.accept, accept) {
        case (nil, nil): return true
        case (let kept?, let asked?): return same(kept, asked)
        default: return false
        }
    }

    /// Whether the kept bytes are the request's (one `memcmp`: comparing through the view's iterator byte by byte
    /// was most of the look-up).
    private static func same(_ kept: [UInt8], _ asked: ByteBufferView) -> Bool {
        guard kept.count == asked.count else { return false }
        return kept.withUnsafeBytes { kept in
            asked.withUnsafeBytes { asked in
                kept.isEmpty || memcmp(kept.baseAddress!, asked.baseAddress!, kept.count) == 0
            }
        }
    }

    /// Keeps an answer (replacing any other for the same target).
    func keep(_ entry: Entry) {
        let key = Self.key(entry.target)
        if entries.count >= Self.maxEntries || bodyBytes + entry.body.readableBytes > Self.budget {
            entries.removeAll(keepingCapacity: true)
            bodyBytes = 0
        }
        if let old = entries.updateValue(entry, forKey: key) {
            bodyBytes -=
                old.body.readableBytes + (old.whole?.bytes.readableBytes ?? 0)
                + (old.wholeClosing?.bytes.readableBytes ?? 0)
        }
        bodyBytes += entry.body.readableBytes
    }

    /// How many answers are kept (for tests).
    var count: Int { entries.count }

    /// The same for the target's bytes wherever they are (a request's buffer, an entry's array).
    private static func key<Bytes: Collection<UInt8>>(_ target: Bytes) -> Int {
        var hasher = Hasher()
        if target.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in target { hasher.combine(byte) }
        }
        return hasher.finalize()
    }
}

/// One `RawAnswerMemo` per event loop, shared by that loop's connections (their handlers run on it, so a memo is
/// never used from two threads).
final class RawAnswerMemos: Sendable {
    private let memos = Locked<[ObjectIdentifier: NIOLoopBound<RawAnswerMemo>]>([:])

    /// The memo of `eventLoop`; call on that loop (a channel's set-up runs there).
    func memo(on eventLoop: any EventLoop) -> RawAnswerMemo {
        memos.withLock { memos in
            let id = ObjectIdentifier(eventLoop)
            if let bound = memos[id] { return bound.value }
            let made = RawAnswerMemo()
            memos[id] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
