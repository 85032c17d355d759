// The real AWS CLI and boto3 (from PyPI, in the virtual environment .ci/run makes) against a real `serve`.
import Foundation
import Testing

/// Finding and running the AWS CLI, python with boto3, and curl.
enum AWSTools {
    /// The virtual environment `.ci/run` installs awscli and boto3 into (or `PICPIPE_TEST_VENV`).
    static var venv: URL {
        if let path = ProcessInfo.processInfo.environment["PICPIPE_TEST_VENV"] { return URL(fileURLWithPath: path) }
        return PicpipeProcess.packageRoot.appendingPathComponent(".build-venv")
    }

    static var aws: URL { venv.appendingPathComponent("bin/aws") }
    static var python: URL { venv.appendingPathComponent("bin/python") }

    /// Whether the tools are there; outside CI a missing tool skips (with a note), in CI it fails.
    static func available() async -> Bool {
        var missing: [String] = []
        if !FileManager.default.isExecutableFile(atPath: aws.path) { missing.append("awscli") }
        if await (try? run(python, ["-c", "import boto3"]).status) != 0 { missing.append("boto3") }
        if curl == nil { missing.append("curl") }
        guard missing.isEmpty else {
            #expect(
                ProcessInfo.processInfo.environment["CI"] != "true",
                "\(missing.joined(separator: ", ")) missing in \(venv.path); .ci/run installs them")
            print(
                "skipped: \(missing.joined(separator: ", ")) not installed (python3 -m venv .build-venv && .build-venv/bin/pip install awscli boto3)"
            )
            return false
        }
        return true
    }

    /// Python for boto3 scripts given `endpoint`, `key` and `secret`: the S3 client `s3`, and `attempt(call)`, which
    /// answers "ok" or the S3 error code the call met.
    static let botoClientAndAttempt = """
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                          aws_secret_access_key=secret, region_name="us-east-1")
        def attempt(call):
            try:
                call()
                return "ok"
            except s3.exceptions.ClientError as error:
                return error.response["Error"]["Code"]
        """

    static var curl: URL? {
        ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs a program and waits (at most `timeout` seconds).
    static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 300
    ) async throws -> PicpipeProcess.Output {
        try await PicpipeProcess.run(
            executable: executable, arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, timeout: timeout)
    }

    /// The same, with the output bytes (for `aws s3 cp … -`).
    static func runBytes(_ executable: URL, _ arguments: [String], environment: [String: String]) async throws -> Data {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("aws-bytes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try await run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "\"$0\" \"$@\" > '\(output.path)'", executable.path] + arguments, environment: environment)
        guard result.status == 0 else { throw ServeTestError.timedOut("\(arguments): \(result.stderr)") }
        return try Data(contentsOf: output)
    }
}

/// A `serve` with the AWS listener on a free port and the AWS CLI pointed at it.
struct AWSServe {
    static let keyID = "PICPIPETESTKEY"
    static let secret = "picpipe-test-secret"
    let serve: ServeProcess
    let store: URL
    let root: URL
    let port: Int
    /// An empty AWS config file, so the user's ~/.aws does not change what the CLI sends.
    let config: URL

    static func start(root: URL, store: URL? = nil, environment: [String: String] = [:]) async throws -> AWSServe {
        let store = store ?? root.appendingPathComponent("store")
        let serve = try await ServeProcess(
            store: store,
            environment: [
                "PICPIPE_AWS_ACCESS_KEY_ID": keyID, "PICPIPE_AWS_SECRET_ACCESS_KEY": secret,
                "PICPIPE_AWS_LISTEN": "127.0.0.1:0",
            ].merging(environment, uniquingKeysWith: { $1 }))
        do {
            // A serve that exited (a refused setting, say) ends the wait at once; the guard below shows its log.
            try await ServeProcess.eventually("aws listening") {
                serve.log.contains("aws listening") || !serve.process.isRunning
            }
        } catch {
            await serve.stop()
            throw error
        }
        guard let line = serve.log.split(separator: "\n").first(where: { $0.contains("aws listening") }),
            let range = line.range(of: "127.0.0.1:"), let port = Int(line[range.upperBound...].prefix { $0.isNumber })
        else {
            await serve.stop()
            throw ServeTestError.timedOut("the aws listening line with a port: \(serve.log)")
        }
        let config = root.appendingPathComponent("aws-config-\(UUID().uuidString)")
        try Data().write(to: config)
        return AWSServe(serve: serve, store: store, root: root, port: port, config: config)
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    func environment(secret: String = AWSServe.secret, config: URL? = nil) -> [String: String] {
        [
            "AWS_ACCESS_KEY_ID": Self.keyID, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": (config ?? self.config).path, "AWS_SHARED_CREDENTIALS_FILE": self.config.path,
            "AWS_PAGER": "", "PYTHONWARNINGS": "ignore",
        ]
    }

    /// `aws --endpoint-url … ARGS`.
    func aws(_ arguments: [String], secret: String = AWSServe.secret, config: URL? = nil) async throws
        -> PicpipeProcess.Output
    {
        try await AWSTools.run(
            AWSTools.aws, ["--endpoint-url", endpoint] + arguments,
            environment: environment(secret: secret, config: config))
    }

    /// `aws … ARGS`, which must succeed; its JSON output decoded.
    func awsJSON(_ arguments: [String]) async throws -> [String: Any] {
        let output = try await aws(arguments)
        guard output.status == 0 else {
            throw ServeTestError.timedOut("aws \(arguments.joined(separator: " ")): \(output.stderr)")
        }
        return (try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func stop() async { await serve.stop() }
}
