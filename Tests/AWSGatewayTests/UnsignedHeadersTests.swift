// Which headers a SigV4 request must sign, as S3 decides it: every `x-amz-*` header it carries (but
// x-amz-content-sha256), so whoever holds a presigned URL or a signed request cannot add one; and a header signed but
// not sent is a signature that does not match.
import Foundation
import Testing

@testable import AWSGateway

@Suite struct UnsignedHeadersTests {
    static func error(_ request: SignedRequest, service: AWSService = .s3) -> AWSError? {
        do {
            _ = try SignatureV4SuiteTests.authenticator.authenticate(
                request, service: service, now: SignatureV4SuiteTests.now)
            return nil
        } catch let error as AWSError {
            return error
        } catch {
            return AWSError("Unexpected", status: 0, "\(error)")
        }
    }

    /// `x-amz-meta-owner: mallory` added to a presigned PUT URL set the picture's metadata (until session 33).
    @Test func anXAmzHeaderAddedToAPresignedURLIsRefused() throws {
        var request = SignatureV4SuiteTests.presigned(expires: 60)
        request.headers += [("x-amz-meta-owner", "mallory"), ("X-Amz-Acl", "public-read")]
        let refused = try #require(Self.error(request))
        #expect(refused.code == "AccessDenied")
        #expect(refused.status == 403)
        #expect(refused.message == "There were headers present in the request which were not signed")
        #expect(refused.details == [.init(name: "HeadersNotSigned", value: "x-amz-meta-owner, x-amz-acl")])
    }

    @Test func anXAmzHeaderAddedAfterSigningIsRefused() throws {
        var request = SignatureV4SuiteTests.signedGet()
        request.headers.append(("x-amz-meta-injected", "yes"))
        let refused = try #require(Self.error(request))
        #expect(refused.code == "AccessDenied")
        #expect(refused.details == [.init(name: "HeadersNotSigned", value: "x-amz-meta-injected")])
    }

    /// As in S3: headers other than `x-amz-*` need not be signed, and x-amz-content-sha256 is covered by the
    /// canonical request's payload line whether it is listed or not.
    @Test func otherHeadersAndTheContentHashNeedNoSignature() {
        var presigned = SignatureV4SuiteTests.presigned(expires: 60)
        presigned.headers += [
            ("Content-Disposition", "attachment; filename=a.jpg"), ("Cache-Control", "no-store"),
            ("Content-Type", "image/jpeg"), ("x-amzn-trace-id", "Root=1"),
        ]
        #expect(Self.error(presigned) == nil)
        var signed = SignatureV4SuiteTests.signedGet()
        signed.headers.append(("User-Agent", "test"))
        #expect(Self.error(signed) == nil)
    }

    /// It was refused as AccessDenied with S3's words for the opposite case ("headers … which were not signed").
    @Test func aSignedHeaderThatIsNotSentIsASignatureMismatch() throws {
        var request = SignatureV4SuiteTests.signedGet()
        request.headers.removeAll { $0.0 == "x-amz-date" }
        request.headers.append(("Date", "Thu, 01 Jan 2026 12:00:00 GMT"))
        let refused = try #require(Self.error(request))
        #expect(refused.code == "SignatureDoesNotMatch")
        #expect(refused.status == 403)
        #expect(refused.message.hasSuffix("SignedHeaders names x-amz-date, which the request does not carry."))
    }
}
