// Removing what a killed process left half-written in the store, once serve is up.
import Dispatch
import Foundation
import Locking
import PipelineCore

/// Sweeps the store's temporary files (`AtomicFile.sweepTemporaries`) once, on a utility thread.
///
/// serve starts it when its HTTP API listens, or at once when this process has no API: listing the folders of a big
/// store (40,000 files for 10,000 pictures) kept a core in the kernel for about 30 ms, and on two cores that was
/// time taken from the start itself. A sweep removes only files whose writer is gone, so when it runs changes
/// nothing but when the space comes back.
final class LeftoverSweep: Sendable {
    private let areas: [URL]
    private let started = Locked(false)

    /// - Parameter areas: the folders to sweep, each with its subfolders.
    init(areas: [URL]) { self.areas = areas }

    /// Starts the sweep; later calls do nothing.
    func start() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        let areas = self.areas
        DispatchQueue.global(qos: .utility).async {
            for area in areas { AtomicFile.sweepTemporaries(in: area) }
        }
    }
}
