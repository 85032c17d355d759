// GetObject and HeadObject of a cached object, answered on the event loop (`EventLoopShortcutHandler`): the
// signature is checked exactly as the route checks it, and anything else (another operation, a sub-resource or
// response override in the query, a miss, a refusal to explain) is left to the route.
import FetchService
import Foundation
import HTTPTypes
import Locking

/// The AWS listener's event-loop shortcut.
struct S3Shortcut: EventLoopShortcut {
    let authenticator: RequestAuthenticator
    let s3: S3API
    /// The CORS fields its answers carry, as the route's do.
    let crossOrigin: CrossOriginPolicy
    /// Where its answers are counted (`picpipe_http_event_loop_answers_total`).
    let metrics: HTTPMetrics
    /// Presigned URLs already verified, until they expire.
    let verified = VerifiedPresignedURLs()

    func mayAnswer(_ head: HTTPRequest) -> Bool {
        guard let path = head.path else { return false }
        return path.hasPrefix("/thumbnails/") || path.hasPrefix("/originals/")
    }

    func answer(_ head: HTTPRequest) -> CachedAnswer? {
        let now = Date()
        let target: VerifiedPresignedURLs.Target
        if let known = verified.lookup(head, now: now) {
            target = known
        } else {
            let signed = AWSResponder.signedRequest(head)
            // Only the signature's own parameters: `versionId`, `response-content-type` and the like take the route.
            guard signed.queryPairs.allSatisfy({ $0.0.hasPrefix("X-Amz-") }),
                case (let bucketName?, let key?) = S3API.split(signed.path),
                let bucket = S3Bucket(rawValue: bucketName),
                let auth = try? authenticator.authenticate(signed, service: .s3, now: now),
                auth.credential.allows(bucket: bucket.rawValue)
            else { return nil }
            target = VerifiedPresignedURLs.Target(bucket: bucket, key: key)
            if auth.presigned { verified.remember(head, signed: signed, target: target) }
        }
        guard
            var answer = s3.cachedObject(
                isHead: head.method == .head, headers: head.headerFields, bucket: target.bucket, key: target.key)
        else { return nil }
        answer.fields[AWSResponses.name("x-amz-request-id")] = AWSResponses.requestID()
        crossOrigin.decorate(&answer.fields, origin: head.headerFields[.origin])
        metrics.eventLoopAnswers.increment()
        return answer
    }
}

/// SigV4 presigned URLs that signed only `host` and verified once: the same method, host and target are the same
/// signed bytes, so they stay valid until the URL's own expiry (X-Amz-Date + X-Amz-Expires) without computing the
/// canonical request and four HMACs again, as a verified JWT is kept (`VerifiedTokens`). The keys cannot change
/// while serve runs (`aws` is not reloaded), so nothing else can make a verified URL wrong.
final class VerifiedPresignedURLs: Sendable {
    /// What a verified URL names.
    struct Target: Sendable {
        var bucket: S3Bucket
        var key: String
    }

    private struct Entry {
        var target: Target
        var expires: Date
    }

    /// At most this many URLs are kept; a full table is emptied (a page of thumbnails holds far fewer).
    static let capacity = 4096
    private let entries = Locked<[String: Entry]>([:])

    /// The target of a URL verified before and not expired at `now`.
    func lookup(_ head: HTTPRequest, now: Date) -> Target? {
        guard let name = Self.name(head) else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[name] else { return nil }
            guard now <= entry.expires else {
                entries[name] = nil
                return nil
            }
            return entry.target
        }
    }

    /// Keeps a URL that was just verified, when it signed only `host`.
    func remember(_ head: HTTPRequest, signed: SignedRequest, target: Target) {
        let items = signed.queryItems
        guard let name = Self.name(head), items["X-Amz-SignedHeaders"] == "host",
            let date = items["X-Amz-Date"].flatMap(RequestAuthenticator.parseAmzDate),
            let seconds = items["X-Amz-Expires"].flatMap({ Int($0) })
        else { return }
        let entry = Entry(target: target, expires: date.addingTimeInterval(TimeInterval(seconds)))
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[name] = entry
        }
    }

    /// Method, host and target: everything a host-only presigned URL signs.
    private static func name(_ head: HTTPRequest) -> String? {
        guard let path = head.path, path.utf8.contains(UInt8(ascii: "?")) else { return nil }
        return head.method.rawValue + " " + (head.authority ?? "") + " " + path
    }
}
