// Enforcing a function's timeout by cancellation, without waiting for a handler that ignores it.
import Dispatch
import Locking

/// Runs a handler against its deadline.
///
/// On timeout the handler's task is cancelled and the caller gets `FunctionError.timedOut` at once.
/// Cancellation is cooperative: a handler inside a long synchronous call (a JPEG decode in C) stops at its
/// next check between steps (`FunctionContext.ensureTimeLeft`, before it writes anything), and until then it may
/// still be running while its worker takes the next event.
enum InvocationTimeout {
    /// Where timeouts fire: a queue of their own, not the cooperative pool, where a handler's synchronous step
    /// would hold them back until it ends.
    private static let timers = DispatchQueue(label: "picpipe-invocation-timers")

    /// - Parameters:
    ///   - seconds: the function's timeout.
    ///   - grace: when given, its expiry (the end of the shutdown grace) ends the invocation with
    ///     `RuntimeError.shutdownGraceExpired` as a timeout would.
    static func run(
        seconds: Double, grace: ShutdownGrace? = nil, _ body: @escaping @Sendable () async throws -> FunctionResult
    ) async throws -> FunctionResult {
        let handler = Task { try await body() }
        let once = ResumeOnce()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                once.set(continuation)
                let timer = DispatchWorkItem {
                    if once.resume(with: .failure(FunctionError.timedOut(seconds: seconds))) { handler.cancel() }
                }
                Self.timers.asyncAfter(deadline: .now() + seconds, execute: timer)
                let token = grace?.onExpiry {
                    let error = RuntimeError.shutdownGraceExpired(seconds: grace?.seconds ?? 0)
                    if once.resume(with: .failure(error)) { handler.cancel() }
                }
                Task {
                    let result = await handler.result
                    timer.cancel()
                    if let token { grace?.remove(token) }
                    once.resume(with: result)
                }
            }
        } onCancel: {
            handler.cancel()
        }
    }
}

/// A continuation resumed by whichever of the handler and the timer finishes first.
private final class ResumeOnce: Sendable {
    private let gate = Locked<CheckedContinuation<FunctionResult, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<FunctionResult, any Error>) {
        gate.withLock { $0 = continuation }
    }

    /// Resumes the continuation if nobody did yet; returns whether this call did.
    @discardableResult
    func resume(with result: Result<FunctionResult, any Error>) -> Bool {
        let continuation = gate.withLock { value in
            defer { value = nil }
            return value
        }
        continuation?.resume(with: result)
        return continuation != nil
    }
}
