// S3's POST Object, as boto3's generate_presigned_post makes the form and a browser or a script posts it, against the
// real `serve`: the upload becomes an original with its thumbnails, its metadata and an ObjectCreated:Post event;
// what the policy does not allow is refused in S3's words and leaves nothing in the store.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSFormUploadTests {
        static let script = """
            import boto3, hashlib, json, sys, time, http.client, urllib.parse
            from botocore.config import Config
            from urllib3 import encode_multipart_formdata
            endpoint, key, secret, picture_path = sys.argv[1:5]
            picture = open(picture_path, "rb").read()
            s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                              region_name="us-east-1", config=Config(signature_version="s3v4"))

            def post(form, body=picture, file_name="holiday.jpg", url=None, extra=()):
                fields = list(form["fields"].items()) + list(extra) + [("file", (file_name, body, "image/jpeg"))]
                data, content_type = encode_multipart_formdata(fields)
                target = urllib.parse.urlsplit(url or form["url"])
                connection = http.client.HTTPConnection(target.hostname, target.port)
                connection.request("POST", target.path, body=data, headers={"Content-Type": content_type})
                answer = connection.getresponse()
                return [answer.status, answer.read().decode(), answer.getheader("Location"), answer.getheader("ETag")]

            out = {"md5": [hashlib.md5(picture + b"\\0" * n).hexdigest() for n in range(3)]}
            allowed = s3.generate_presigned_post(
                "uploads", "form/${filename}",
                Fields={"success_action_status": "201", "Content-Type": "image/jpeg", "x-amz-meta-camera": "x100"},
                Conditions=[["starts-with", "$key", "form/"], {"success_action_status": "201"},
                            ["starts-with", "$Content-Type", "image/"], {"x-amz-meta-camera": "x100"},
                            ["content-length-range", 1, 10000000]],
                ExpiresIn=300)
            out["created"] = post(allowed)
            redirect = s3.generate_presigned_post(
                "uploads", "form/redirected.jpg", Fields={"success_action_redirect": "http://example.test/done?x=1"},
                Conditions=[{"success_action_redirect": "http://example.test/done?x=1"}])
            out["redirected"] = post(redirect, body=picture + b"\\0")
            out["plain"] = post(s3.generate_presigned_post("uploads", "form/plain.jpg"), body=picture + b"\\0\\0")

            # Refusals.
            narrow = s3.generate_presigned_post("uploads", "form/${filename}",
                                                Conditions=[["starts-with", "$key", "form/"],
                                                            ["content-length-range", 1, 100]])
            out["tooLarge"] = post(narrow)
            outside = dict(narrow, fields=dict(narrow["fields"], key="elsewhere/x.jpg"))
            out["keyOutside"] = post(outside)
            out["extraField"] = post(narrow, extra=[("x-amz-meta-owner", "mallory")])
            tampered = dict(narrow, fields=dict(narrow["fields"], policy=narrow["fields"]["policy"][:-4] + "AAA="))
            out["tampered"] = post(tampered)
            stranger = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="NOBODY",
                                    aws_secret_access_key=secret, region_name="us-east-1",
                                    config=Config(signature_version="s3v4"))
            out["unknownKey"] = post(stranger.generate_presigned_post("uploads", "form/x.jpg"))
            out["readOnlyBucket"] = post(s3.generate_presigned_post("thumbnails", "form/x.jpg"))
            out["notAPicture"] = post(s3.generate_presigned_post("uploads", "form/notes.jpg"), body=b"just text")
            short = s3.generate_presigned_post("uploads", "form/late.jpg", ExpiresIn=1)
            time.sleep(2.2)
            out["expired"] = post(short)
            print(json.dumps(out))
            """

        @Test func formUploadsFollowTheirPolicy() async throws {
            try await AWSCLITests.withServe { gateway in
                let store = gateway.store
                let bytes = try AWSCLITests.jpeg(seed: 31)
                let file = gateway.root.appendingPathComponent("holiday.jpg")
                try Data(bytes).write(to: file)
                let out = try await AWSThrottleAndListingTests.boto3(Self.script, [file.path], gateway: gateway)
                let hash = AWSCLITests.hash(bytes)
                let md5s = try #require(out["md5"] as? [String])
                let md5 = "\"\(md5s[0])\""

                // 201: S3's PostResponse; the Location is where the object now is: the original.
                let created = try #require(out["created"] as? [Any])
                #expect(created[0] as? Int == 201, "\(created)")
                let xml = try #require(created[1] as? String)
                #expect(
                    xml.contains("<Bucket>uploads</Bucket>") && xml.contains("<Key>form/holiday.jpg</Key>"), "\(xml)")
                #expect(xml.contains("<ETag>&quot;\(md5.dropFirst().dropLast())&quot;</ETag>"), "\(xml)")
                let original = AWSCLITests.originalKey(hash)
                #expect(created[2] as? String == "\(gateway.endpoint)/originals/\(original)")
                #expect(created[3] as? String == md5)
                let stored = try Data(contentsOf: store.appendingPathComponent("originals/\(original)"))
                #expect(Array(stored) == bytes)
                let head = try await gateway.awsJSON([
                    "s3api", "head-object", "--bucket", "originals", "--key", original,
                ])
                #expect(head["ContentType"] as? String == "image/jpeg")
                #expect(head["Metadata"] as? [String: String] == ["camera": "x100"], "\(head)")

                // 303 to the form's page, with the bucket, key and ETag; 204 by default.
                let redirected = try #require(out["redirected"] as? [Any])
                #expect(redirected[0] as? Int == 303, "\(redirected)")
                let redirectMD5 = md5s[1]
                #expect(
                    redirected[2] as? String
                        == "http://example.test/done?x=1&bucket=uploads&key=form%2Fredirected.jpg&etag=%22\(redirectMD5)%22"
                )
                let plain = try #require(out["plain"] as? [Any])
                #expect(plain[0] as? Int == 204 && plain[3] as? String == "\"\(md5s[2])\"")

                // Each upload is a picture in the pipeline, its event named as S3 names a form's.
                try await ServeProcess.eventually("the three form uploads processed") {
                    try await StoreView.processed(store)
                        .isSuperset(of: ["form/holiday.jpg", "form/redirected.jpg", "form/plain.jpg"])
                }
                let events = try await StoreView.events(store)
                #expect(
                    events.filter { $0.sourceName == "form/holiday.jpg" }.allSatisfy {
                        $0.eventName == "ObjectCreated:Post"
                    })
                #expect(ServeProcess.files(store, "thumbnails").filter { $0.contains(hash) }.count == 3)

                // What the policy does not allow.
                func refusal(_ name: String, _ status: Int, _ code: String, _ words: String) throws {
                    let answer = try #require(out[name] as? [Any], "\(name)")
                    #expect(answer[0] as? Int == status, "\(name): \(answer)")
                    let body = answer[1] as? String ?? ""
                    #expect(body.contains("<Code>\(code)</Code>"), "\(name): \(body)")
                    #expect(body.contains(words), "\(name): \(body)")
                }
                try refusal("tooLarge", 400, "EntityTooLarge", "content-length-range allows 1 to 100 bytes")
                try refusal(
                    "keyOutside", 403, "AccessDenied",
                    "Policy Condition failed: [&quot;starts-with&quot;, &quot;$key&quot;, &quot;form/&quot;]")
                try refusal("extraField", 403, "AccessDenied", "Extra input fields: x-amz-meta-owner")
                try refusal("tampered", 403, "SignatureDoesNotMatch", "signature")
                try refusal("unknownKey", 403, "InvalidAccessKeyId", "NOBODY")
                try refusal("readOnlyBucket", 403, "AccessDenied", "thumbnails is read-only")
                try refusal("notAPicture", 400, "InvalidArgument", "uploads/form/notes.jpg is not a JPEG")
                try refusal("expired", 403, "AccessDenied", "Policy expired")
                // Nothing of them is in the store: three originals, no temporary file left in uploads.
                #expect(ServeProcess.files(store, "originals").count == 3, "\(ServeProcess.files(store, "originals"))")
                #expect(ServeProcess.files(store, "uploads").isEmpty, "\(ServeProcess.files(store, "uploads"))")
                let refusedNames: Set<String> = ["form/x.jpg", "elsewhere/x.jpg", "form/notes.jpg", "form/late.jpg"]
                #expect(try await StoreView.events(store).allSatisfy { !refusedNames.contains($0.sourceName ?? "") })
            }
        }
    }
}

