// A small body the AWS listener reads whole (S3's XML documents, Lambda's JSON payloads) that the client cuts short
// is the client's error in the API's own words: S3's 400 `IncompleteBody`, Lambda's 400
// `InvalidRequestContentException`. Until session 33 a cut DeleteObjects was a 500 `InternalError` logged as "AWS
// request failed", and a cut Invoke was told its payload was over 6 MB (413).
import AWSGateway
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSCutBodyTests {
        /// The head of a SigV4-signed request whose body is not signed (`UNSIGNED-PAYLOAD`), with `fields` beside
        /// the signed ones, ending with its blank line.
        static func signedHead(
            _ method: String, _ path: String, query: String = "", service: String, port: Int, fields: [String]
        ) -> String {
            let date = RequestAuthenticator.amzDate(Date())
            let day = String(date.prefix(8))
            let scope = "\(day)/us-east-1/\(service)/aws4_request"
            let headers = [
                ("host", "127.0.0.1:\(port)"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("x-amz-date", date),
            ]
            let signed = headers.map(\.0)
            let canonical = SignatureV4.canonicalRequest(
                method: method, path: path, query: query, headers: headers, signedHeaders: signed,
                payloadHash: "UNSIGNED-PAYLOAD")
            let key = SignatureV4.signingKey(secret: AWSServe.secret, date: day, region: "us-east-1", service: service)
            let signature = SignatureV4.signature(
                SignatureV4.stringToSign(amzDate: date, scope: scope, canonicalRequest: canonical), key: key)
            let authorization =
                "AWS4-HMAC-SHA256 Credential=\(AWSServe.keyID)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), "
                + "Signature=\(signature)"
            let lines =
                ["\(method) \(path)\(query.isEmpty ? "" : "?" + query) HTTP/1.1"]
                + headers.map { "\($0.0): \($0.1)" } + ["Authorization: \(authorization)"] + fields
            return lines.joined(separator: "\r\n") + "\r\n\r\n"
        }

        /// Sends `bytes`, closes the sending side, and reads the answer to the end.
        static func cut(_ bytes: String, port: Int) throws -> String {
            let connection = try RawConnection(port: port, receiveTimeout: 20)
            connection.send(bytes)
            connection.closeSending()
            return String(decoding: connection.receive().bytes, as: UTF8.self)
        }

        @Test func aBodyCutShortIsTheClientsErrorInTheAPIsWords() async throws {
            try await AWSCLITests.withServe { gateway in
                let port = gateway.port
                // DeleteObjects: 8 of 100 bytes of its XML, then the client's end.
                let delete = try Self.cut(
                    Self.signedHead(
                        "POST", "/uploads", query: "delete", service: "s3", port: port,
                        fields: ["Content-Type: application/xml", "Content-Length: 100"]) + "<Delete>", port: port)
                #expect(delete.hasPrefix("HTTP/1.1 400 "), "\(delete)")
                #expect(
                    delete.contains("<Code>IncompleteBody</Code>") && delete.contains("8 of 100 bytes"), "\(delete)")
                #expect(delete.contains("x-amz-request-id: "), "\(delete)")
                // Invoke: 3 of 100 bytes of its JSON payload.
                let invoke = try Self.cut(
                    Self.signedHead(
                        "POST", "/2015-03-31/functions/thumbnail/invocations", service: "lambda", port: port,
                        fields: ["Content-Type: application/json", "Content-Length: 100"]) + "{\"a", port: port)
                #expect(invoke.hasPrefix("HTTP/1.1 400 "), "\(invoke)")
                #expect(invoke.contains("x-amzn-ErrorType: InvalidRequestContentException"), "\(invoke)")
                #expect(invoke.contains("3 of 100 bytes") && !invoke.contains("smaller than"), "\(invoke)")
                // The client's doing: no error line.
                let errors = gateway.serve.log.split(separator: "\n").filter { $0.contains(" error ") }
                #expect(errors.isEmpty, "\(errors)")
            }
        }
    }
}
