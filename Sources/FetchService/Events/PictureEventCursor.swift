// Which journaled events a stream has reported: the horizon every event up to which was read, the unfinished events
// below it, and the events above it already sent. Built only on `InvocationJournal.events(...)`, so it works the same
// on any journal backend, including one written by other processes.
import Foundation
import PipelineCore

/// One event whose every invocation has finished (succeeded, failed or dead): what `GET /events/stream` sends.
struct SettledEvent: Equatable, Sendable {
    /// The event's id in the journal.
    var eventID: Int64
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`, ...
    var name: String
    /// The object key (`originals/ab/<sha256>.jpg`).
    var key: String
    /// The name it arrived under (an upload's id or file name), when known.
    var sourceName: String?
    /// `succeeded` when every invocation succeeded, else `failed`.
    var outcome: String
    /// The stream position to resume after this event (its SSE `id`): every event at or below it is reported.
    var resumeID: Int64
    /// The listing items (JSON objects, as GET /images writes them) of the ids naming the content now, read when
    /// the event is sent: a client updates its view from the frame alone. Empty when nothing names it (deleted,
    /// replaced, or its metadata could not be read); `nil` when not looked up.
    var items: [String]? = nil

    /// The SSE frame.
    var frame: String { Self.frame(id: resumeID, data: data) }

    /// The frame's data, a JSON object: the same for every stream that sends the event (the `id` is each stream's).
    var data: String {
        var json = "{\"event_id\":\(eventID),\"event\":\(JSONText.quoted(name)),\"key\":\(JSONText.quoted(key))"
        json += ",\"sha256\":\(sha256.map(JSONText.quoted) ?? "null")"
        json += ",\"source_name\":\(sourceName.map(JSONText.quoted) ?? "null"),\"outcome\":\(JSONText.quoted(outcome))"
        json += ",\"items\":\(items.map { "[\($0.joined(separator: ","))]" } ?? "null")}"
        return json
    }

    /// A `picture` frame with `data`, sent with `id`.
    static func frame(id: Int64, data: String) -> String { "id: \(id)\nevent: picture\ndata: \(data)\n\n" }

    /// The content hash named by the key's file name, when it has that shape.
    var sha256: String? {
        let file = key.split(separator: "/").last.map(String.init) ?? ""
        let stem = file.split(separator: ".").first.map(String.init) ?? ""
        return ContentHash(hex: stem)?.hex
    }
}

/// A settled event with its frame's data made once, for every stream that sends it (hundreds after a restart).
struct PreparedEvent: Sendable {
    let event: SettledEvent
    let data: String

    init(_ event: SettledEvent) {
        self.event = event
        data = event.data
    }

    /// Its frame, sent with `id`.
    func frame(id: Int64) -> String { SettledEvent.frame(id: id, data: data) }
}

/// The position of one stream in the journal.
///
/// Events finish out of order (a big picture's thumbnails take longer than a small one's), so a single "last sent
/// id" would skip an event that settles after a newer one. The cursor reads the journal in id order, page by page,
/// up to its horizon, and keeps the events it read unfinished to look at again: every event is reported once it has
/// settled, however far behind the stream started (until session 34 each look read the newest 500 invocations, and a
/// stream resuming more than that far behind skipped what fell outside them without a word).
struct PictureEventCursor: Sendable {
    /// How long a gap in the ids above the horizon may be an append still being committed: PostgreSQL hands out ids
    /// before the commit, so id 41 can be seen before 40 is. Past this age of the event above the gap, the gap is
    /// taken for an append that never committed.
    static let gapGrace: TimeInterval = 30

    /// Every event at or below it has been read: reported, passed over (no picture event), or in `unfinished`.
    private(set) var horizon: Int64
    /// Events at or below the horizon read unfinished, oldest first: looked at again until they settle.
    private(set) var unfinished: [Int64] = []
    /// Events above the horizon already reported (the horizon waits at a gap that may still fill).
    private(set) var sentAbove: Set<Int64> = []
    /// Where the next look at `unfinished` starts, when there are more than one look takes.
    private var recheckStart = 0

    /// Every event at or below it has been reported: the stream's `id`, a client's `Last-Event-ID`.
    var watermark: Int64 { unfinished.first.map { $0 - 1 } ?? horizon }

    /// A cursor resuming after `position` (an SSE `Last-Event-ID`).
    init(resumingAfter position: Int64) {
        horizon = position
    }

    /// A cursor for a new stream: it reports the events unfinished now and everything after `newest`, not the past.
    init(newest: Int64, unfinished: [Int64]) {
        horizon = newest
        self.unfinished = Array(Set(unfinished.filter { $0 <= newest })).sorted()
    }

    /// The cursor of a stream that starts now. The newest id is read before the unfinished events: an event journaled
    /// in between is above the horizon and read with the next page.
    static func starting(in journal: any InvocationJournal) throws -> PictureEventCursor {
        let newest = try journal.eventBounds().newest
        return PictureEventCursor(newest: newest, unfinished: try journal.unfinishedEventIDs())
    }

    /// The picture events after `floor` that had settled when the cursor started (at or below its horizon, not among
    /// its unfinished events), oldest first, stamped as a look sends them: what the event feed's ring starts with.
    func settledHistory(after floor: Int64, in journal: any InvocationJournal, pageSize: Int) throws -> [SettledEvent] {
        let unfinished = Set(unfinished)
        var settled: [SettledEvent] = []
        var after = floor
        while after < horizon {
            let page = try journal.events(after: after, limit: pageSize)
            for event in page where event.id <= horizon && event.isFinished && !unfinished.contains(event.id) {
                if let reported = Self.report(event) { settled.append(reported) }
            }
            guard page.count == pageSize, let last = page.last?.id else { break }
            after = last
        }
        return stamped(settled)
    }

    /// One look at the journal: the unfinished events again (`pageSize` of them at most, in turns when there are
    /// more), then the page of events after the horizon.
    /// - Returns: the events newly settled, oldest first, each with the resume id to send with it, and whether the
    ///   page was full and passed (more may follow: look again at once).
    mutating func look(in journal: any InvocationJournal, pageSize: Int, now: Date = Date()) throws -> (
        settled: [SettledEvent], more: Bool
    ) {
        var settled: [SettledEvent] = []
        let again = recheckIDs(limit: pageSize)
        if !again.isEmpty { settled += take(rechecked: try journal.events(ids: again), asked: again) }
        let page = try journal.events(after: horizon, limit: pageSize)
        settled += take(page: page, now: now)
        return (stamped(settled), page.count == pageSize && page.last?.id == horizon)
    }

    /// The unfinished events to look at again: all of them, or `limit` at a time in turns.
    mutating func recheckIDs(limit: Int) -> [Int64] {
        guard unfinished.count > limit else {
            recheckStart = 0
            return unfinished
        }
        if recheckStart >= unfinished.count { recheckStart = 0 }
        let end = min(recheckStart + limit, unfinished.count)
        defer { recheckStart = end }
        return Array(unfinished[recheckStart..<end])
    }

    /// Takes unfinished events read again (`asked`: the ids asked for; one the journal no longer holds is dropped).
    /// - Returns: those that settled (their resume ids not set yet).
    mutating func take(rechecked events: [EventProgress], asked: [Int64]) -> [SettledEvent] {
        let read = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var settled: [SettledEvent] = []
        var done: Set<Int64> = []
        for id in asked {
            guard let event = read[id] else {
                done.insert(id)
                continue
            }
            guard event.isFinished else { continue }
            done.insert(id)
            if let reported = Self.report(event) { settled.append(reported) }
        }
        if !done.isEmpty { unfinished.removeAll { done.contains($0) } }
        return settled
    }

    /// Takes a page of the events after the horizon (`events(after: horizon, limit:)`): reports those settled, keeps
    /// the unfinished ones, and moves the horizon over them while the ids follow on (or a gap is older than
    /// `gapGrace`). - Returns: the settled events (their resume ids not set yet).
    mutating func take(page: [EventProgress], now: Date) -> [SettledEvent] {
        var settled: [SettledEvent] = []
        var passing = true
        for event in page where event.id > horizon {
            passing =
                passing && (event.id == horizon + 1 || now.timeIntervalSince(event.createdAt) >= Self.gapGrace)
            if passing {
                horizon = event.id
                if sentAbove.remove(event.id) != nil { continue }
                if event.isFinished {
                    if let reported = Self.report(event) { settled.append(reported) }
                } else {
                    unfinished.append(event.id)
                }
            } else if event.isFinished, !sentAbove.contains(event.id) {
                // Above a gap that may still fill: sent now, remembered until the horizon passes it.
                sentAbove.insert(event.id)
                if let reported = Self.report(event) { settled.append(reported) }
            }
        }
        return settled
    }

    /// `events` in id order, each with the resume id that holds once it is sent: below the next one sent (the
    /// events between are no picture events) and at most the watermark.
    func stamped(_ events: [SettledEvent]) -> [SettledEvent] {
        let sorted = events.sorted { $0.eventID < $1.eventID }
        return sorted.indices.map { index in
            var event = sorted[index]
            let next = index + 1 < sorted.count ? sorted[index + 1].eventID - 1 : Int64.max
            event.resumeID = min(watermark, next)
            return event
        }
    }

    /// The frame of a settled event, or nil for an event that is no picture event (a read that made a thumbnail,
    /// `EventName.thumbnailRequested`).
    static func report(_ event: EventProgress) -> SettledEvent? {
        guard EventName.s3ObjectNames.contains(EventName(rawValue: event.name)) else { return nil }
        let outcome = event.states.allSatisfy { $0 == .succeeded } ? "succeeded" : "failed"
        return SettledEvent(
            eventID: event.id, name: event.name, key: event.key, sourceName: event.sourceName, outcome: outcome,
            resumeID: event.id)
    }
}
