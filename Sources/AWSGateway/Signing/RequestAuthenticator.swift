// Verifying a SigV4-signed request exactly as AWS does: the Authorization header or a presigned query, the
// credential scope, the 15-minute clock skew, the expiry of presigned URLs, and which payload promise the client made.
import Crypto
import Foundation
import Locking

/// How the body of an authenticated request must be checked while it is read.
public enum PayloadCheck: Sendable {
    /// The client did not sign the body (`UNSIGNED-PAYLOAD`, presigned URLs).
    case unsigned
    /// The body's SHA-256 must be this hex (`x-amz-content-sha256`).
    case sha256(String)
    /// An `aws-chunked` body: each chunk signed in a chain from the seed signature (`signed`), or not; with
    /// trailing headers (`trailer`) such as `x-amz-checksum-crc32`.
    case chunked(ChunkSigning?, trailer: Bool)
}

/// What chains the signatures of an `aws-chunked` body.
public struct ChunkSigning: Sendable {
    /// The request's signature, which the first chunk's signature chains to.
    public var seedSignature: String
    /// The signing key of the request's scope.
    public var key: SymmetricKey
    /// The request's `x-amz-date`.
    public var amzDate: String
    /// `date/region/service/aws4_request`.
    public var scope: String

    /// - Parameters: see the properties.
    public init(seedSignature: String, key: SymmetricKey, amzDate: String, scope: String) {
        self.seedSignature = seedSignature
        self.key = key
        self.amzDate = amzDate
        self.scope = scope
    }
}

/// A request whose signature held.
public struct Authenticated: Sendable {
    /// The key that signed it.
    public var credential: AWSCredential
    /// What the body must still prove.
    public var payload: PayloadCheck
    /// Whether it came as a presigned URL.
    public var presigned: Bool
}

/// Verifies SigV4 signatures against the configured keys.
public struct RequestAuthenticator: Sendable {
    /// The accepted keys.
    public let credentials: AWSCredentialStore
    /// The region clients must sign for.
    public let region: String
    /// Signing keys by key id, day and service: four HMACs each, the same all day.
    let signingKeys = SigningKeyCache()
    /// How far a request's time may be from the server's (AWS: 15 minutes).
    public static let maxSkew: TimeInterval = 15 * 60
    /// The longest a presigned URL may be valid (AWS: 7 days).
    public static let maxPresignedLifetime = 604_800

    /// - Parameters: see the properties.
    public init(credentials: AWSCredentialStore, region: String) {
        self.credentials = credentials
        self.region = region
    }

