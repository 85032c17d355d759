// Which API a request goes to when its signature does not say: the Lambda operations live under several API
// versions, and a request to one of them must be answered in Lambda's words, not refused as an S3 bucket.
import Testing

@testable import AWSGateway

@Suite struct ServiceRoutingTests {
    static func unsigned(_ path: String) -> SignedRequest {
        SignedRequest(method: "GET", path: path, query: "", headers: [("host", "localhost")])
    }

    @Test(arguments: [
        "/2015-03-31/functions/thumbnail/invocations", "/2015-03-31/functions/",
        "/2019-09-25/functions/thumbnail/event-invoke-config",
        "/2016-08-19/account-settings/", "/2019-09-30/functions/thumbnail/concurrency",
        "/2017-10-31/functions/thumbnail/concurrency",
    ])
    func lambdaPathsGoToLambda(path: String) {
        #expect(AWSResponder.service(of: Self.unsigned(path)) == .lambda)
    }

    @Test(arguments: ["/originals/ab/abcdef.jpg", "/uploads", "/", "/2019-09-30"])
    func otherPathsGoToS3(path: String) {
        #expect(AWSResponder.service(of: Self.unsigned(path)) == .s3)
    }

    /// The credential scope of a signature names the service, whatever the path.
    @Test func theSignaturesScopeDecides() {
        let signed = SignedRequest(
            method: "GET", path: "/uploads", query: "",
            headers: [
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AK/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00"
                )
            ])
        #expect(AWSResponder.service(of: signed) == .lambda)
    }
}
