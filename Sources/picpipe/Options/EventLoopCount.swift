// `http.event_loops`: how many event-loop threads SwiftNIO's shared group (the HTTP and AWS listeners, the HTTP
// client) starts with. SwiftNIO takes this once, before the group is first used, and stops the process if it is set
// again; so it is set at most once per process, first thing in `serve`.
import NIOCore
import Synchronization

enum EventLoopCount {
    private static let suggested = Atomic<Bool>(false)

    /// Asks for `count` event loops, unless a count was asked for already in this process.
    /// - Returns: whether the request was passed on.
    @discardableResult
    static func suggest(_ count: Int) -> Bool {
        guard suggested.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
            return false
        }
        NIOSingletons.groupLoopCountSuggestion = count
        return true
    }
}