    /// Verifies the request's signature.
    /// - Parameters:
    ///   - request: the request.
    ///   - service: `s3` or `lambda`, the scope's service and the dialect of errors.
    ///   - bodyHash: the body's hex SHA-256 when the caller has read it already (Lambda clients sign the body
    ///     without sending `x-amz-content-sha256`); nil: taken from `x-amz-content-sha256`.
    ///   - now: the server's time.
    /// - Throws: `AWSError` with AWS's code for each failure.
    public func authenticate(
        _ request: SignedRequest, service: AWSService, bodyHash: String? = nil, now: Date = Date()
    ) throws -> Authenticated {
        let items = request.queryItems
        if items["X-Amz-Algorithm"] != nil || items["X-Amz-Signature"] != nil {
            return try authenticatePresigned(request, items: items, service: service, bodyHash: bodyHash, now: now)
        }
        if service == .s3, items["AWSAccessKeyId"] != nil, items["Signature"] != nil, items["Expires"] != nil {
            return try authenticatePresignedV2(request, items: items, now: now)
        }
        guard let authorization = request.header("authorization") else {
            if items["Signature"] != nil || items["AWSAccessKeyId"] != nil {
                throw Self.malformed(
                    .invalidArgument("Signature Version 2 is not supported; sign with Signature Version 4."), service)
            }
            throw service == .lambda
                ? AWSError("MissingAuthenticationTokenException", status: 403, "Missing Authentication Token")
                : AWSError.accessDenied(
                    "Access Denied: the request is not signed (picpipe accepts only SigV4-signed requests).")
        }
        guard authorization.hasPrefix(SignatureV4.algorithm + " ") else {
            if authorization.hasPrefix("AWS ") {
                throw Self.malformed(
                    .invalidArgument("Signature Version 2 is not supported; sign with Signature Version 4."), service)
            }
            throw AWSError.malformedAuthorization(service, "Unsupported Authorization algorithm; use AWS4-HMAC-SHA256.")
        }
        let fields = Self.authorizationFields(String(authorization.dropFirst(SignatureV4.algorithm.count + 1)))
        guard let credentialText = fields["Credential"], let signedText = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw AWSError.malformedAuthorization(
                service, "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.")
        }
        let scope = try parseScope(credentialText, service: service)
        guard let amzDate = request.header("x-amz-date") ?? request.header("date").flatMap(Self.amzDate(fromHTTPDate:)),
            let requestTime = Self.parseAmzDate(amzDate)
        else {
            throw service == .s3
                ? AWSError.accessDenied("AWS authentication requires a valid Date or x-amz-date header.")
                : AWSError.malformedAuthorization(
                    service, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard abs(requestTime.timeIntervalSince(now)) <= Self.maxSkew else {
            throw AWSError.skewed(service, requestTime: amzDate, now: now, ahead: requestTime > now)
        }
        guard amzDate.hasPrefix(scope.date) else {
            throw AWSError.malformedAuthorization(
                service, "The credential date \(scope.date) does not match the request date \(amzDate).")
        }
        if service == .s3, bodyHash == nil, request.header("x-amz-content-sha256") == nil {
            throw AWSError.invalidRequest("Missing required header for this request: x-amz-content-sha256")
        }
        let signedHeaders = signedText.split(separator: ";").map { String($0) }
        try checkSignedHeaders(signedHeaders, request: request, service: service)
        let credential = try lookup(scope.keyID, service: service)

        let payloadHash: String
        let payload: PayloadCheck
        if let bodyHash {
            payloadHash = request.header("x-amz-content-sha256") ?? bodyHash
            payload = .sha256(bodyHash)
        } else if let claimed = request.header("x-amz-content-sha256") {
            payloadHash = claimed
            payload = .unsigned  // replaced below once the signature holds
        } else if service == .s3 {
            throw AWSError.invalidRequest("Missing required header for this request: x-amz-content-sha256")
        } else {
            payloadHash = SignatureV4.emptyHash
            payload = .sha256(SignatureV4.emptyHash)
        }
        let key = signingKeys.key(credential, scope: scope)
        let canonical = SignatureV4.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: payloadHash, queryPairs: request.queryPairs,
            s3Path: service == .s3)
        let expected = SignatureV4.signature(
            SignatureV4.stringToSign(amzDate: amzDate, scope: scope.text, canonicalRequest: canonical), key: key)
        guard SignatureV4.constantTimeEqual(expected, signature.lowercased()) else {
            throw AWSError.signatureDoesNotMatch(service)
        }
        if bodyHash != nil { return Authenticated(credential: credential, payload: payload, presigned: false) }
        let chunking = ChunkSigning(seedSignature: expected, key: key, amzDate: amzDate, scope: scope.text)
        let check: PayloadCheck
        switch payloadHash {
        case SignatureV4.unsignedPayload: check = .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": check = .chunked(chunking, trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": check = .chunked(chunking, trailer: true)
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": check = .chunked(nil, trailer: true)
        default:
            guard payloadHash.count == 64, payloadHash.allSatisfy(\.isHexDigit) else {
                throw AWSError.invalidArgument(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA256 value.")
            }
            check = .sha256(payloadHash.lowercased())
        }
        return Authenticated(credential: credential, payload: check, presigned: false)
    }

    /// A presigned URL (query-string SigV4). Its refusals are S3's (`AccessDenied`, `AuthorizationQueryParametersError`)
    /// for S3 and Lambda's (`IncompleteSignatureException`, `InvalidSignatureException` "Signature expired") for
    /// Lambda; until session 34 Lambda's were S3's too.
    private func authenticatePresigned(
        _ request: SignedRequest, items: [String: String], service: AWSService, bodyHash: String?, now: Date
    ) throws -> Authenticated {
        guard items["X-Amz-Algorithm"] == SignatureV4.algorithm else {
            throw Self.malformed(.accessDenied("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"."), service)
        }
        guard let credentialText = items["X-Amz-Credential"], let amzDate = items["X-Amz-Date"],
            let signedText = items["X-Amz-SignedHeaders"], let signature = items["X-Amz-Signature"],
            let expiresText = items["X-Amz-Expires"]
        else {
            throw Self.malformed(
                .accessDenied(
                    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                        + "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."),
                service)
        }
        // S3's answers to a lifetime out of range: 400 AuthorizationQueryParametersError (it was AccessDenied).
        guard let expires = Int(expiresText) else {
            throw Self.malformed(
                AWSError("AuthorizationQueryParametersError", status: 400, "X-Amz-Expires should be a number"),
                service)
        }
        guard expires >= 1 else {
            throw Self.malformed(
                AWSError(
                    "AuthorizationQueryParametersError", status: 400, "X-Amz-Expires must be non-negative (at least 1)"),
                service)
        }
        guard expires <= Self.maxPresignedLifetime else {
            throw Self.malformed(
                AWSError(
                    "AuthorizationQueryParametersError", status: 400,
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
                service)
        }
        guard let requestTime = Self.parseAmzDate(amzDate) else {
            throw Self.malformed(
                .accessDenied("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"."), service)
        }
        if requestTime.timeIntervalSince(now) > Self.maxSkew {
            throw service == .s3
                ? AWSError.accessDenied("Request is not valid yet (X-Amz-Date \(amzDate) is in the future).")
                : AWSError.signatureOutOfTime(
                    requestTime: amzDate, now: now, allowed: Int(Self.maxSkew), ahead: true)
        }
        if now.timeIntervalSince(requestTime) > TimeInterval(expires) {
            throw service == .s3
                ? AWSError.expired(
                    "Request has expired (X-Amz-Date \(amzDate), X-Amz-Expires \(expires)).",
                    expires: requestTime.addingTimeInterval(TimeInterval(expires)), now: now, amzExpires: expires)
                : AWSError.signatureOutOfTime(requestTime: amzDate, now: now, allowed: expires, ahead: false)
        }
        let scope = try parseScope(credentialText, service: service)
        let signedHeaders = signedText.split(separator: ";").map { String($0) }
        try checkSignedHeaders(signedHeaders, request: request, service: service)
        let credential = try lookup(scope.keyID, service: service)
        let key = signingKeys.key(credential, scope: scope)
        // S3 signs a presigned URL's body as UNSIGNED-PAYLOAD. Every other service signs its SHA-256 (botocore's
        // SigV4QueryAuth; for a GET, the empty string's), so until session 34 no presigned Lambda URL verified.
        let bodyPromise = service == .s3 ? SignatureV4.unsignedPayload : bodyHash ?? SignatureV4.emptyHash
        let canonical = SignatureV4.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: request.header("x-amz-content-sha256") ?? bodyPromise,
            excludingQuery: ["X-Amz-Signature"], queryPairs: request.queryPairs, s3Path: service == .s3)
        let expected = SignatureV4.signature(
            SignatureV4.stringToSign(amzDate: amzDate, scope: scope.text, canonicalRequest: canonical), key: key)
        guard SignatureV4.constantTimeEqual(expected, signature.lowercased()) else {
            throw AWSError.signatureDoesNotMatch(service)
        }
        let payload: PayloadCheck = service == .s3 ? .unsigned : .sha256(bodyHash ?? SignatureV4.emptyHash)
        return Authenticated(credential: credential, payload: payload, presigned: true)
    }

    /// A signature's form refused: S3's own code for it (`s3`), and for every other service
    /// `IncompleteSignatureException` with the same words (until session 34 Lambda got S3's codes for these).
    static func malformed(_ s3: AWSError, _ service: AWSService) -> AWSError {
        service == .s3 ? s3 : AWSError.malformedAuthorization(service, s3.message)
    }

    /// A query-string-signed URL of Signature Version 2, the form the AWS CLI v1's `aws s3 presign` makes unless
    /// told `s3.signature_version = s3v4`: only GET and HEAD, only as presigned URLs (S3 still accepts them).
    private func authenticatePresignedV2(_ request: SignedRequest, items: [String: String], now: Date) throws
        -> Authenticated
    {
        guard request.method == "GET" || request.method == "HEAD" else {
            throw AWSError.invalidArgument(
                "Signature Version 2 URLs are accepted for GET and HEAD only; sign with Signature Version 4.")
        }
        guard let keyID = items["AWSAccessKeyId"], let signature = items["Signature"],
            let expires = items["Expires"].flatMap(Int.init)
        else {
            throw AWSError.accessDenied(
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters.")
        }
        if now.timeIntervalSince1970 > TimeInterval(expires) {
            throw AWSError.expired(
                "Request has expired (Expires \(expires)).",
                expires: Date(timeIntervalSince1970: TimeInterval(expires)), now: now)
        }
        let credential = try lookup(keyID, service: .s3)
        let amzHeaders = request.headers.filter { $0.0.lowercased().hasPrefix("x-amz-") }
            .map { ($0.0.lowercased(), SignatureV4.normalizeValue($0.1)) }
            .sorted { $0.0 < $1.0 }
            .map { "\($0.0):\($0.1)\n" }.joined()
        let subresources = request.queryPairs.filter { Self.v2Subresources.contains($0.0) }
            .sorted { $0.0 < $1.0 }
            .map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }
        let query = subresources.isEmpty ? "" : "?" + subresources.joined(separator: "&")
        // A bucket's own resource is `/bucket/` (S3's rule for virtual-hosted requests, which botocore signs for
        // path-style ones too: a presigned ListObjects URL); the path as sent is accepted as well.
        var paths = [request.path]
        if case (_?, nil) = S3API.split(request.path), !request.path.hasSuffix("/") { paths.append(request.path + "/") }
        let matched = paths.contains { path in
            let text =
                [
                    request.method, request.header("content-md5") ?? "", request.header("content-type") ?? "",
                    String(expires),
                ].joined(separator: "\n") + "\n" + amzHeaders + path + query
            let mac = HMAC<Insecure.SHA1>.authenticationCode(
                for: Data(text.utf8), using: SymmetricKey(data: Data(credential.secret.utf8)))
            return SignatureV4.constantTimeEqual(Data(mac).base64EncodedString(), signature)
        }
        guard matched else { throw AWSError.signatureDoesNotMatch(.s3) }
        return Authenticated(credential: credential, payload: .unsigned, presigned: true)
    }

    /// The query parameters Signature Version 2 signs.
    static let v2Subresources: Set<String> = [
        "acl", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment",
        "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website", "response-content-type",
        "response-content-language", "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding",
    ]

    func lookup(_ keyID: String, service: AWSService) throws -> AWSCredential {
        guard let credential = credentials.credential(for: keyID) else {
            throw AWSError.unknownAccessKey(service, keyID)
        }
        return credential
    }

    private func checkSignedHeaders(_ names: [String], request: SignedRequest, service: AWSService) throws {
        guard names.contains("host") else {
            throw AWSError.malformedAuthorization(service, "The host header must be signed (SignedHeaders lacks host).")
        }
        for name in names where name != name.lowercased() {
            throw AWSError.malformedAuthorization(service, "SignedHeaders must be lower case: \(name).")
        }
        // A header signed but not sent changes the canonical request the signature was made over: S3 answers that
        // as a signature that does not match (until session 33 it was S3's words for the opposite case).
        for name in names where request.header(name) == nil {
            var error = AWSError.signatureDoesNotMatch(service)
            error.message += " SignedHeaders names \(name), which the request does not carry."
            throw error
        }
        if service == .s3, let unsigned = Self.unsignedAmzHeaders(request, signed: names) {
            throw AWSError.accessDenied("There were headers present in the request which were not signed")
                .with([("HeadersNotSigned", unsigned.joined(separator: ", "))])
        }
    }

    /// The `x-amz-*` headers a request carries outside its signed headers, lowercased, in the order sent; nil when
    /// every one is signed. S3 refuses them (403 `AccessDenied`, `HeadersNotSigned`): a header nobody signed could
    /// otherwise be added by whoever holds the request, as `x-amz-meta-*` added to a presigned PUT URL sets the
    /// picture's metadata (until session 33 they were taken). `x-amz-content-sha256` is exempt, as in S3: its value
    /// is the canonical request's payload line, so the signature covers it either way. Headers other than
    /// `x-amz-*` (Content-Type, Content-Disposition, Cache-Control) need not be signed, as in S3: a presigned URL
    /// that must fix them signs them.
    static func unsignedAmzHeaders(_ request: SignedRequest, signed: [String]) -> [String]? {
        var unsigned: [String] = []
        for (name, _) in request.headers {
            let lower = name.lowercased()
            guard lower.hasPrefix("x-amz-"), lower != "x-amz-content-sha256", !signed.contains(lower),
                !unsigned.contains(lower)
            else { continue }
            unsigned.append(lower)
        }
        return unsigned.isEmpty ? nil : unsigned
    }

    /// `AKID/20150830/us-east-1/service/aws4_request`, checked against the region and service.
    struct Scope {
        var keyID: String
        var date: String
        var region: String
        var service: String
        var text: String { "\(date)/\(region)/\(service)/aws4_request" }
    }

    func parseScope(_ text: String, service: AWSService) throws -> Scope {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", parts[1].count == 8 else {
            throw AWSError.malformedAuthorization(
                service,
                "The credential '\(text)' is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
            )
        }
        guard parts[2] == region else {
            throw AWSError.malformedAuthorization(
                service,
                "The authorization header is malformed; the region '\(parts[2])' is wrong; expecting '\(region)' (aws.region)."
            )
        }
        guard parts[3] == service.rawValue else {
            throw AWSError.malformedAuthorization(
                service, "The credential scope names the service '\(parts[3])'; expecting '\(service.rawValue)'.")
        }
        return Scope(keyID: parts[0], date: parts[1], region: parts[2], service: parts[3])
    }

    static func authorizationFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return fields
    }

    // MARK: Dates

    /// `yyyyMMdd'T'HHmmss'Z'` of a time.
    public static func amzDate(_ date: Date) -> String { HTTPDateText.amz(date) }

    /// Parses `yyyyMMdd'T'HHmmss'Z'`.
    public static func parseAmzDate(_ text: String) -> Date? { HTTPDateText.parseAmz(text) }

    /// An RFC 1123 `Date` header as `x-amz-date` text.
    static func amzDate(fromHTTPDate text: String) -> String? {
        HTTPDateText.parse(text).map(amzDate)
    }
}

/// Derived signing keys, kept per (key id, secret, scope); a day's keys replace the previous day's.
final class SigningKeyCache: Sendable {
    private let keys = Locked<[String: SymmetricKey]>([:])

    func key(_ credential: AWSCredential, scope: RequestAuthenticator.Scope) -> SymmetricKey {
        let name = "\(credential.accessKeyID)\u{0}\(credential.secret)\u{0}\(scope.text)"
        if let known = keys.withLock({ $0[name] }) { return known }
        let key = SignatureV4.signingKey(
            secret: credential.secret, date: scope.date, region: scope.region, service: scope.service)
        keys.withLock { keys in
            if keys.count > 1024 { keys.removeAll() }
            keys[name] = key
        }
        return key
    }
}
