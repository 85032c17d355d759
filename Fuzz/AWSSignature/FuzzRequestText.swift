// The text form of a fuzzed AWS request (the format of AWS's SigV4 test suite `.req` files) and the client's side of
// SigV4: signing such a request correctly, as an SDK would, so the fuzzer reaches the code behind the signature.
import AWSGateway
import Foundation

/// `METHOD TARGET [HTTP/1.1]`, `Name:value` lines, an empty line, then the body.
struct FuzzRequestText {
    var request: SignedRequest
    var body: [UInt8]

    /// Parses the text; `nil` when there is no request line.
    init?(_ bytes: UnsafeRawBufferPointer) {
        var headEnd = bytes.count
        var bodyStart = bytes.count
        for index in 0..<max(0, bytes.count - 1) where bytes[index] == 0x0A && bytes[index + 1] == 0x0A {
            headEnd = index
            bodyStart = index + 2
            break
        }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd]), as: UTF8.self)
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { return nil }
        let words = lines.removeFirst().split(separator: " ")
        guard let method = words.first, words.count >= 2 else { return nil }
        let target = words.count > 2 && words.last!.hasPrefix("HTTP/")
            ? words[1..<(words.count - 1)].joined(separator: " ") : words[1...].joined(separator: " ")
        let (path, query) =
            target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
            ?? (target, "")
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        request = SignedRequest(method: String(method), path: path, query: query, headers: headers)
        body = Array(bytes[bodyStart...])
    }
}

/// The one key the harness's server knows, AWS's test-suite key, and the moment its requests are signed at.
enum FuzzSigningKey {
    static let accessKeyID = "AKIDEXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let region = "us-east-1"
    static let now = RequestAuthenticator.parseAmzDate("20150830T123600Z")!
    static let authenticator = RequestAuthenticator(
        credentials: AWSCredentialStore([AWSCredential(accessKeyID: accessKeyID, secret: secret)]), region: region)
}

/// A request signed again with the right signature for what it claims (its credential scope, signed headers,
/// date and payload hash), or `nil` when no client could sign it (no scope, no date, or it signs its own
/// signature).
struct ResignedRequest {
    var request: SignedRequest
    /// The signature the harness computed, lowercase hex.
    var signature: String
    /// The signature the request carried before.
    var original: String
    var presigned: Bool

    init?(_ request: SignedRequest, service: AWSService) {
        let items = request.queryItems
        if items["X-Amz-Algorithm"] != nil || items["X-Amz-Signature"] != nil {
            guard let credential = items["X-Amz-Credential"], let date = items["X-Amz-Date"],
                let signedText = items["X-Amz-SignedHeaders"]
            else { return nil }
            let signed = signedText.split(separator: ";").map(String.init)
            guard !signed.contains("authorization"),
                let signature = Self.sign(
                    request, credential: credential, date: date, signed: signed,
                    payloadHash: request.header("x-amz-content-sha256") ?? SignatureV4.unsignedPayload,
                    excluding: ["X-Amz-Signature"])
            else { return nil }
            // Every pair named X-Amz-Signature gets the right value (the canonical query leaves them all out).
            var pairs = request.query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
                let name = SignatureV4.percentDecode(pair.prefix { $0 != "=" })
                return name == "X-Amz-Signature" ? "X-Amz-Signature=" + signature : String(pair)
            }
            if items["X-Amz-Signature"] == nil { pairs.append("X-Amz-Signature=" + signature) }
            var resigned = request
            resigned.query = pairs.joined(separator: "&")
            self.init(
                request: resigned, signature: signature, original: items["X-Amz-Signature"] ?? "", presigned: true)
            return
        }
        // A Signature Version 2 URL goes to its own verifier, whatever the Authorization header says.
        if service == .s3, items["AWSAccessKeyId"] != nil, items["Signature"] != nil, items["Expires"] != nil {
            return nil
        }
        guard let authorization = request.header("authorization"),
            authorization.hasPrefix(SignatureV4.algorithm + " ")
        else { return nil }
        let fields = Self.fields(String(authorization.dropFirst(SignatureV4.algorithm.count + 1)))
        guard let credential = fields["Credential"], let signedText = fields["SignedHeaders"],
            !credential.contains(","), !signedText.contains(","), let date = request.header("x-amz-date")
        else { return nil }
        let signed = signedText.split(separator: ";").map(String.init)
        let payloadHash =
            request.header("x-amz-content-sha256") ?? (service == .lambda ? SignatureV4.emptyHash : "")
        guard !signed.contains("authorization"),
            let signature = Self.sign(
                request, credential: credential, date: date, signed: signed, payloadHash: payloadHash, excluding: [])
        else { return nil }
        var resigned = request
        let index = request.headers.firstIndex { $0.0.lowercased() == "authorization" }!
        resigned.headers[index].1 =
            "\(SignatureV4.algorithm) Credential=\(credential), SignedHeaders=\(signedText), Signature=\(signature)"
        self.init(request: resigned, signature: signature, original: fields["Signature"] ?? "", presigned: false)
    }

    private init(request: SignedRequest, signature: String, original: String, presigned: Bool) {
        self.request = request
        self.signature = signature
        self.original = original
        self.presigned = presigned
    }

    /// The request with its signature's last digit changed: a signature no key made.
    var tampered: SignedRequest {
        let wrong = String(signature.dropLast()) + (signature.hasSuffix("0") ? "1" : "0")
        var copy = request
        if presigned {
            copy.query = copy.query.replacingOccurrences(of: signature, with: wrong)
        } else if let index = copy.headers.firstIndex(where: { $0.0.lowercased() == "authorization" }) {
            copy.headers[index].1 = copy.headers[index].1.replacingOccurrences(of: signature, with: wrong)
        }
        return copy
    }

    /// SigV4 as a client computes it, from the scope the credential names.
    private static func sign(
        _ request: SignedRequest, credential: String, date: String, signed: [String], payloadHash: String,
        excluding: Set<String>
    ) -> String? {
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5 else { return nil }
        let key = SignatureV4.signingKey(
            secret: scope[0] == FuzzSigningKey.accessKeyID ? FuzzSigningKey.secret : "another secret",
            date: scope[1], region: scope[2], service: scope[3])
        let canonical = SignatureV4.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            signedHeaders: signed, payloadHash: payloadHash, excludingQuery: excluding)
        let text = SignatureV4.stringToSign(
            amzDate: date, scope: scope[1...].joined(separator: "/"), canonicalRequest: canonical)
        return SignatureV4.signature(text, key: key)
    }

    /// `Name=value` fields of an Authorization header, split on commas (a later field wins), as AWS reads them.
    private static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return fields
    }
}
