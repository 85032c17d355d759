// The `aws` section: the S3 and Lambda APIs `serve` answers on their own listener.

/// Where and for whom `serve` speaks the AWS wire protocols (S3, Lambda Invoke).
public struct AWSSettings: Codable, Sendable, Equatable {
    /// Whether `serve` starts the AWS listener (it also needs at least one credential).
    public var enabled: Bool = true
    /// `HOST:PORT` the S3 and Lambda APIs listen on.
    public var listen: String = "127.0.0.1:9000"
    /// The region clients sign for (the `--region` of the AWS CLI).
    public var region: String = "us-east-1"
    /// The accepted access keys.
    public var credentials: [AWSCredentialSettings] = []
    /// The web origins whose scripts may call the S3 and Lambda APIs (a bucket's CORS rules in S3): a page's
    /// presigned PUT or form POST by `fetch`, the JavaScript SDK in a browser.
    public var corsOrigins: [String] = []
    /// Days after which a multipart upload that was neither completed nor aborted is aborted (its parts deleted),
    /// as S3's lifecycle rule AbortIncompleteMultipartUpload does.
    public var multipartExpiryDays: Double = 7

    /// The defaults.
    public init() {}

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = AWSSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: d.enabled)
        listen = try c.decode(.listen, default: d.listen)
        region = try c.decode(.region, default: d.region)
        credentials = try c.decode(.credentials, default: d.credentials)
        corsOrigins = try c.decode(.corsOrigins, default: d.corsOrigins)
        multipartExpiryDays = try c.decode(.multipartExpiryDays, default: d.multipartExpiryDays)
    }

    enum CodingKeys: String, CodingKey {
        case enabled, listen, region, credentials
        case corsOrigins = "cors_origins"
        case multipartExpiryDays = "multipart_expiry_days"
    }
}

/// One access key of `aws.credentials`.
public struct AWSCredentialSettings: Codable, Sendable, Equatable, ConfigurationListElement {
    /// The access key id clients send.
    public var accessKeyID: String
    /// The secret they sign with.
    public var secretAccessKey: String
    /// The buckets it may use (`uploads`, `originals`, `thumbnails`); missing: all.
    public var buckets: [String]?
    /// The functions it may invoke and configure; missing: all.
    public var functions: [String]?
    /// Whether it may only read: list, get, head, presign downloads, read function settings. Without it, a key that
    /// may use `originals` may delete originals (and with them their thumbnails and metadata).
    public var readOnly: Bool = false

    /// - Parameters: see the properties.
    public init(
        accessKeyID: String, secretAccessKey: String, buckets: [String]? = nil, functions: [String]? = nil,
        readOnly: Bool = false
    ) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.buckets = buckets
        self.functions = functions
        self.readOnly = readOnly
    }

    /// Decodes a key; `read_only` may be left out (false).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accessKeyID = try c.decode(String.self, forKey: .accessKeyID)
        secretAccessKey = try c.decode(String.self, forKey: .secretAccessKey)
        buckets = try c.decodeIfPresent([String].self, forKey: .buckets)
        functions = try c.decodeIfPresent([String].self, forKey: .functions)
        readOnly = try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false
    }

    /// For the check of an entry's keys (`ConfigurationKeys`).
    public static var keyExample: Self { Self(accessKeyID: "", secretAccessKey: "") }

    enum CodingKeys: String, CodingKey {
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
        case buckets
        case functions
        case readOnly = "read_only"
    }
}
