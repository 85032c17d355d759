// LISTEN on one channel over a connection of its own, calling the registered closures on every notification;
// reconnects (with backoff) when the connection is lost.
import Foundation
import Locking
import Logging
import PostgresNIO

/// Wakes idle workers of this process when any process queues work (`NOTIFY picpipe_work`).
final class NotificationListener: Sendable {
    private struct State {
        var handlers: [@Sendable (String?) -> Void] = []
        var started = false
        var stopped = false
        var connection: PostgresConnection?
    }

    private let state = Locked(State())
    private let pool: PostgresConnectionPool
    private let channel: String
    private let logger: Logger

    init(pool: PostgresConnectionPool, channel: String, logger: Logger) {
        self.pool = pool
        self.channel = channel
        self.logger = logger
    }

    /// Calls `wake` on every notification from now on; the first call starts listening.
    func add(_ wake: @escaping @Sendable (_ function: String?) -> Void) {
        let start = state.withLock { state -> Bool in
            state.handlers.append(wake)
            defer { state.started = true }
            return !state.started && !state.stopped
        }
        guard start else { return }
        let thread = Thread { [self] in listen() }
        thread.name = "picpipe-listen"
        thread.start()
    }

    func stop() {
        let connection = state.withLock { state -> PostgresConnection? in
            state.stopped = true
            return state.connection
        }
        let _: EventLoopFuture<Void>? = connection?.close()
    }

    /// Calls every handler with the notification's payload: the function work was queued for (empty: any).
    private func notifyAll(payload: String = "") {
        let function = payload.isEmpty ? nil : payload
        for handler in state.withLock({ $0.handlers }) { handler(function) }
    }

    private func listen() {
        var backoff: TimeInterval = 0.5
        while !state.withLock({ $0.stopped }) {
            do {
                let connection = try pool.connect()
                let keep = state.withLock { state -> Bool in
                    if state.stopped { return false }
                    state.connection = connection
                    return true
                }
                guard keep else {
                    let _: EventLoopFuture<Void> = connection.close()
                    return
                }
                connection.addListener(channel: channel) { [weak self] _, notification in
                    self?.notifyAll(payload: notification.payload)
                }
                try connection.run("LISTEN \(channel)")
                backoff = 0.5
                // Work queued while nobody listened is found by this wake-up (and by the polling fallback).
                notifyAll()
                try connection.closeFuture.wait()
            } catch {
                logger.debug("listener lost its connection", metadata: ["error": "\(error)"])
            }
            if state.withLock({ $0.stopped }) { return }
            Thread.sleep(forTimeInterval: backoff)
            backoff = min(backoff * 2, 10)
        }
    }
}
