// schemathesis (PyPI) against the live OpenAPI document of a real `serve`: every operation, with and without a key and
// from a web page's origin (CORS on), its stateful phase, over pictures stored under the ids schemathesis is given;
// zero failures of any check, and the metadata and thumbnail routes reached in every run (scripts/api-conformance.sh).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct APIConformanceTests {
        /// The virtual environment `.ci/run` installs schemathesis into (or `PICPIPE_TEST_VENV`).
        static var venv: URL {
            if let path = ProcessInfo.processInfo.environment["PICPIPE_TEST_VENV"] { return URL(fileURLWithPath: path) }
            return PicpipeProcess.packageRoot.appendingPathComponent(".build-venv")
        }

        @Test func schemathesisFindsNothingAgainstTheLiveDocument() async throws {
            let schemathesis = Self.venv.appendingPathComponent("bin/schemathesis")
            guard FileManager.default.isExecutableFile(atPath: schemathesis.path) else {
                // In CI a missing tool is a failure, never a skip.
                #expect(
                    ProcessInfo.processInfo.environment["CI"] != "true",
                    "schemathesis is not installed in \(Self.venv.path); .ci/run installs it")
                print("skipped: schemathesis is not installed in \(Self.venv.path) (pip install 'schemathesis>=4,<5')")
                return
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [
                PicpipeProcess.packageRoot.appendingPathComponent("scripts/api-conformance.sh").path,
                PicpipeProcess.binary.path, "40",
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["PICPIPE_TEST_VENV"] = Self.venv.path
            environment.removeValue(forKey: "PICPIPE_STORE")
            environment.removeValue(forKey: "PICPIPE_CONFIG")
            process.environment = environment
            let log = FileManager.default.temporaryDirectory.appendingPathComponent(
                "schemathesis-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: log) }
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try await process.runToExit(timeout: 1800)
            try handle.close()
            let output = try String(contentsOf: log, encoding: .utf8)
            let summaries = output.split(separator: "\n").filter { $0.contains(" generated, ") }
            print("schemathesis: " + summaries.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; "))
            #expect(process.terminationStatus == 0, "\(output.suffix(6000))")
            #expect(summaries.count == 3, "every run (no key, key, CORS) reported")
            // Each run's 2xx answers of the metadata and thumbnail routes (with random ids they are 404s).
            let reached = output.split(separator: "\n").filter { $0.contains("reached (") }
            print("schemathesis: " + reached.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; "))
            #expect(reached.count == 3, "every run says what it reached")
            #expect(!reached.contains { $0.contains(" 0") }, "\(reached)")
        }
    }
}