extension PicpipeCLI.AWSFormUploadTests {
    /// `aws.cors_origins` is the buckets' CORS rule: GetBucketCors reports it, preflights from its origins are
    /// answered (they carry no signature and were refused as unsigned), others get S3's AccessForbidden, answers
    /// carry the CORS fields. PutBucketCors and PutBucketAcl say they are not implemented; they were answered
    /// BucketAlreadyOwnedByYou, as if they were a CreateBucket.
    @Test func corsRuleIsReportedAndPreflightsAnswered() async throws {
        try await PicpipeCLI.AWSCLITests.withServe(environment: ["PICPIPE_AWS_CORS_ORIGINS": "https://shop.example"]) {
            gateway in
            let script = """
                import boto3, json, sys, urllib.request, urllib.error
                endpoint, key, secret = sys.argv[1:4]
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                  region_name="us-east-1")
                out = {"rules": s3.get_bucket_cors(Bucket="uploads")["CORSRules"]}
                for name, call in [("putCors", lambda: s3.put_bucket_cors(Bucket="uploads", CORSConfiguration={
                                       "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})),
                                   ("putAcl", lambda: s3.put_bucket_acl(Bucket="uploads", ACL="private"))]:
                    try:
                        call()
                        out[name] = "accepted"
                    except s3.exceptions.ClientError as error:
                        out[name] = error.response["Error"]["Code"]
                def ask(origin, method):
                    request = urllib.request.Request(endpoint + "/uploads/x.jpg", method="OPTIONS", headers={
                        "Origin": origin, "Access-Control-Request-Method": method,
                        "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-content-sha256"})
                    try:
                        answer = urllib.request.urlopen(request)
                        return [answer.status, dict(answer.headers)]
                    except urllib.error.HTTPError as error:
                        return [error.code, error.read().decode()]
                out["allowed"] = ask("https://shop.example", "PUT")
                out["otherOrigin"] = ask("https://evil.example", "PUT")
                out["otherMethod"] = ask("https://shop.example", "PATCH")
                url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": "originals"})
                answer = urllib.request.urlopen(urllib.request.Request(url, headers={"Origin": "https://shop.example"}))
                out["listed"] = [answer.status, answer.headers.get("Access-Control-Allow-Origin"),
                                 answer.headers.get("Access-Control-Expose-Headers"), answer.headers.get("Vary")]
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
            let rules = try #require(out["rules"] as? [[String: Any]])
            #expect(rules.count == 1)
            #expect(rules.first?["AllowedOrigins"] as? [String] == ["https://shop.example"])
            #expect(rules.first?["AllowedMethods"] as? [String] == ["GET", "HEAD", "PUT", "POST", "DELETE"])
            #expect((rules.first?["ExposeHeaders"] as? [String])?.contains("ETag") == true)
            #expect(out["putCors"] as? String == "NotImplemented" && out["putAcl"] as? String == "NotImplemented")
            let allowed = try #require(out["allowed"] as? [Any])
            #expect(allowed[0] as? Int == 200, "\(allowed)")
            let fields = try #require(allowed[1] as? [String: String])
            #expect(fields["Access-Control-Allow-Origin"] == "https://shop.example")
            #expect(fields["Access-Control-Allow-Methods"]?.contains("PUT") == true)
            #expect(fields["Access-Control-Allow-Headers"] == "authorization,x-amz-date,x-amz-content-sha256")
            for name in ["otherOrigin", "otherMethod"] {
                let refused = try #require(out[name] as? [Any])
                #expect(refused[0] as? Int == 403, "\(name): \(refused)")
                #expect((refused[1] as? String)?.contains("<Code>AccessForbidden</Code>") == true, "\(refused)")
            }
            let listed = try #require(out["listed"] as? [Any])
            #expect(listed[0] as? Int == 200 && listed[1] as? String == "https://shop.example", "\(listed)")
            #expect((listed[2] as? String)?.contains("ETag") == true && listed[3] as? String == "Origin")
        }
    }
}

extension PicpipeCLI.AWSFormUploadTests {
    /// `http.min_upload_rate` holds for the S3 listener too: a PutObject body, or a form's fields before any
    /// signature is checked, trickled a byte a second (never idle long enough for the idle timeout) is cut with S3's
    /// RequestTimeout and the connection closed. Both held an upload slot for as long as the client liked; a form
    /// did so without a signature. Nothing is left in the store.
    @Test func tricklingBodiesAreCut() async throws {
        try await PicpipeCLI.AWSCLITests.withServe(environment: ["PICPIPE_MIN_UPLOAD_RATE": "2000"]) { gateway in
            let script = """
                import boto3, json, socket, sys, threading, time, urllib.parse
                from botocore.config import Config
                endpoint, key, secret = sys.argv[1:4]
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                  region_name="us-east-1", config=Config(signature_version="s3v4"))
                put = urllib.parse.urlsplit(s3.generate_presigned_url(
                    "put_object", Params={"Bucket": "uploads", "Key": "slow.jpg"}, ExpiresIn=300))
                heads = {
                    "put": "PUT %s?%s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Length: 100000\\r\\n\\r\\n"
                           % (put.path, put.query, put.netloc),
                    "form": "POST /uploads HTTP/1.1\\r\\nHost: %s\\r\\nContent-Type: multipart/form-data; boundary=b\\r\\n"
                            "Content-Length: 100000\\r\\n\\r\\n--b\\r\\nContent-Disposition: form-data; name=\\"key\\"\\r\\n\\r\\n"
                            % put.netloc,
                }
                out = {}
                def trickle(name):
                    connection = socket.create_connection((put.hostname, put.port))
                    connection.settimeout(1)
                    connection.sendall(heads[name].encode())
                    answer, start = b"", time.time()
                    while time.time() - start < 60:
                        try:
                            connection.sendall(b"a")
                        except OSError:
                            pass
                        try:
                            data = connection.recv(65536)
                            if not data:
                                break
                            answer += data
                        except socket.timeout:
                            continue
                        except OSError:
                            break  # reset: the server closed after its answer while a byte was on its way
                    out[name] = [answer.decode(errors="replace"), time.time() - start < 60]
                    connection.close()
                threads = [threading.Thread(target=trickle, args=(name,)) for name in heads]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
            for name in ["put", "form"] {
                let answer = try #require(out[name] as? [Any], "\(name)")
                let text = answer[0] as? String ?? ""
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(name): \(text)")
                #expect(
                    text.contains("<Code>RequestTimeout</Code>") && text.contains("http.min_upload_rate"), "\(text)")
                #expect(answer[1] as? Bool == true, "\(name): the server closed the connection")
            }
            #expect(
                ServeProcess.files(gateway.store, "uploads").isEmpty, "\(ServeProcess.files(gateway.store, "uploads"))")
            #expect(ServeProcess.files(gateway.store, "originals").isEmpty)
        }
    }
}

