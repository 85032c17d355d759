// The AWS front door's AbortIncompleteMultipartUpload: multipart uploads neither completed nor aborted within
// `aws.multipart_expiry_days` are aborted, at serve start and every hour (their parts held disk space forever).
import Foundation
import Logging

/// Sweeps abandoned multipart uploads.
struct MultipartExpiry: Sendable {
    let uploads: MultipartUploads
    /// How long an upload may stay incomplete.
    let expiry: TimeInterval
    let logger: Logger
    /// How often `run()` sweeps.
    static let interval: Duration = .seconds(3600)

    /// Aborts the uploads initiated more than `expiry` before `now`, and removes the leftovers of uploads (folders
    /// without a record) unchanged as long.
    /// - Returns: how many uploads were aborted.
    @discardableResult
    func sweep(now: Date) -> Int {
        let cutoff = now.addingTimeInterval(-expiry)
        let aborted = uploads.abortUploads(initiatedBefore: cutoff)
        if aborted > 0 {
            logger.notice(
                "aborted incomplete S3 multipart uploads",
                metadata: ["count": "\(aborted)", "older_than_days": "\(expiry / 86_400)"])
        }
        let leftovers = uploads.removeLeftovers(unchangedSince: cutoff)
        if leftovers > 0 {
            logger.notice(
                "removed leftovers of S3 multipart uploads",
                metadata: ["count": "\(leftovers)", "older_than_days": "\(expiry / 86_400)"])
        }
        return aborted
    }

    /// Sweeps every `interval` until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.interval)
            } catch {
                return
            }
            sweep(now: Date())
        }
    }
}
