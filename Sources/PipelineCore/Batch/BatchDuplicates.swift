// Identical files in one batch: the first to reach the store does the work, the others wait for its outcome.

/// Makes duplicates in one batch count the same way whatever the timing: per content, one file gets the real
/// outcome and every other copy is `skipped` (or `failed` with the same reason, when the content failed).
actor BatchDuplicates {
    private enum Entry {
        case running(owner: String, waiters: [CheckedContinuation<OwnerOutcome, Never>])
        case finished(owner: String, OwnerOutcome)
    }

    /// How the owner of a content finished.
    enum OwnerOutcome: Sendable {
        case succeeded
        /// `noSpace`: it failed for lack of space, so its copies keep no dead letter either.
        case failed(reason: String, noSpace: Bool)
    }

    private var entries: [ContentHash: Entry] = [:]

    /// Registers `file` for `hash`: `nil` when it is the first (it must call `finish`), else the first file's path.
    func claim(_ hash: ContentHash, file: String) -> String? {
        switch entries[hash] {
        case nil:
            entries[hash] = .running(owner: file, waiters: [])
            return nil
        case .running(let owner, _), .finished(let owner, _):
            return owner
        }
    }

    /// Waits until the owner of `hash` has finished.
    func outcome(of hash: ContentHash) async -> OwnerOutcome {
        switch entries[hash] {
        case .finished(_, let outcome): return outcome
        case .running(let owner, let waiters):
            return await withCheckedContinuation { continuation in
                entries[hash] = .running(owner: owner, waiters: waiters + [continuation])
            }
        case nil: return .succeeded
        }
    }

    /// Records the owner's outcome and wakes the copies waiting for it.
    func finish(_ hash: ContentHash, _ outcome: OwnerOutcome) {
        guard case .running(let owner, let waiters) = entries[hash] else { return }
        entries[hash] = .finished(owner: owner, outcome)
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}
