// The real AWS CLI against the real `serve`: a function's event invoke config can be deleted, which gives the
// configuration file's retries and event age back (until session 28 only removing functions.json by hand did).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSLambdaSettingsTests {
        @Test func deletingTheEventInvokeConfigGivesTheConfigurationBack() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let get = ["lambda", "get-function-event-invoke-config", "--function-name", "thumbnail"]
                // Never configured: Lambda's 404, not settings dated 1970.
                let never = try await gateway.aws(get)
                #expect(never.status != 0)
                #expect(never.stderr.contains("ResourceNotFoundException"), "\(never.stderr)")
                #expect(never.stderr.contains("doesn't have an EventInvokeConfig"), "\(never.stderr)")

                let put = try await gateway.awsJSON([
                    "lambda", "put-function-event-invoke-config", "--function-name", "thumbnail",
                    "--maximum-retry-attempts", "0",
                ])
                #expect(put["MaximumRetryAttempts"] as? Int == 0)
                #expect((put["LastModified"] as? Double ?? 0) > 0)
                let saved = gateway.store.appendingPathComponent("db/lambda/functions.json")
                #expect(String(decoding: try Data(contentsOf: saved), as: UTF8.self).contains("max_retries"))

                let delete = try await gateway.aws([
                    "lambda", "delete-function-event-invoke-config", "--function-name", "thumbnail",
                ])
                #expect(delete.status == 0, "\(delete.stderr)")
                #expect(!String(decoding: try Data(contentsOf: saved), as: UTF8.self).contains("max_retries"))
                let after = try await gateway.aws(get)
                #expect(after.stderr.contains("ResourceNotFoundException"), "\(after.stderr)")
                let again = try await gateway.aws([
                    "lambda", "delete-function-event-invoke-config", "--function-name", "thumbnail",
                ])
                #expect(again.stderr.contains("ResourceNotFoundException"), "\(again.stderr)")

                // A reload keeps it deleted.
                gateway.serve.signal(SIGHUP)
                try await ServeProcess.eventually("reloaded") { gateway.serve.log.contains("configuration reloaded") }
                let reloaded = try await gateway.aws(get)
                #expect(reloaded.stderr.contains("ResourceNotFoundException"), "\(reloaded.stderr)")
            }
        }
    }
}
