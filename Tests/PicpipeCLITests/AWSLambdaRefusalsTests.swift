// The Lambda API's answers to what boto3 sends it, in Lambda's own codes and words (the real boto3 against the real
// `serve`): presigned Lambda URLs, which sign the body's SHA-256 as every service but S3 does, and the refusals of
// their signatures; a qualifier in the function name that another in `Qualifier` contradicts; a LogType or a
// ClientContext Lambda would refuse; a payload that is no JSON object.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSLambdaRefusalsTests {
        /// boto3's presigned URLs for Lambda verify (until session 34 picpipe checked them with S3's UNSIGNED-PAYLOAD,
        /// so every one was InvalidSignatureException), and a URL out of its time, a URL signed with S3's rule and a
        /// request without a date are refused in Lambda's codes, not S3's AccessDenied.
        @Test func presignedURLsVerifyAndTheirRefusalsAreLambdas() async throws {
            try await AWSCLITests.withServe { gateway in
                let script = """
                    import boto3, botocore.auth, datetime, json, sys, urllib.error, urllib.request
                    from botocore.awsrequest import AWSRequest
                    endpoint, key, secret = sys.argv[1:4]
                    lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                       aws_secret_access_key=secret, region_name="us-east-1")
                    def fetch(url, method="GET", headers={}, data=None):
                        request = urllib.request.Request(url, method=method, headers=headers, data=data)
                        try:
                            with urllib.request.urlopen(request) as answer:
                                return [answer.status, None, json.loads(answer.read())]
                        except urllib.error.HTTPError as error:
                            body = json.loads(error.read())
                            return [error.code, error.headers.get("x-amzn-ErrorType"), body.get("message")]
                    out = {}
                    out["list"] = fetch(lam.generate_presigned_url("list_functions", ExpiresIn=300))
                    out["configuration"] = fetch(lam.generate_presigned_url(
                        "get_function_configuration", Params={"FunctionName": "metadata"}, ExpiresIn=300))
                    # Signed at a time of the script's choosing: 120 s ago for 60 s, and 20 minutes ahead.
                    real = botocore.auth.get_current_datetime
                    for name, shift, lifetime in [("expired", -120, 60), ("ahead", 1200, 3600)]:
                        botocore.auth.get_current_datetime = lambda: real() + datetime.timedelta(seconds=shift)
                        out[name] = fetch(lam.generate_presigned_url("list_functions", ExpiresIn=lifetime))
                    botocore.auth.get_current_datetime = real
                    # S3's rule (UNSIGNED-PAYLOAD for the body) is not Lambda's.
                    class S3Rule(botocore.auth.SigV4QueryAuth):
                        def payload(self, request):
                            return "UNSIGNED-PAYLOAD"
                    request = AWSRequest(method="GET", url=endpoint + "/2015-03-31/functions/")
                    S3Rule(lam._request_signer._credentials, "lambda", "us-east-1", expires=300).add_auth(request)
                    out["s3Rule"] = fetch(request.url)
                    out["noDate"] = fetch(
                        endpoint + "/2015-03-31/functions/metadata/invocations", method="POST", data=b"{}",
                        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=" + key
                                 + "/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00"})
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
                let list = try #require(out["list"] as? [Any], "\(out)")
                #expect(list.first as? Int == 200, "\(list)")
                let functions = ((list.last as? [String: Any])?["Functions"] as? [[String: Any]]) ?? []
                #expect(functions.map { $0["FunctionName"] as? String } == ["thumbnail", "metadata", "fetch"])
                let configuration = try #require(out["configuration"] as? [Any])
                #expect(configuration.first as? Int == 200, "\(configuration)")
                #expect((configuration.last as? [String: Any])?["FunctionName"] as? String == "metadata")

                func refusal(_ name: String) -> (status: Int?, code: String?, message: String) {
                    let answer = out[name] as? [Any] ?? []
                    return (answer.first as? Int, answer.dropFirst().first as? String, answer.last as? String ?? "")
                }
                let expired = refusal("expired")
                #expect(expired.status == 403 && expired.code == "InvalidSignatureException", "\(expired)")
                #expect(expired.message.hasPrefix("Signature expired: "), "\(expired)")
                #expect(expired.message.hasSuffix(" - 1 min.)"), "\(expired)")
                let ahead = refusal("ahead")
                #expect(ahead.status == 403 && ahead.code == "InvalidSignatureException", "\(ahead)")
                #expect(ahead.message.hasPrefix("Signature not yet current: "), "\(ahead)")
                let s3Rule = refusal("s3Rule")
                #expect(s3Rule.status == 403 && s3Rule.code == "InvalidSignatureException", "\(s3Rule)")
                let noDate = refusal("noDate")
                #expect(noDate.status == 400 && noDate.code == "IncompleteSignatureException", "\(noDate)")
                #expect(noDate.message.contains("'X-Amz-Date'"), "\(noDate)")
            }
        }
    }
}

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// Runs a boto3 script given `endpoint`, `key` and `secret`, with the Lambda client `lam` and `error(call)`,
    /// which answers `[status, code, message]` of the refusal the call met (or of its success).
    static func lambda(_ body: String, gateway: AWSServe) async throws -> [String: Any] {
        let script = """
            import base64, boto3, botocore, json, sys
            endpoint, key, secret = sys.argv[1:4]
            lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                               aws_secret_access_key=secret, region_name="us-east-1",
                               config=botocore.config.Config(retries={"max_attempts": 0}))
            def error(call):
                try:
                    answer = call()
                    return [answer["ResponseMetadata"]["HTTPStatusCode"], None, None]
                except botocore.exceptions.ClientError as failure:
                    return [failure.response["ResponseMetadata"]["HTTPStatusCode"],
                            failure.response["Error"]["Code"], failure.response["Error"]["Message"]]
            out = {}

            """ + body + "\nprint(json.dumps(out))\n"
        return try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
    }

    /// `[status, code, message]` of one answer of `lambda(_:gateway:)`.
    static func answer(_ out: [String: Any], _ name: String) -> (status: Int?, code: String?, message: String?) {
        let answer = out[name] as? [Any] ?? []
        return (answer.first as? Int, answer.dropFirst().first as? String, answer.dropFirst(2).first as? String)
    }

    /// `metadata:$LATEST` with `Qualifier=prod` is Lambda's 400 InvalidParameterValueException (until session 34 a 404
    /// ResourceNotFoundException for `metadata:prod`, a function nobody had named); the same qualifier twice is
    /// taken, and a qualifier other than `$LATEST` named both ways is still not found.
    @Test func aQualifierInTheNameMustMatchTheQualifier() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let out = try await Self.lambda(
                """
                out["dryRun"] = error(lambda: lam.invoke(
                    FunctionName="metadata:$LATEST", Qualifier="prod", InvocationType="DryRun", Payload=b""))
                out["call"] = error(lambda: lam.invoke(
                    FunctionName="metadata:$LATEST", Qualifier="prod", Payload=b"{}"))
                out["configuration"] = error(lambda: lam.get_function_configuration(
                    FunctionName="arn:aws:lambda:us-east-1:000000000000:function:thumbnail:prod", Qualifier="$LATEST"))
                out["same"] = error(lambda: lam.invoke(
                    FunctionName="metadata:$LATEST", Qualifier="$LATEST", InvocationType="DryRun", Payload=b""))
                out["sameOther"] = error(lambda: lam.invoke(
                    FunctionName="metadata:prod", Qualifier="prod", InvocationType="DryRun", Payload=b""))
                """, gateway: gateway)
            let words = "The derived qualifier from the function name does not match the specified qualifier."
            for name in ["dryRun", "call", "configuration"] {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400, "\(name): \(answer)")
                #expect(answer.code == "InvalidParameterValueException", "\(name): \(answer)")
                #expect(answer.message == words, "\(name): \(answer)")
            }
            #expect(Self.answer(out, "same").status == 204, "\(out)")
            #expect(Self.answer(out, "sameOther").code == "ResourceNotFoundException", "\(out)")
        }
    }
}

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// A LogType other than None or Tail is a validation error (ValidationException, as Lambda answers; until session 36
    /// InvalidParameterValueException), as a bad InvocationType is, and a ClientContext that
    /// is not base64, not a JSON object, or over 3,583 bytes is InvalidRequestContentException; until session 34 each
    /// was taken silently (`LogType=tail` gave no tail, and no word why). Valid ones are still taken.
    @Test func logTypeAndClientContextAreChecked() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let out = try await Self.lambda(
                """
                def dry(**options):
                    return error(lambda: lam.invoke(FunctionName="metadata", InvocationType="DryRun", Payload=b"",
                                                    **options))
                def b64(text):
                    return base64.b64encode(text.encode()).decode()
                out["logTypeFoo"] = dry(LogType="Foo")
                out["logTypeLower"] = dry(LogType="tail")
                out["notBase64"] = dry(ClientContext="!!!notbase64")
                out["notJSON"] = dry(ClientContext=b64("hello"))
                out["notObject"] = dry(ClientContext=b64("[1, 2]"))
                out["tooLarge"] = dry(ClientContext=b64(json.dumps({"custom": {"a": "x" * 6000}})))
                out["largest"] = dry(ClientContext=b64(json.dumps({"custom": {"a": "x" * 2650}})))
                out["valid"] = dry(LogType="None", ClientContext=b64(json.dumps({"custom": {"trace": "1"}})))
                out["tail"] = dry(LogType="Tail")
                out["largestSize"] = len(b64(json.dumps({"custom": {"a": "x" * 2650}})))
                """, gateway: gateway)
            for name in ["logTypeFoo", "logTypeLower"] {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400, "\(name): \(answer)")
                #expect(answer.code == "ValidationException", "\(name): \(answer)")
                #expect(answer.message?.contains("at 'logType' failed to satisfy constraint") == true, "\(answer)")
                #expect(answer.message?.contains("[None, Tail]") == true, "\(answer)")
            }
            for name in ["notBase64", "notJSON", "notObject"] {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400, "\(name): \(answer)")
                #expect(answer.code == "InvalidRequestContentException", "\(name): \(answer)")
                #expect(answer.message == "Client context must be a valid Base64-encoded JSON object.", "\(answer)")
            }
            let tooLarge = Self.answer(out, "tooLarge")
            #expect(tooLarge.status == 400 && tooLarge.code == "InvalidRequestContentException", "\(tooLarge)")
            #expect(tooLarge.message?.contains("at most 3583 bytes") == true, "\(tooLarge)")
            #expect((3500...3583).contains(out["largestSize"] as? Int ?? 0), "\(out)")
            for name in ["largest", "valid", "tail"] {
                #expect(Self.answer(out, name).status == 204, "\(name): \(out)")
            }
        }
    }
}

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// A payload that is JSON but no object (`[1,2]`, a string) is refused saying what it is and what the function
    /// takes; until session 34 in Foundation's words ("Expected to decode Dictionary<String, Any> but found an array
    /// instead").
    @Test func aPayloadThatIsNoObjectIsRefusedInJSONsWords() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let out = try await Self.lambda(
                """
                out["array"] = error(lambda: lam.invoke(FunctionName="metadata", Payload=b"[1,2]"))
                out["string"] = error(lambda: lam.invoke(FunctionName="thumbnail", InvocationType="Event",
                                                         Payload=b'"originals/ab/x.jpg"'))
                out["records"] = error(lambda: lam.invoke(FunctionName="metadata", Payload=b'{"Records": [1]}'))
                """, gateway: gateway)
            let takes = #"expected an S3 event object {"Records": [...]} or one record"#
            for (name, kind) in [("array", "a JSON array"), ("string", "a string")] {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400 && answer.code == "InvalidRequestContentException", "\(answer)")
                #expect(answer.message?.contains("the payload is \(kind); \(takes)") == true, "\(answer)")
            }
            let records = Self.answer(out, "records")
            #expect(records.status == 400 && records.code == "InvalidRequestContentException", "\(records)")
            #expect(records.message?.hasSuffix("Records.0: expected an object, not a number") == true, "\(records)")
            for name in ["array", "string", "records"] {
                let message = Self.answer(out, name).message ?? ""
                #expect(!message.contains("Expected to decode") && !message.contains("Dictionary<"), "\(message)")
            }
        }
    }
}

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// A record of a kind the function does not handle is refused before anything runs, by fetch as by thumbnail
    /// and metadata: 400 InvalidRequestContentException naming what it takes. Until session 35 fetch ran and
    /// answered 200 with an Unhandled function error.
    @Test func aRecordOfAnotherKindIsRefusedByEveryFunction() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let out = try await Self.lambda(
                """
                def record(name, key):
                    return {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                            "eventTime": "2026-12-07T00:00:00.000Z", "eventName": name,
                            "s3": {"s3SchemaVersion": "1.0", "configurationId": "picpipe",
                                   "bucket": {"name": "store", "arn": "arn:aws:s3:::store"},
                                   "object": {"key": key, "size": 1, "eTag": "0" * 64, "sequencer": "01"}}}
                s3Record = record("ObjectCreated:Put", "originals/00/" + "0" * 64 + ".jpg")
                importRecord = record("ObjectImport:URL", "https://example.com/a.jpg")
                payload = lambda record: json.dumps({"Records": [record]}).encode()
                out["fetch"] = error(lambda: lam.invoke(FunctionName="fetch", Payload=payload(s3Record)))
                out["fetchEvent"] = error(lambda: lam.invoke(FunctionName="fetch", InvocationType="Event",
                                                             Payload=payload(s3Record)))
                out["thumbnail"] = error(lambda: lam.invoke(FunctionName="thumbnail", Payload=payload(importRecord)))
                out["metadata"] = error(lambda: lam.invoke(FunctionName="metadata", Payload=payload(importRecord)))
                """, gateway: gateway)
            for name in ["fetch", "fetchEvent", "thumbnail", "metadata"] {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400 && answer.code == "InvalidRequestContentException", "\(name): \(answer)")
            }
            let fetch = Self.answer(out, "fetch").message ?? ""
            #expect(fetch.contains("ObjectImport:URL") && fetch.contains("ObjectCreated:Put"), "\(fetch)")
            // Nothing ran: no invocation of fetch is journaled.
            let events = try await PicpipeProcess.run(["events", "--store", gateway.store.path, "--function", "fetch"])
            #expect(events.status == 0 && !events.stdout.contains("ObjectCreated"), "\(events.stdout)")
        }
    }
}

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// A value outside its member's range or enum in Lambda's model is ValidationException in Lambda's words: the
    /// member named as Lambda names it and the bound crossed ("Value '901' at 'timeout' failed to satisfy
    /// constraint: Member must have value less than or equal to 900"). Until session 36 picpipe answered
    /// InvalidParameterValueException "Member must have value between 1 and 900" for 'Timeout'.
    @Test func valuesOutsideTheModelAreValidationExceptions() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let out = try await Self.lambda(
                """
                out["timeout"] = error(lambda: lam.update_function_configuration(FunctionName="thumbnail", Timeout=901))
                out["memory"] = error(lambda: lam.update_function_configuration(
                    FunctionName="thumbnail", MemorySize=10241))
                out["retries"] = error(lambda: lam.put_function_event_invoke_config(
                    FunctionName="thumbnail", MaximumRetryAttempts=3))
                out["age"] = error(lambda: lam.put_function_event_invoke_config(
                    FunctionName="thumbnail", MaximumEventAgeInSeconds=21601))
                out["type"] = error(lambda: lam.invoke(FunctionName="metadata", InvocationType="Later", Payload=b""))
                out["kept"] = lam.get_function_configuration(FunctionName="thumbnail")["Timeout"]
                """, gateway: gateway)
            let expected = [
                "timeout": "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or "
                    + "equal to 900",
                "memory": "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less "
                    + "than or equal to 10240",
                "retries": "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value "
                    + "less than or equal to 2",
                "age": "Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have "
                    + "value less than or equal to 21600",
                "type": "Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum "
                    + "value set: [Event, RequestResponse, DryRun]",
            ]
            for (name, words) in expected {
                let answer = Self.answer(out, name)
                #expect(answer.status == 400 && answer.code == "ValidationException", "\(name): \(answer)")
                #expect(answer.message == "1 validation error detected: " + words, "\(name): \(answer)")
            }
            #expect(out["kept"] as? Int != 901, "\(out)")
        }
    }
}
