// The AWS listener's settings, taken from the one configuration's `aws` section.
import FetchService
import Foundation
import PipelineCore

/// What the AWS front door is configured with.
public struct AWSGatewaySettings: Sendable {
    /// Where the S3 and Lambda APIs listen.
    public var listen: ListenAddress
    /// The region clients sign for.
    public var region: String
    /// The accepted keys.
    public var credentials: AWSCredentialStore
    /// Which web origins' scripts may call the APIs (`aws.cors_origins`).
    public var crossOrigin: CrossOriginPolicy
    /// How long a multipart upload may stay incomplete before it is aborted (`aws.multipart_expiry_days`).
    public var multipartExpiry: TimeInterval

    /// - Parameters:
    ///   - aws: the `aws` section.
    ///   - listen: overrides `aws.listen` (the `--aws-listen` option).
    /// - Throws: `ListenAddressError` for a malformed address.
    public init(aws: AWSSettings, listen: String? = nil) throws {
        self.listen = try ListenAddress(parsing: listen ?? aws.listen)
        region = aws.region
        credentials = AWSCredentialStore(settings: aws)
        crossOrigin = Self.crossOrigin(aws.corsOrigins)
        multipartExpiry = aws.multipartExpiryDays * 86_400
    }

    /// The listener's CORS policy: S3's usual rule for browser uploads (every method, any request header, since
    /// SigV4 clients choose their `x-amz-*` headers) exposing what S3 and Lambda clients read.
    static func crossOrigin(_ origins: [String]) -> CrossOriginPolicy {
        CrossOriginPolicy(
            origins: origins, allowedMethods: "GET, HEAD, PUT, POST, DELETE", allowedHeaders: nil,
            exposedHeaders: exposedHeaders.joined(separator: ", "))
    }

    /// The headers a script may read: S3's validators, ids, checksums, an upload's `Location`, a range's extent;
    /// Lambda's request id, error type, function error, log tail and version.
    static let exposedHeaders = [
        "ETag", "Location", "Content-Range", "Content-Length", "x-amz-request-id", "x-amz-version-id",
        "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
        "x-amzn-RequestId", "x-amzn-ErrorType", "X-Amz-Function-Error", "X-Amz-Log-Result", "X-Amz-Executed-Version",
    ]
}