extension PicpipeCLI.AWSFormUploadTests {
    /// A PutObject body, or a form, that stops dead after its first bytes is cut with S3's RequestTimeout once its
    /// average falls under `http.min_upload_rate` (10 s here), without another byte: the rate is checked on a timer.
    /// Until session 32 it was checked only when bytes arrived, so a stopped body waited for the idle timeout (30 s)
    /// and was closed without an answer, holding its upload slot.
    @Test func stoppedBodiesAreCut() async throws {
        try await PicpipeCLI.AWSCLITests.withServe(environment: ["PICPIPE_IDLE_TIMEOUT": "60"]) { gateway in
            let script = """
                import boto3, json, socket, sys, threading, time, urllib.parse
                from botocore.config import Config
                endpoint, key, secret = sys.argv[1:4]
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                  region_name="us-east-1", config=Config(signature_version="s3v4"))
                put = urllib.parse.urlsplit(s3.generate_presigned_url(
                    "put_object", Params={"Bucket": "uploads", "Key": "stopped.jpg"}, ExpiresIn=300))
                heads = {
                    "put": "PUT %s?%s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Length: 100000\\r\\n\\r\\n\\xff\\xd8\\xff\\xe0"
                           % (put.path, put.query, put.netloc),
                    "form": "POST /uploads HTTP/1.1\\r\\nHost: %s\\r\\nContent-Type: multipart/form-data; boundary=b\\r\\n"
                            "Content-Length: 100000\\r\\n\\r\\n--b\\r\\nContent-Disposition: form-data; name=\\"key\\"\\r\\n\\r\\n"
                            % put.netloc,
                }
                out = {}
                def stop(name):
                    connection = socket.create_connection((put.hostname, put.port))
                    connection.settimeout(30)
                    connection.sendall(heads[name].encode("latin-1"))
                    answer = b""
                    try:
                        while True:
                            data = connection.recv(65536)
                            if not data:
                                break
                            answer += data
                    except OSError:
                        pass
                    out[name] = answer.decode(errors="replace")
                    connection.close()
                threads = [threading.Thread(target=stop, args=(name,)) for name in heads]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [], gateway: gateway)
            for name in ["put", "form"] {
                let text = out[name] as? String ?? ""
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(name): \(text)")
                #expect(
                    text.contains("<Code>RequestTimeout</Code>") && text.contains("http.min_upload_rate"), "\(text)")
            }
            #expect(
                ServeProcess.files(gateway.store, "uploads").isEmpty, "\(ServeProcess.files(gateway.store, "uploads"))")
        }
    }
}
