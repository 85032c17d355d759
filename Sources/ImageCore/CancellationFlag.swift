// Stopping synchronous image work that nobody waits for any more (its invocation timed out), at its next check.
import Foundation
import Synchronization

/// A flag the owner of a render raises to have it stop early.
///
/// The work checks it itself, where that is cheap: a JPEG decode every band of up to 16 rows (and while it reads
/// the scans of a progressive file), a streamed PNG decode every band of rows, a render between its stages and
/// between the thumbnails it makes. A stopped step throws `ImageError.cancelled`. The flag reaches the image code
/// through the thread it runs on (`current`), so no call in between needs a parameter for it.
public final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    /// Asks the work to stop at its next check (from any thread).
    public func cancel() { raised.store(true, ordering: .relaxed) }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { raised.load(ordering: .relaxed) }

    private static let key = "picpipe-cancellation-flag"

    /// The flag of the work running on this thread (`nil`: none, the work runs to its end).
    public static var current: CancellationFlag? {
        Thread.current.threadDictionary[key] as? CancellationFlag
    }

    /// Runs `work` with this flag as the thread's `current` one.
    public func whileCurrent<T>(_ work: () throws -> T) rethrows -> T {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[Self.key]
        dictionary[Self.key] = self
        defer { dictionary[Self.key] = previous }
        return try work()
    }

    /// Throws `ImageError.cancelled` when the work of this thread was cancelled (a check between stages).
    static func checkCurrent() throws(ImageError) {
        if current?.isCancelled == true { throw .cancelled }
    }
}
