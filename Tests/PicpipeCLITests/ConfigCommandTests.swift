// `picpipe config` and configuration errors as a user meets them: typos refused with a suggestion, syntax errors
// with a line and column, the subcommand's usage, secrets redacted.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct ConfigCommandTests {
        static func file(_ text: String, in folder: URL, name: String = "picpipe.yaml") throws -> URL {
            let url = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url
        }

        @Test func aMistypedKeyIsRefusedWithADidYouMean() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let config = try Self.file("functions:\n  thumbnail:\n    timeot: 10\n", in: work)
            let run = try await PicpipeProcess.run(["config", "--config", config.path])
            #expect(run.status == 2)
            #expect(run.stderr.contains("functions.thumbnail.timeot"))
            #expect(run.stderr.contains("did you mean 'functions.thumbnail.timeout'"))
            #expect(run.stderr.contains("line 3"))
        }

        @Test func aMistypedVariableIsRefusedWithADidYouMean() async throws {
            let run = try await PicpipeProcess.run(["config"], environment: ["PICPIPE_THUMBANIL_SIZES": "64"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("PICPIPE_THUMBANIL_SIZES"))
            #expect(run.stderr.contains("did you mean PICPIPE_THUMBNAIL_SIZES"))
            // Every command checks, also those that read no configuration file.
            let query = try await PicpipeProcess.run(
                ["query", "--store", "/nonexistent"], environment: ["PICPIPE_STOR": "x"])
            #expect(query.status == 2)
            #expect(query.stderr.contains("did you mean PICPIPE_STORE"))
            let fine = try await PicpipeProcess.run(["config"], environment: ["PICPIPE_TEST_SOMETHING": "1"])
            #expect(fine.status == 0, "\(fine.stderr)")
        }

        @Test func brokenYAMLGivesLineColumnAndTheSubcommandsUsage() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let config = try Self.file("store: ./a\nthumbnails:\n  sizes: [1, 2\n", in: work, name: "broken.yaml")
            let run = try await PicpipeProcess.run(["batch", work.path, "--config", config.path])
            #expect(run.status == 2)
            #expect(run.stderr.contains("broken.yaml"))
            #expect(run.stderr.contains("line "))
            #expect(run.stderr.contains("column "))
            #expect(run.stderr.contains("Usage: picpipe batch"))
            #expect(run.stderr.contains("picpipe batch --help"))
            #expect(!run.stderr.contains("SUBCOMMANDS"))
        }

        @Test func secretsAreRedactedUnlessAsked() async throws {
            // The database URL's password, and its password= and sslpassword= parameters, are secrets too.
            let environment = [
                "PICPIPE_API_KEYS": "key-one,key-two", "PICPIPE_SIGNING_KEY": "sign-me-with-this-key",
                "PICPIPE_DATABASE_URL": "postgres://u:pass-one@db/pics?sslpassword=pass-two&password=pass-three",
            ]
            let secrets = ["key-one", "sign-me-with-this-key", "pass-one", "pass-two", "pass-three"]
            let run = try await PicpipeProcess.run(["config"], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(secrets.allSatisfy { !run.stdout.contains($0) }, "\(run.stdout)")
            #expect(run.stdout.contains("<redacted>"))
            #expect(run.stdout.contains("postgres://u:<redacted>@db/pics?sslpassword=<redacted>&password=<redacted>"))
            let json = try await PicpipeProcess.run(["config", "--json"], environment: environment)
            #expect(secrets.allSatisfy { !json.stdout.contains($0) }, "\(json.stdout)")
            let shown = try await PicpipeProcess.run(["config", "--show-secrets"], environment: environment)
            #expect(secrets.allSatisfy { shown.stdout.contains($0) }, "\(shown.stdout)")
        }

        @Test func helpListsEveryVariable() async throws {
            let run = try await PicpipeProcess.run(["config", "--help"])
            for variable in [
                "PICPIPE_THUMBNAIL_FIT", "PICPIPE_THUMBNAIL_BACKGROUND", "PICPIPE_WATCHER_RESCAN_INTERVAL",
                "PICPIPE_FUNCTIONS_METADATA_ON_FAILURE", "PICPIPE_CONFIG", "PICPIPE_STORE",
            ] {
                #expect(run.stdout.contains(variable), "\(variable)")
            }
        }
    }
}
