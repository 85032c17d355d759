// The tests' way of waiting for a child process (`Process.runToExit`, `Process.exited`): it must end a child that
// outlives its timeout, report how a child ended, and not hold a thread while it waits.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite struct ChildProcessWaitTests {
        static func sleeper(_ seconds: String) -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = [seconds]
            return process
        }

        /// A child past its timeout is killed, not waited for.
        @Test(.timeLimit(.minutes(1))) func aChildPastItsTimeoutIsKilled() async throws {
            let process = Self.sleeper("600")
            try await process.runToExit(timeout: 0.5)
            #expect(!process.isRunning)
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(process.terminationStatus == SIGKILL)
        }

        /// The exit status is the child's own; a program that cannot start is an error, not a wait.
        @Test func theStatusIsTheChildsAndAMissingProgramThrows() async throws {
            let failing = Process()
            failing.executableURL = URL(fileURLWithPath: "/bin/sh")
            failing.arguments = ["-c", "exit 7"]
            try await failing.runToExit()
            #expect(failing.terminationReason == .exit && failing.terminationStatus == 7)
            let missing = Process()
            missing.executableURL = URL(fileURLWithPath: "/nonexistent/picpipe-no-such-program")
            await #expect(throws: (any Error).self) { try await missing.runToExit() }
        }

        /// Waiting for children holds no thread: with more waiters than the concurrency pool has threads (two on
        /// two cores), the test's own task still runs while they wait, and it is what ends the children.
        @Test func waitersHoldNoThread() async throws {
            let children = (0..<8).map { _ in Self.sleeper("600") }
            for child in children { try child.run() }
            // A safety net off the pool: waiters that held its threads would leave nothing on it to end the children.
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
            }
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for child in children {
                    group.addTask {
                        await child.exited()
                        return child.terminationStatus
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                let allStillRunning = children.allSatisfy { $0.isRunning }
                #expect(allStillRunning, "this task ran only after the safety net ended the children")
                for child in children { kill(child.processIdentifier, SIGKILL) }
                var statuses: [Int32] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses == Array(repeating: SIGKILL, count: children.count))
            }
        }

        /// A child that has already exited is not waited for again.
        @Test func anExitedChildIsNotWaitedFor() async throws {
            let quick = Self.sleeper("0")
            try await quick.runToExit()
            await quick.exited()
            #expect(quick.terminationStatus == 0)
        }
    }
}
