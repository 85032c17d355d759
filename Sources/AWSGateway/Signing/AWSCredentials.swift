// The access keys the AWS front door accepts, from `aws.credentials` and PICPIPE_AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY.
import PipelineCore

/// One access key and what it may use.
public struct AWSCredential: Sendable, Equatable {
    /// The access key id (`AKIA…` or any name).
    public var accessKeyID: String
    /// The secret the client signs with.
    public var secret: String
    /// The buckets it may use (nil: all).
    public var buckets: Set<String>?
    /// The functions it may invoke or configure (nil: all).
    public var functions: Set<String>?
    /// Whether it may only read (`read_only`): every write, delete and invocation is refused.
    public var readOnly: Bool

    /// - Parameters: see the properties.
    public init(
        accessKeyID: String, secret: String, buckets: Set<String>? = nil, functions: Set<String>? = nil,
        readOnly: Bool = false
    ) {
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.buckets = buckets
        self.functions = functions
        self.readOnly = readOnly
    }

    /// Whether it may use `bucket`.
    public func allows(bucket: String) -> Bool { buckets?.contains(bucket) ?? true }
    /// Whether it may use `function`.
    public func allows(function: String) -> Bool { functions?.contains(function) ?? true }
}

/// The accepted keys by id.
public struct AWSCredentialStore: Sendable {
    private let byID: [String: AWSCredential]

    /// - Parameter credentials: the keys (a later one with the same id replaces an earlier one).
    public init(_ credentials: [AWSCredential]) {
        var byID: [String: AWSCredential] = [:]
        for credential in credentials { byID[credential.accessKeyID] = credential }
        self.byID = byID
    }

    /// The keys of the `aws` section.
    public init(settings: AWSSettings) {
        self.init(
            settings.credentials.map {
                AWSCredential(
                    accessKeyID: $0.accessKeyID, secret: $0.secretAccessKey, buckets: $0.buckets.map(Set.init),
                    functions: $0.functions.map(Set.init), readOnly: $0.readOnly)
            })
    }

    /// The key with this id.
    public func credential(for id: String) -> AWSCredential? { byID[id] }

    /// Whether no key is configured (the AWS listener then stays off).
    public var isEmpty: Bool { byID.isEmpty }
}
