// The AWS listener's settings, taken from the one configuration's `aws` section.
import FetchService
import PipelineCore

/// What the AWS front door is configured with.
public struct AWSGatewaySettings: Sendable {
    /// Where the S3 and Lambda APIs listen.
    public var listen: ListenAddress
    /// The region clients sign for.
    public var region: String
    /// The accepted keys.
    public var credentials: AWSCredentialStore

    /// - Parameters:
    ///   - aws: the `aws` section.
    ///   - listen: overrides `aws.listen` (the `--aws-listen` option).
    /// - Throws: `ListenAddressError` for a malformed address.
    public init(aws: AWSSettings, listen: String? = nil) throws {
        self.listen = try ListenAddress(parsing: listen ?? aws.listen)
        region = aws.region
        credentials = AWSCredentialStore(settings: aws)
    }
}
