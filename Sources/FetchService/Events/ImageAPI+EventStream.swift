// GET /events/stream: Server-Sent Events for every journaled event whose work has finished, read from the journal
// (any backend, any process writing it), woken early when this process journals an outcome.
import Foundation
import HTTPTypes
import Hummingbird
import MetadataService
import PipelineCore
import ServiceLifecycle

extension ImageAPI {
    /// How long one stream stays open before it ends and the client reconnects (with `Last-Event-ID`), so a
    /// stream never outlives a configuration or a proxy's patience.
    static let eventStreamLifetime: Duration = .seconds(300)

    /// Who may open a stream: `images:read` when reads need credentials, or a signed URL (a browser's EventSource
    /// cannot send a key). An open stream is checked against it again after each reload of the access rules.
    static let eventStreamAccess = RouteAccess.signedRead

    /// The `Last-Event-ID` header (or `last_event_id` query parameter, for clients that cannot set headers).
    static let lastEventIDField = HTTPField.Name("Last-Event-ID")!

    /// Streams `picture` events: one per journaled event once each of its invocations has succeeded, failed or
    /// been dead-lettered; `id` is the position to resume after; a comment line every few seconds keeps idle
    /// connections open. A `Last-Event-ID` the journal cannot resume from (its events pruned, or an id it never
    /// gave) gets a `reset` event first: the client reads the listing again, and the stream goes on from now. The
    /// events come from the process's one `PictureEventFeed`; a stream reads the journal only to catch up. A reload
    /// that takes the stream's access away (its key removed or without `images:read`, reads protected since it
    /// opened without credentials, its signed URL's key dropped) ends it at once with an `event: revoked` frame.
    func eventStream(_ request: Request, context: FetchRequestContext) async throws -> Response {
        guard let slot = streamSlots.take() else {
            throw APIError.unavailable(
                code: "too_many_streams",
                "\(streamSlots.limit) event streams are open, the most at once (half of http.max_connections, "
                    + "so other requests keep their connections); try again shortly", retryAfter: 5)
        }
        // Given back when the stream's body is done with, however it ends (also when it never runs).
        let held = HeldSlot(slot)
        let resume =
            request.headers[Self.lastEventIDField]
            ?? request.uri.queryParameters["last_event_id"].map(String.init)
        var position: Int64?
        if let resume, !resume.isEmpty {
            guard let id = Int64(resume.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw APIError.badRequest("Last-Event-ID must be an id this stream sent (a non-negative integer)")
            }
            position = id
        }
        let api = self
        let (start, reset) = try await eventFeed.join(resumingAfter: position) { try? api.listedItems(contentKey: $0) }
        let feed = eventFeed
        let logger = logger
        let live = live
        let admittedRevision = context.accessRevision
        // A comment well inside the idle timeout, so a quiet stream is not closed as idle.
        let heartbeat = Duration.milliseconds(Int(Double(settings.idleTimeoutSeconds) * 1000 / 3))
        let opening = "retry: 1000\n: picpipe events\n\n" + (reset ?? "")
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream; charset=utf-8"
        fields[.cacheControl] = "no-store"
        fields[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let body = ResponseBody { writer in
            _ = held
            var reader = start
            var admission = StreamAdmission(
                live: live, request: request, access: Self.eventStreamAccess, revision: admittedRevision)
            let opened = ContinuousClock.now
            var lastWrite = opened
            try await writer.write(ByteBuffer(string: opening))
            while !Task.isCancelled, !Task.isShuttingDownGracefully,
                ContinuousClock.now - opened < Self.eventStreamLifetime
            {
                // Until the next heartbeat is due (or the stream's end); shutdown wakes it at once.
                let due = min(lastWrite + heartbeat, opened + Self.eventStreamLifetime) - ContinuousClock.now
                let seconds = max(0.01, Double(due.components.seconds) + Double(due.components.attoseconds) * 1e-18)
                let text: String
                // What the client has: frames read but not written when access is revoked are not its.
                let delivered = reader.sent
                let admitted = admission
                do {
                    text = try await withGracefulShutdownHandler {
                        try await feed.next(&reader, upTo: seconds, unless: { admitted.rulesChanged })
                    } onGracefulShutdown: {
                        feed.wakeAll()
                    }
                } catch {
                    // Catching up: the client reconnects with its Last-Event-ID and misses nothing.
                    logger.warning("event stream: the journal cannot be read", metadata: ["error": "\(error)"])
                    break
                }
                if let refusal = await admission.refusal(logger: logger) {
                    try await writer.write(ByteBuffer(string: StreamAdmission.revokedFrame(refusal, id: delivered)))
                    break
                }
                if !text.isEmpty {
                    try await writer.write(ByteBuffer(string: text))
                    lastWrite = ContinuousClock.now
                } else if ContinuousClock.now - lastWrite >= heartbeat {
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    lastWrite = ContinuousClock.now
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: fields, body: body)
    }

    /// The listing items of the ids that name the content an object key (`originals/ab/<sha256>.jpg`) holds, as
    /// GET /images lists them now; empty when nothing names it or its metadata is not stored. - Throws: when the
    /// index cannot be read (the frame then carries no items, and a page reads the listing).
    func listedItems(contentKey key: String) throws -> [String] {
        let stem = key.split(separator: "/").last?.split(separator: ".").first.map(String.init) ?? ""
        guard let hash = ContentHash(hex: stem), let row = try? metadata.image(sha256: hash.hex) else { return [] }
        return try listedIDs(row).map { try item(id: $0, row: row) }
    }

    /// The stream position now: a stream opened later with this `Last-Event-ID` reports every event that settles
    /// after this moment (the gallery page embeds it next to the listing it embeds, so no update falls between).
    func eventStreamPosition() throws -> Int64 {
        try PictureEventCursor.starting(in: runtime.journal).watermark
    }
}

/// Why a stream cannot resume from a client's `Last-Event-ID`, sent as an `event: reset` frame: the client reads
/// the listing again, and the frames after it are what changes from then on.
struct StreamReset: Equatable, Sendable {
    enum Reason: String, Sendable {
        /// `prune` forgot events after the id (`runtime.journal_retention_days`).
        case pruned
        /// The journal never gave the id (another store's, or a journal started anew).
        case unknown
    }

    var reason: Reason
    /// The id the client resumed from.
    var lastEventID: Int64
    /// The journal's bounds when it was judged.
    var bounds: EventBounds

    /// Nil when the journal holds every event after `position`.
    init?(resuming position: Int64, bounds: EventBounds) {
        if position < bounds.prunedThrough {
            reason = .pruned
        } else if position > max(bounds.newest, bounds.prunedThrough) {
            reason = .unknown
        } else {
            return nil
        }
        lastEventID = position
        self.bounds = bounds
    }

    /// The SSE frame; `id` is the position the stream goes on from.
    func frame(id: Int64) -> String {
        let data =
            "{\"reason\":\"\(reason.rawValue)\",\"last_event_id\":\(lastEventID),"
            + "\"pruned_through\":\(bounds.prunedThrough),\"newest_event_id\":\(bounds.newest)}"
        return "id: \(id)\nevent: reset\ndata: \(data)\n\n"
    }
}

/// A slot given back when the last reference to it goes.
final class HeldSlot: Sendable {
    let slot: UploadSlots.Slot
    init(_ slot: UploadSlots.Slot) { self.slot = slot }
    deinit { slot.release() }
}
