// Which journaled events a stream has reported: a low-water mark plus the settled events above it already sent.
// Built only on `InvocationJournal.invocations(...)`, so it works the same on any journal backend, including one
// written by other processes.
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
    var frame: String {
        var json = "{\"event_id\":\(eventID),\"event\":\(JSONText.quoted(name)),\"key\":\(JSONText.quoted(key))"
        json += ",\"sha256\":\(sha256.map(JSONText.quoted) ?? "null")"
        json += ",\"source_name\":\(sourceName.map(JSONText.quoted) ?? "null"),\"outcome\":\(JSONText.quoted(outcome))"
        json += ",\"items\":\(items.map { "[\($0.joined(separator: ","))]" } ?? "null")}"
        return "id: \(resumeID)\nevent: picture\ndata: \(json)\n\n"
    }

    /// The content hash named by the key's file name, when it has that shape.
    var sha256: String? {
        let file = key.split(separator: "/").last.map(String.init) ?? ""
        let stem = file.split(separator: ".").first.map(String.init) ?? ""
        return ContentHash(hex: stem)?.hex
    }
}

/// The position of one stream in the journal.
///
/// Events finish out of order (a big picture's thumbnails take longer than a small one's), so a single
/// "last sent id" would skip an event that settles after a newer one. The cursor keeps a low-water mark
/// (every event at or below it is settled and reported) and the settled events above it already sent.
struct PictureEventCursor: Sendable {
    /// Every event at or below this id has been reported (or happened before the stream started).
    private(set) var watermark: Int64
    /// Settled events above the watermark already sent.
    private(set) var sent: Set<Int64> = []

    /// A cursor resuming after `watermark` (an SSE `Last-Event-ID`).
    init(resumingAfter watermark: Int64) {
        self.watermark = watermark
    }

    /// A cursor for a new stream: it reports events still unfinished now and everything after, not the past.
    init(startingAt recent: [InvocationSummary]) {
        let unsettled = recent.filter { !Self.isFinished($0.state) }.map(\.eventID)
        if let oldest = unsettled.min() {
            watermark = oldest - 1
        } else {
            watermark = recent.map(\.eventID).max() ?? 0
        }
    }

    /// The events of `recent` (the journal's newest invocations) newly settled above the watermark, oldest first,
    /// and the cursor moved past them.
    ///
    /// Events whose invocations fell out of the window (more than the window's worth of work at once) are passed
    /// over: the stream is not a complete log, and a client that needs certainty reads the listing.
    mutating func advance(over recent: [InvocationSummary]) -> [SettledEvent] {
        var byEvent: [Int64: [InvocationSummary]] = [:]
        for invocation in recent where invocation.eventID > watermark {
            byEvent[invocation.eventID, default: []].append(invocation)
        }
        var settled: [SettledEvent] = []
        var contiguous = true
        for eventID in byEvent.keys.sorted() {
            let invocations = byEvent[eventID] ?? []
            let finished = invocations.allSatisfy { Self.isFinished($0.state) }
            if !finished {
                contiguous = false
                continue
            }
            let alreadySent = sent.contains(eventID)
            if contiguous {
                watermark = eventID
                sent.remove(eventID)
            } else {
                sent.insert(eventID)
            }
            if alreadySent { continue }
            let first = invocations[0]
            // A read that made a thumbnail is no picture event (`EventName.thumbnailRequested`).
            guard EventName.s3ObjectNames.contains(EventName(rawValue: first.eventName)) else { continue }
            let outcome =
                invocations.allSatisfy { $0.state == InvocationState.succeeded.rawValue } ? "succeeded" : "failed"
            settled.append(
                SettledEvent(
                    eventID: eventID, name: first.eventName, key: first.key, sourceName: first.sourceName,
                    outcome: outcome, resumeID: watermark))
        }
        // Sent events at or below a watermark that passed them need no memory.
        sent = sent.filter { $0 > watermark }
        return settled
    }

    /// Whether an invocation state is final.
    static func isFinished(_ state: String) -> Bool {
        state == InvocationState.succeeded.rawValue || state == InvocationState.failed.rawValue
            || state == InvocationState.dead.rawValue
    }
}
