// Connection tasks on the event loops: a request resumed by its channel's event loop keeps running there,
// instead of waking a thread of Swift's global pool and then the event loop again for the answer.
import NIOCore
import NIOPosix

/// A task executor that runs each job on an event loop of a group: the current one when the job is enqueued
/// from an event loop thread of the group (`any()` prefers it), so no thread is woken up.
///
/// Only the server's connection tasks prefer it (`FetchApplication.run`); route handlers that may block
/// (SQLite writes, uploads, metadata) leave it for the global executor (`RouteTable.register`).
package final class EventLoopTaskExecutor: TaskExecutor {
    let group: any EventLoopGroup

    package init(group: any EventLoopGroup) {
        self.group = group
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        group.any().execute { job.runSynchronously(on: executor) }
    }
}
