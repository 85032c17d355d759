// The journal pages that event streams catching up read lately, kept a short while: streams catching up over the same
// events together (the galleries reconnecting after a restart, from older than the ring) share one read of each page
// instead of each reading it in turn.
import Foundation
import Locking
import PipelineCore

/// One page of a catch-up as read from the journal: the events after `after`, with the settled ones made ready to
/// send (items read once for every stream that uses the page).
struct CatchUpPage: Sendable {
    /// The page holds the events after it.
    var after: Int64
    /// The events read, in id order.
    var events: [EventProgress]
    /// The picture events among them that had settled, in id order, their items read.
    var settled: [PreparedEvent]
    /// Whether the page was full: the journal may hold more after its last event.
    var full: Bool
    /// The feed's horizon when the page was read: every event up to it had been journaled.
    var horizonWhenRead: Int64
    var readAt: ContinuousClock.Instant

    /// Whether a catch-up may use the page as if it had read it itself: every event of the page's range that it
    /// needs (up to its horizon) had been journaled when the page was read, and had settled unless the catch-up
    /// leaves it to the ring (its unfinished events). A page read after the catch-up began always serves it.
    func serves(_ catchUp: PictureEventFeed.CatchUp) -> Bool {
        let end = full ? (events.last?.id ?? after) : Int64.max
        guard min(end, catchUp.horizon) <= horizonWhenRead else { return false }
        return events.allSatisfy { event in
            event.isFinished || event.id > catchUp.horizon || catchUp.unfinished.contains(event.id)
        }
    }
}

/// The newest catch-up pages read, by the id they start after; a page older than `maxAge` is read again, so the
/// items a late stream gets are not much older than the ring's.
final class CatchUpPages: Sendable {
    /// Pages kept: a burst of streams resuming from one id reads a few pages at once, each one read once.
    let limit: Int
    let maxAge: Duration
    private let pages = Locked<[CatchUpPage]>([])

    init(limit: Int = 8, maxAge: Duration = .seconds(60)) {
        self.limit = limit
        self.maxAge = maxAge
    }

    /// A kept page starting after `after` that serves `catchUp`, if one does.
    func page(after: Int64, for catchUp: PictureEventFeed.CatchUp) -> CatchUpPage? {
        let now = ContinuousClock.now
        return pages.withLock { pages in
            pages.removeAll { now - $0.readAt > maxAge }
            return pages.last { $0.after == after && $0.serves(catchUp) }
        }
    }

    /// Keeps `page`, in place of an older read of the same page; the oldest go past `limit`.
    func keep(_ page: CatchUpPage) {
        pages.withLock { pages in
            pages.removeAll { $0.after == page.after }
            pages.append(page)
            if pages.count > limit { pages.removeFirst(pages.count - limit) }
        }
    }
}
