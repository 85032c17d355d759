// The errors of the AWS front door, as S3 (XML <Error>) and Lambda (x-amzn-ErrorType + JSON) write them.
import Foundation

/// An AWS error: the code clients switch on, the HTTP status, and a message a person can act on.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The AWS error code (`SignatureDoesNotMatch`, `NoSuchKey`, `ResourceNotFoundException`, …).
    public var code: String
    /// The HTTP status.
    public var status: Int
    /// What went wrong, naming the request's object, function or header.
    public var message: String
    /// The bucket/key or function it is about (S3's `<Resource>`), when there is one.
    public var resource: String?
    /// Lambda's `Reason` beside the message (`ReservedFunctionConcurrentInvocationLimitExceeded`), when it has one.
    public var reason: String?
    /// The elements S3 adds to some errors' `<Error>` (`Key`, `RangeRequested`, `ServerTime`, …), in order.
    public var details: [Detail] = []

    /// One element of `details`.
    public struct Detail: Sendable, Equatable {
        /// The element's name.
        public var name: String
        /// Its text.
        public var value: String
    }

    /// - Parameters: see the properties.
    public init(_ code: String, status: Int, _ message: String, resource: String? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.resource = resource
    }

    public var description: String { "\(code) (\(status)): \(message)" }

    // MARK: Authentication (both services)

    static func signatureDoesNotMatch(_ service: AWSService) -> AWSError {
        service == .lambda
            ? AWSError(
                "InvalidSignatureException", status: 403,
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                    + "Secret Access Key and signing method.")
            : AWSError(
                "SignatureDoesNotMatch", status: 403,
                "The request signature we calculated does not match the signature you provided. Check your key "
                    + "and signing method.")
    }

    static func unknownAccessKey(_ service: AWSService, _ key: String) -> AWSError {
        service == .lambda
            ? AWSError(
                "UnrecognizedClientException", status: 403,
                "The security token included in the request is invalid (access key '\(key)' is not configured in aws.credentials)."
            )
            : AWSError(
                "InvalidAccessKeyId", status: 403,
                "The AWS Access Key Id you provided does not exist in our records (access key '\(key)' is not configured in aws.credentials)."
            )
    }

    static func accessDenied(_ message: String) -> AWSError { AWSError("AccessDenied", status: 403, message) }

    /// A request time more than 15 minutes from the server's (`ahead`: later than it).
    static func skewed(_ service: AWSService, requestTime: String, now: Date, ahead: Bool) -> AWSError {
        let serverTime = HTTPDateText.amz(now)
        return service == .lambda
            ? signatureOutOfTime(
                requestTime: requestTime, now: now, allowed: Int(RequestAuthenticator.maxSkew), ahead: ahead)
            : AWSError(
                "RequestTimeTooSkewed", status: 403,
                "The difference between the request time (\(requestTime)) and the server's time (\(serverTime)) is "
                    + "more than 15 minutes."
            ).with([
                ("RequestTime", requestTime), ("ServerTime", serverTime), ("MaxAllowedSkewMilliseconds", "900000"),
            ])
    }

    /// Every AWS service but S3 refuses a signature out of its time so: "Signature expired: 20150830T123600Z is now
    /// earlier than 20150830T124600Z (20150830T125100Z - 15 min.)", and for a time too far ahead "Signature not yet
    /// current: … is still later than … (… + 15 min.)". `allowed` is the skew, or a presigned URL's X-Amz-Expires.
    static func signatureOutOfTime(requestTime: String, now: Date, allowed seconds: Int, ahead: Bool) -> AWSError {
        let bound = HTTPDateText.amz(now.addingTimeInterval(TimeInterval(ahead ? seconds : -seconds)))
        let window = seconds % 60 == 0 ? "\(seconds / 60) min." : "\(seconds) sec."
        let server = HTTPDateText.amz(now)
        return AWSError(
            "InvalidSignatureException", status: 403,
            ahead
                ? "Signature not yet current: \(requestTime) is still later than \(bound) (\(server) + \(window))"
                : "Signature expired: \(requestTime) is now earlier than \(bound) (\(server) - \(window))")
    }

    /// The error with S3's extra elements.
    func with(_ details: [(String, String)]) -> AWSError {
        var error = self
        error.details += details.map { Detail(name: $0.0, value: $0.1) }
        return error
    }

    static func malformedAuthorization(_ service: AWSService, _ message: String) -> AWSError {
        service == .lambda
            ? AWSError("IncompleteSignatureException", status: 400, message)
            : AWSError("AuthorizationHeaderMalformed", status: 400, message)
    }

    static func invalidRequest(_ message: String) -> AWSError { AWSError("InvalidRequest", status: 400, message) }
    static func invalidArgument(_ message: String) -> AWSError { AWSError("InvalidArgument", status: 400, message) }

    static func contentSHA256Mismatch(claimed: String, computed: String) -> AWSError {
        AWSError(
            "XAmzContentSHA256Mismatch", status: 400,
            "The provided 'x-amz-content-sha256' header (\(claimed)) does not match what was computed (\(computed)).")
    }

    static let keyTooLong = AWSError(
        "KeyTooLongError", status: 400, "Your key is too long (S3 keys are at most 1024 bytes of UTF-8).")

    static func badDigest(_ message: String) -> AWSError { AWSError("BadDigest", status: 400, message) }

    /// S3's refusal of aws-chunked trailing headers that do not match the request's `x-amz-trailer`.
    static func malformedTrailer(_ detail: String) -> AWSError {
        AWSError(
            "MalformedTrailerError", status: 400,
            "The request contained trailing data that was not well-formed or did not conform to our published "
                + "schema: \(detail)")
    }
    static func incompleteBody(_ message: String) -> AWSError { AWSError("IncompleteBody", status: 400, message) }

    // MARK: S3

    static func noSuchBucket(_ bucket: String) -> AWSError {
        AWSError(
            "NoSuchBucket", status: 404,
            "The specified bucket does not exist: '\(bucket)' (picpipe's buckets are uploads, originals, thumbnails).",
            resource: "/" + bucket)
    }

    static func noSuchKey(bucket: String, key: String) -> AWSError {
        AWSError("NoSuchKey", status: 404, "The specified key does not exist.", resource: "/\(bucket)/\(key)")
            .with([("Key", key)])
    }

    static func noSuchUpload(_ id: String) -> AWSError {
        AWSError(
            "NoSuchUpload", status: 404,
            "The specified upload does not exist (aborted, completed, or never created): \(id).")
    }

    static func notImplemented(_ what: String) -> AWSError {
        AWSError(
            "NotImplemented", status: 501,
            "A header or operation you provided implies functionality that is not implemented: \(what).")
    }

    static func methodNotAllowed(_ message: String) -> AWSError {
        AWSError("MethodNotAllowed", status: 405, message)
    }

    /// S3's answer to a body that stalls; here, one whose average rate fell under `http.min_upload_rate`.
    static func tooSlow(received: Int, seconds: Double, minimum: Int) -> AWSError {
        AWSError(
            "RequestTimeout", status: 400,
            "Your socket connection to the server was not read from or written to within the timeout period: the "
                + "body arrived at \(Int(Double(received) / max(seconds, 1))) bytes/s, under the minimum of \(minimum) "
                + "bytes/s (http.min_upload_rate); nothing was kept.")
    }

    static func entityTooLarge(limit: Int) -> AWSError {
        AWSError(
            "EntityTooLarge", status: 400,
            "Your proposed upload exceeds the maximum allowed size of \(limit) bytes (http.max_body_bytes / limits.max_file_bytes)."
        )
    }

    /// A part that would take its multipart upload past the object limit (counting each part number once).
    static func partTooLarge(limit: Int, number: Int, others: Int) -> AWSError {
        AWSError(
            "EntityTooLarge", status: 400,
            "Your proposed upload exceeds the maximum allowed size of \(limit) bytes (http.max_body_bytes): the "
                + "upload's other parts hold \(others) bytes, so part \(number) may have at most "
                + "\(max(0, limit - others)); nothing of it was kept.")
    }

    static func invalidRange(_ size: Int, requested: String) -> AWSError {
        AWSError("InvalidRange", status: 416, "The requested range is not satisfiable (the object has \(size) bytes).")
            .with([("RangeRequested", requested), ("ActualObjectSize", String(size))])
    }

    static let preconditionFailed = AWSError(
        "PreconditionFailed", status: 412, "At least one of the pre-conditions you specified did not hold.")

    /// `preconditionFailed` naming the header that failed, S3's `<Condition>If-Match</Condition>`.
    static func preconditionFailed(_ condition: String) -> AWSError {
        preconditionFailed.with([("Condition", condition)])
    }

    /// S3's refusal of a presigned URL past its expiry, with when it expired and the server's time (and a SigV4
    /// URL's `X-Amz-Expires`), as S3 answers it; until session 37 neither time was given.
    static func expired(_ message: String, expires: Date, now: Date, amzExpires: Int? = nil) -> AWSError {
        let format = ISO8601DateFormatter()
        return accessDenied(message).with(
            (amzExpires.map { [("X-Amz-Expires", String($0))] } ?? [])
                + [("Expires", format.string(from: expires)), ("ServerTime", format.string(from: now))])
    }

    static func invalidPart(_ message: String) -> AWSError { AWSError("InvalidPart", status: 400, message) }
    static func malformedXML(_ message: String) -> AWSError {
        AWSError(
            "MalformedXML", status: 400, "The XML you provided was not well-formed or did not validate: \(message)")
    }

    // MARK: Lambda

    static func functionNotFound(_ name: String, arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", status: 404, "Function not found: \(arn)", resource: name)
    }

    static func invalidRequestContent(_ message: String) -> AWSError {
        AWSError("InvalidRequestContentException", status: 400, message)
    }

    static func invalidParameter(_ message: String) -> AWSError {
        AWSError("InvalidParameterValueException", status: 400, message)
    }

    /// A value outside its member's constraint in Lambda's model (an enum, a range): `ValidationException`, with the
    /// model's wording and the member's name as Lambda writes it (`timeout`, `maximumRetryAttempts`). Until session
    /// 36 picpipe answered InvalidParameterValueException, which SDK code catching ValidationException missed.
    static func validation(_ value: String, member: String, constraint: String) -> AWSError {
        let name = member.prefix(1).lowercased() + member.dropFirst()
        return AWSError(
            "ValidationException", status: 400,
            "1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint: Member must "
                + constraint)
    }

    /// `validation` of a number outside `range`, in the words Lambda uses for the bound it crossed.
    static func validation(_ value: String, member: String, range: ClosedRange<Int>) -> AWSError {
        let constraint: String
        if let number = Double(value), number > Double(range.upperBound) {
            constraint = "have value less than or equal to \(range.upperBound)"
        } else if let number = Double(value), number < Double(range.lowerBound) {
            constraint = "have value greater than or equal to \(range.lowerBound)"
        } else {
            constraint = "have value between \(range.lowerBound) and \(range.upperBound)"
        }
        return validation(value, member: member, constraint: constraint)
    }

    /// Lambda's throttle of a synchronous call: every slot of the function's reserved concurrency is running.
    static func tooManyRequests(_ function: String, concurrency: Int) -> AWSError {
        var error = AWSError(
            "TooManyRequestsException", status: 429,
            "Rate Exceeded: \(function) is running \(concurrency) invocation(s), its limit (functions.\(function).reserved_concurrency, else .concurrency)."
        )
        error.reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
        return error
    }

    static func serviceUnavailable(_ service: AWSService, _ message: String) -> AWSError {
        service == .lambda
            ? AWSError("ServiceException", status: 500, message) : AWSError("ServiceUnavailable", status: 503, message)
    }
}

/// Which AWS API a request speaks; errors are written in its dialect.
public enum AWSService: String, Sendable {
    case s3
    case lambda
}
