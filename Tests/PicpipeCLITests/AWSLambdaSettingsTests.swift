// The real AWS CLI against the real `serve`: a function's event invoke config can be deleted, which gives the
// configuration file's retries and event age back (until session 28 only removing functions.json by hand did);
// GetAccountSettings answers what deploy tools read; an operation picpipe lacks is 501 under any API version.
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

        /// A function never updated through the API answered `LastModified: 1970-01-01T00:00:00.000+0000` until
        /// session 35: it is when serve loaded its configuration, in Lambda's format.
        @Test func lastModifiedIsARealTime() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let started = Date()
                let configuration = try await gateway.awsJSON([
                    "lambda", "get-function-configuration", "--function-name", "metadata",
                ])
                let text = try #require(configuration["LastModified"] as? String, "\(configuration)")
                #expect(text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000/) != nil, "\(text)")
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let date = try #require(formatter.date(from: text.replacingOccurrences(of: "+0000", with: "Z")))
                #expect(abs(date.timeIntervalSince(started)) < 600, "\(text)")
            }
        }

        @Test func accountSettingsAreAnswered() async throws {
            try await PicpipeCLI.AWSCLITests.withServe { gateway in
                let settings = try await gateway.awsJSON(["lambda", "get-account-settings"])
                let limit = try #require(settings["AccountLimit"] as? [String: Any])
                let usage = try #require(settings["AccountUsage"] as? [String: Any])
                #expect(usage["FunctionCount"] as? Int == 3)
                var concurrency = 0
                for name in ["thumbnail", "metadata", "fetch"] {
                    let function = try await gateway.awsJSON([
                        "lambda", "get-function-concurrency", "--function-name", name,
                    ])
                    concurrency += function["ReservedConcurrentExecutions"] as? Int ?? 0
                }
                #expect(limit["ConcurrentExecutions"] as? Int == concurrency)
                #expect((limit["TotalCodeSize"] as? Int ?? 0) > 0)
                // An operation picpipe lacks outside /functions: 501, as every other one it lacks.
                let script = """
                    import boto3, json, sys, botocore
                    endpoint, key, secret = sys.argv[1:4]
                    lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                       aws_secret_access_key=secret, region_name="us-east-1")
                    try:
                        lam.list_event_source_mappings()
                        print(json.dumps({"status": 200}))
                    except botocore.exceptions.ClientError as e:
                        print(json.dumps({"status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                                          "code": e.response["Error"]["Code"]}))
                    """
                let missing = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
                #expect(missing["code"] as? String == "UnknownOperationException")
                #expect(missing["status"] as? Int == 501)
            }
        }
    }
}
