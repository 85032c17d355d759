// S3's conditional deletes: DeleteObject's If-Match and a DeleteObjects `<Object>`'s `<ETag>`, held against the
// object the key names as GetObject would answer it. Until session 37 both were ignored, so a delete meant for an
// object that had changed, or for one that was not there, deleted the picture anyway.
import HTTPTypes
import Hummingbird

/// What a conditional delete requires of the object before it goes.
struct S3DeleteCondition: Sendable, Equatable {
    /// The ETag the object must have (quoted or not, a list of them), or `*`: any object, so long as there is one.
    var ifMatch: String

    /// DeleteObject's condition, if the request has one.
    /// - Throws: `NotImplemented` for `x-amz-if-match-last-modified-time` and `x-amz-if-match-size`, which S3 honours
    ///   on directory buckets only: refused rather than ignored, so nothing is deleted on a condition not checked.
    static func of(_ request: Request) throws -> S3DeleteCondition? {
        for header in ["x-amz-if-match-last-modified-time", "x-amz-if-match-size"]
        where request.headers[AWSResponses.name(header)] != nil {
            throw directoryBucketsOnly(header).with([("Header", header)])
        }
        return request.headers[.ifMatch].map { S3DeleteCondition(ifMatch: $0) }
    }

    /// The refusal of a condition S3 takes for directory buckets only (picpipe's buckets are general purpose).
    static func directoryBucketsOnly(_ name: String) -> AWSError {
        AWSError.notImplemented("\(name) on a delete (S3 honours it on directory buckets only; use If-Match)")
    }

    /// Checks the condition against the object's current ETag.
    /// - Parameter eTag: the object's ETag, nil where there is no object.
    /// - Throws: `NoSuchKey` (404) where there is no object, `PreconditionFailed` (412) for another ETag.
    func check(eTag: String?, bucket: S3Bucket, key: String) throws {
        guard let eTag else { throw AWSError.noSuchKey(bucket: bucket.rawValue, key: key) }
        guard S3API.eTagListMatches(ifMatch, eTag: eTag, weakly: false) else {
            throw AWSError.preconditionFailed("If-Match")
        }
    }
}
