// scripts/setup.sh builds the release binary the README's examples use, unless told not to (CI).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct SetupScriptTests {
        /// Runs the script in dry-run mode: it prints its steps instead of running them.
        static func steps(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [PicpipeProcess.packageRoot.appendingPathComponent("scripts/setup.sh").path] + arguments
            var env = ProcessInfo.processInfo.environment
            env["PICPIPE_SETUP_DRY_RUN"] = "1"
            env.removeValue(forKey: "PICPIPE_SETUP_RELEASE")
            for (key, value) in environment { env[key] = value }
            process.environment = env
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        @Test func buildsTheReleaseBinaryByDefault() throws {
            let (status, output) = try Self.steps([])
            #expect(status == 0)
            #expect(output.contains("+ swift build --build-tests"))
            #expect(output.contains("+ swift build -c release --static-swift-stdlib --product picpipe"))
            #expect(output.contains(".build/release"))  // how to put it on the PATH
        }

        @Test func skipsTheReleaseBuildWhenToldTo() throws {
            for (arguments, environment) in [(["--no-release"], [:]), ([], ["PICPIPE_SETUP_RELEASE": "0"])] {
                let (status, output) = try Self.steps(arguments, environment: environment)
                #expect(status == 0)
                #expect(output.contains("+ swift build --build-tests"))
                #expect(!output.contains("-c release"))
            }
            let (status, _) = try Self.steps(["--bogus"])
            #expect(status == 2)
        }

        @Test func ciSkipsTheReleaseBuild() throws {
            let ci = try String(
                contentsOf: PicpipeProcess.packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
            #expect(ci.contains("setup.sh --no-release"))
        }
    }
}
