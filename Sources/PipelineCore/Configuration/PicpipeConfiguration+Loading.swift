// Loading: defaults, then the file (YAML, or JSON which is YAML), then environment overrides, then validation.
import Foundation
import Yams

extension PicpipeConfiguration {
    /// Loads the effective configuration.
    /// - Parameters:
    ///   - file: the configuration file; `nil` uses `$PICPIPE_CONFIG` when set, else the defaults.
    ///   - environment: the variables that override the file (`PICPIPE_STORE`, `PICPIPE_THUMBNAIL_SIZES`, …).
    ///   - store: a store path given on the command line, which overrides everything else.
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        store: String? = nil
    ) throws -> PicpipeConfiguration {
        var configuration = PicpipeConfiguration()
        var source: (path: String, text: String)?
        if let path = file ?? environment["PICPIPE_CONFIG"], !path.isEmpty {
            let text = try read(fileAt: path)
            configuration = try parse(yaml: text, path: path)
            source = (path, text)
        }
        let fromFile = configuration
        try configuration.applyEnvironment(environment)
        try checkVariables(environment)
        if let store { configuration.store = store }
        do {
            try configuration.validate()
        } catch ConfigurationError.invalid(let key, let reason) {
            throw refusal(key: key, reason: reason, fromFile: fromFile, source: source, environment: environment)
        }
        return configuration
    }

    /// An out-of-range value named where it was given, as a value of the wrong shape is: the variable that set it,
    /// else the file and line, with the value (until session 32 only the key, so with a file and variables a user
    /// could not tell which to fix).
    static func refusal(
        key: String, reason: String, fromFile: PicpipeConfiguration, source: (path: String, text: String)?,
        environment: [String: String]
    ) -> ConfigurationError {
        // The variable whose value alone, over the file's, is refused for the same key.
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix("PICPIPE_") && name != "PICPIPE_CONFIG" && !value.isEmpty {
            var alone = fromFile
            guard (try? alone.applyEnvironment([name: value])) != nil else { continue }
            if refuses(alone, key), !refuses(fromFile, key) {
                return .invalidVariable(
                    variable: name, value: isSecret(key) ? redacted : value, key: key, reason: reason)
            }
        }
        if let source, let document = try? Yams.compose(yaml: source.text),
            let node = ValueShape.node(atDottedPath: key, in: document)
        {
            return .invalidInFile(
                path: source.path, line: node.mark?.line, key: key,
                value: isSecret(key) ? nil : node.scalar.map { ValueShape.describe(.scalar($0)) }, reason: reason)
        }
        return .invalid(key: key, reason: reason)
    }

    /// Whether the value at `key` is one `redactingSecrets` hides: a refusal names where it is, never what it is.
    static func isSecret(_ key: String) -> Bool {
        let bare = key.replacing(/\[\d+\]/, with: "")
        return ["http.api_keys", "http.signing_key", "http.previous_signing_keys", "auth.api_keys.key", "database.url"]
            .contains(bare) || bare.hasSuffix("secret_access_key")
    }

    /// Whether `configuration`'s first refused value is `key`.
    private static func refuses(_ configuration: PicpipeConfiguration, _ key: String) -> Bool {
        do {
            try configuration.validate()
            return false
        } catch ConfigurationError.invalid(let refused, _) {
            return refused == key
        } catch {
            return false
        }
    }

    /// Parses a YAML (or JSON) configuration file; missing keys keep their defaults.
    public static func parse(fileAt path: String) throws -> PicpipeConfiguration {
        try parse(yaml: read(fileAt: path), path: path)
    }

    /// A configuration file's text.
    static func read(fileAt path: String) throws -> String {
        if path.hasSuffix(".toml") {
            throw ConfigurationError.unreadable(path: path, reason: "TOML is not supported; write the file in YAML")
        }
        // Read to its end rather than by its size, so a pipe works too (`--config <(…)`, a named pipe).
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError.unreadable(path: path, reason: "no such file or not readable")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw ConfigurationError.unreadable(path: path, reason: "no such file or not readable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses YAML text; `path` names it in errors. Unknown keys are refused (with the closest known one).
    public static func parse(yaml: String, path: String = "<text>") throws -> PicpipeConfiguration {
        if yaml.allSatisfy(\.isWhitespace) { return PicpipeConfiguration() }
        let document: Node?
        try refuseDeepText(yaml, path: path)
        do {
            document = try Yams.compose(yaml: yaml)
            if let document {
                try refuseOversized(document, path: path)
                try refuseRepeatedKeys(in: document, path: path, prefix: "")
                try ConfigurationKeys.known.check(document, file: path)
            }
        } catch let error as YamlError {
            throw ConfigurationError.malformed(path: path, reason: Self.explain(error))
        }
        do {
            return try YAMLDecoder().decode(PicpipeConfiguration.self, from: yaml)
        } catch let error as DecodingError {
            throw ConfigurationError.malformed(path: path, reason: Self.explain(error, in: document))
        } catch {
            throw ConfigurationError.malformed(path: path, reason: "\(error)")
        }
    }

    /// Refuses a key given twice in one section: YAML wants them unique, and the decoder would take the last
    /// without a word (until session 32 a second `thumbnail:` section dropped the first one's settings).
    private static func refuseRepeatedKeys(in node: Node, path: String, prefix: String) throws {
        switch node {
        case .mapping(let mapping):
            var lines: [String: Int?] = [:]
            for (keyNode, value) in mapping {
                let name = keyNode.string ?? "\(keyNode)"
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let first = lines[name] {
                    let at = keyNode.mark.map { " (line \($0.line))" } ?? ""
                    let before = first.map { " at line \($0)" } ?? ""
                    throw ConfigurationError.malformed(
                        path: path,
                        reason: "\(key)\(at) is given twice (first\(before)); keep one, as the last would "
                            + "silently replace the first")
                }
                lines[name] = keyNode.mark?.line
                try refuseRepeatedKeys(in: value, path: path, prefix: key)
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() {
                try refuseRepeatedKeys(in: item, path: path, prefix: "\(prefix)[\(index)]")
            }
        default:
            break
        }
    }

    /// The configuration as YAML, the way `picpipe config` prints it.
    public func yaml() throws -> String {
        let text = try YAMLEncoder().encode(self)
        // Yams writes doubles in exponent form (30 as 3e+1); print them the way people write them.
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let cut = line.range(of: ": ", options: .backwards) ?? line.range(of: "- ") else {
                return String(line)
            }
            let value = line[cut.upperBound...]
            guard value.contains("e"), let number = Double(value) else { return String(line) }
            return line[..<cut.upperBound]
                + (number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : "\(number)")
        }.joined(separator: "\n")
    }

    /// Every `PICPIPE_*` variable the configuration reads, in the order they are read (for help texts).
    public static let environmentVariables: [String] = {
        let reader = EnvironmentReader([:])
        var configuration = PicpipeConfiguration()
        try? configuration.applyEnvironment(reader)
        return ["PICPIPE_CONFIG"] + reader.consulted
    }()

    /// `PICPIPE_*` variables that are not configuration and are left alone: the set-up script's, the tests' and
    /// the benchmarks' own.
    static let otherVariablePrefixes = ["PICPIPE_TEST_", "PICPIPE_SETUP_", "PICPIPE_BENCH"]

    /// Refuses a `PICPIPE_*` variable the configuration does not read, with the closest known name.
    public static func checkVariables(_ environment: [String: String]) throws {
        let known = Set(environmentVariables)
        for name in environment.keys.sorted() where name.hasPrefix("PICPIPE_") && !known.contains(name) {
            if otherVariablePrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            throw ConfigurationError.unknownVariable(
                name: name, suggestion: Suggestion.closest(to: name, among: environmentVariables))
        }
    }

    /// Applies `PICPIPE_*` environment variables over the current values.
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        try applyEnvironment(EnvironmentReader(environment))
    }

    /// Applies the variables `env` reads; every name asked for is a known variable (`environmentVariables`).
    mutating func applyEnvironment(_ env: EnvironmentReader) throws {
        if let value = env.string("PICPIPE_STORE") { store = value }
        if let value = try env.ints("PICPIPE_THUMBNAIL_SIZES") { thumbnails.sizes = value }
        if let value = env.string("PICPIPE_THUMBNAIL_FIT") { thumbnails.fit = value }
        if let value = env.string("PICPIPE_THUMBNAIL_FORMAT") { thumbnails.format = value }
        if let value = try env.int("PICPIPE_THUMBNAIL_QUALITY") { thumbnails.quality = value }
        if let value = try env.bool("PICPIPE_THUMBNAIL_PROGRESSIVE") { thumbnails.progressive = value }
        if let value = env.string("PICPIPE_THUMBNAIL_BACKGROUND") { thumbnails.background = value }
        if let value = env.string("PICPIPE_THUMBNAIL_COLOR") { thumbnails.color = value }
        if let value = try env.int("PICPIPE_THUMBNAIL_WEBP_QUALITY") { thumbnails.webpQuality = value }
        if let value = try env.bool("PICPIPE_THUMBNAIL_WEBP_LOSSLESS") { thumbnails.webpLossless = value }
        if let value = try env.int("PICPIPE_THUMBNAIL_AVIF_QUALITY") { thumbnails.avifQuality = value }
        if let value = try env.int("PICPIPE_THUMBNAIL_AVIF_SPEED") { thumbnails.avifSpeed = value }
        if let value = try env.int("PICPIPE_MAX_PIXELS") { limits.maxPixels = value }
        if let value = try env.int("PICPIPE_MAX_FILE_BYTES") { limits.maxFileBytes = value }
        for name in FunctionSettings.names {
            let prefix = "PICPIPE_FUNCTIONS_\(name.uppercased())_"
            var function = functions[name]
            if let value = try env.double(prefix + "TIMEOUT") { function.timeout = value }
            if let value = try env.int(prefix + "MEMORY_MB") { function.memoryMB = value }
            if let value = try env.int(prefix + "CONCURRENCY") { function.concurrency = value }
            if let value = try env.int(prefix + "RESERVED_CONCURRENCY") { function.reservedConcurrency = value }
            if let value = try env.int(prefix + "MAX_RETRIES") { function.maxRetries = value }
            if let value = try env.double(prefix + "MAX_EVENT_AGE") { function.maxEventAge = value }
            if let value = env.string(prefix + "ON_FAILURE") { function.onFailure = value }
            functions[name] = function
        }
        if let value = try env.bool("PICPIPE_WATCHER_ENABLED") { watcher.enabled = value }
        if let value = try env.int("PICPIPE_WATCHER_MAX_QUEUED_EVENTS") { watcher.maxQueuedEvents = value }
        if let value = try env.double("PICPIPE_WATCHER_RESCAN_INTERVAL") { watcher.rescanInterval = value }
        if let value = try env.doubles("PICPIPE_RETRY_BACKOFF") { runtime.retryBackoff = value }
        if let value = try env.double("PICPIPE_POLL_INTERVAL") { runtime.pollInterval = value }
        if let value = try env.double("PICPIPE_SHUTDOWN_GRACE") { runtime.shutdownGrace = value }
        if let value = try env.double("PICPIPE_JOURNAL_RETENTION_DAYS") { runtime.journalRetentionDays = value }
        if let value = env.string("PICPIPE_LISTEN") { http.listen = value }
        if let value = env.list("PICPIPE_API_KEYS") { http.apiKeys = value }
        if let value = env.list("PICPIPE_CORS_ORIGINS") { http.corsOrigins = value }
        if let value = try env.int("PICPIPE_MAX_BODY_BYTES") { http.maxBodyBytes = value }
        if let value = env.string("PICPIPE_SIGNING_KEY") { http.signingKey = value }
        if let value = try env.int("PICPIPE_MIN_UPLOAD_RATE") { http.minUploadRate = value }
        if let value = try env.int("PICPIPE_MAX_CONCURRENT_UPLOADS") { http.maxConcurrentUploads = value }
        if let value = try env.double("PICPIPE_IDLE_TIMEOUT") { http.idleTimeout = value }
        if let value = try env.double("PICPIPE_SEND_TIMEOUT") { http.sendTimeout = value }
        if let value = try env.int("PICPIPE_MAX_HEADER_BYTES") { http.maxHeaderBytes = value }
        if let value = try env.int("PICPIPE_MAX_URI_BYTES") { http.maxURIBytes = value }
        if let value = try env.double("PICPIPE_HEADER_TIMEOUT") { http.headerTimeout = value }
        if let value = try env.int("PICPIPE_MAX_CONNECTIONS") { http.maxConnections = value }
        if let value = try env.bool("PICPIPE_NEGOTIATE_FORMATS") { http.negotiateFormats = value }
        if let value = try env.int("PICPIPE_THUMBNAIL_MAX_AGE") { http.thumbnailMaxAge = value }
        if let value = try env.int("PICPIPE_EVENT_LOOPS") { http.eventLoops = value }
        if let value = env.string("PICPIPE_LOG_LEVEL") { logging.level = value }
        if let value = try env.bool("PICPIPE_AWS_ENABLED") { aws.enabled = value }
        if let value = env.string("PICPIPE_AWS_LISTEN") { aws.listen = value }
        if let value = env.string("PICPIPE_AWS_REGION") { aws.region = value }
        if let value = env.list("PICPIPE_AWS_CORS_ORIGINS") { aws.corsOrigins = value }
        if let value = try env.double("PICPIPE_AWS_MULTIPART_EXPIRY_DAYS") { aws.multipartExpiryDays = value }
        let keyID = env.string("PICPIPE_AWS_ACCESS_KEY_ID")
        let secret = env.string("PICPIPE_AWS_SECRET_ACCESS_KEY")
        if let keyID, let secret {
            // The environment's key may use every bucket and function; it replaces a configured key of the same id.
            aws.credentials.removeAll { $0.accessKeyID == keyID }
            aws.credentials.append(AWSCredentialSettings(accessKeyID: keyID, secretAccessKey: secret))
        } else if keyID != nil || secret != nil {
            throw ConfigurationError.badEnvironment(
                variable: keyID == nil ? "PICPIPE_AWS_ACCESS_KEY_ID" : "PICPIPE_AWS_SECRET_ACCESS_KEY", value: "",
                expected:
                    "set together with \(keyID == nil ? "PICPIPE_AWS_SECRET_ACCESS_KEY" : "PICPIPE_AWS_ACCESS_KEY_ID")")
        }
        if let value = env.list("PICPIPE_PREVIOUS_SIGNING_KEYS") { http.previousSigningKeys = value }
        if let value = env.string("PICPIPE_OIDC_ISSUER") { auth.oidc.issuer = value }
        if let value = env.string("PICPIPE_OIDC_AUDIENCE") { auth.oidc.audience = value }
        if let value = env.string("PICPIPE_OIDC_SCOPE_CLAIM") { auth.oidc.scopeClaim = value }
        if let value = try env.int("PICPIPE_IMPORT_MAX_BYTES") { imports.maxBytes = value }
        if let value = try env.double("PICPIPE_IMPORT_TIMEOUT") { imports.timeout = value }
        if let value = env.list("PICPIPE_IMPORT_ALLOW") { imports.allow = value }
        if let value = env.string("PICPIPE_DATABASE_URL") { database.url = value }
    }

    /// Checks every value is in its range.
    public func validate() throws {
        func check(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(key: key, reason: reason) }
        }
        try check(!store.isEmpty, "store", "must name a folder")
        for (key, listen) in [("http.listen", http.listen), ("aws.listen", aws.listen)] {
            do {
                _ = try ListenAddress(parsing: listen)
            } catch ListenAddressError.invalid(_, let reason) {
                throw ConfigurationError.invalid(key: key, reason: "is HOST:PORT (127.0.0.1:8080): " + reason)
            }
        }
        try check(!thumbnails.sizes.isEmpty, "thumbnails.sizes", "needs at least one size")
        // Each size is named by its place in the list, so the refusal gives its line and value (until session 34
        // `sizes are 1-16384 px`, whichever it was), and a size listed twice is refused: it names one folder, and
        // until session 34 `[256, 256]` was taken and logged as `sizes=256,256`.
        for (index, size) in thumbnails.sizes.enumerated() {
            try check((1...16384).contains(size), "thumbnails.sizes[\(index)]", "is 1-16384")
            if let first = thumbnails.sizes.firstIndex(of: size), first < index {
                throw ConfigurationError.invalid(
                    key: "thumbnails.sizes",
                    reason: "lists \(size) twice ([\(first)] and [\(index)]); give each size once")
            }
        }
        try check(["inside", "cover"].contains(thumbnails.fit), "thumbnails.fit", "is inside or cover")
        try check(
            ["jpeg", "png", "webp", "avif"].contains(thumbnails.format), "thumbnails.format",
            "is jpeg, png, webp or avif (gif and heic are read, not written)")
        try check((1...100).contains(thumbnails.quality), "thumbnails.quality", "is 1-100")
        try check((1...100).contains(thumbnails.webpQuality), "thumbnails.webp_quality", "is 1-100")
        try check((1...100).contains(thumbnails.avifQuality), "thumbnails.avif_quality", "is 1-100")
        try check((0...9).contains(thumbnails.avifSpeed), "thumbnails.avif_speed", "is 0-9")
        try check(
            thumbnails.background.count == 6 && thumbnails.background.allSatisfy(\.isHexDigit),
            "thumbnails.background", "is 6 hex digits such as ffffff")
        try check(
            Self.seconds(runtime.shutdownGrace, from: 0, to: 3600), "runtime.shutdown_grace", "is 0 to 3600 seconds")
        try check(
            Self.seconds(runtime.journalRetentionDays, from: 0, to: 36500), "runtime.journal_retention_days",
            "is 0 (keep everything) to 36500 days")
        try check(http.minUploadRate >= 0, "http.min_upload_rate", "must be 0 (off) or more bytes per second")
        try check(http.maxConcurrentUploads >= 1, "http.max_concurrent_uploads", "needs at least 1")
        try check(
            Self.seconds(http.idleTimeout, above: 0, to: 3600), "http.idle_timeout", "is over 0, up to 3600 seconds")
        try check(
            Self.seconds(http.sendTimeout, above: 0, to: 3600), "http.send_timeout", "is over 0, up to 3600 seconds")
        try check(["srgb", "keep"].contains(thumbnails.color), "thumbnails.color", "is srgb or keep")
        try check(
            (1024...1024 * 1024).contains(http.maxHeaderBytes), "http.max_header_bytes",
            "is 1024 to 1048576 bytes (16384 is nginx's size)")
        try check((256...1024 * 1024).contains(http.maxURIBytes), "http.max_uri_bytes", "is 256 to 1048576 bytes")
        try check(
            Self.seconds(http.headerTimeout, above: 0, to: 3600), "http.header_timeout",
            "is over 0, up to 3600 seconds")
        try check(http.maxConnections >= 1, "http.max_connections", "needs at least 1")
        try check(
            (0...31_536_000).contains(http.thumbnailMaxAge), "http.thumbnail_max_age",
            "is 0 to 31536000 seconds (a year)")
        try check((1...256).contains(http.eventLoops ?? 1), "http.event_loops", "is 1 to 256 (absent: one per core)")
        for (key, origins) in [("http.cors_origins", http.corsOrigins), ("aws.cors_origins", aws.corsOrigins)] {
            for origin in origins {
                try check(
                    HTTPSettings.isOrigin(origin), key,
                    "lists origins as a browser sends them, scheme://host[:port] with no path "
                        + "(https://app.example.com), or * for any; '\(origin)' is not one")
            }
        }
        try check(limits.maxPixels > 0, "limits.max_pixels", "must be positive")
        try check(limits.maxFileBytes > 0, "limits.max_file_bytes", "must be positive")
        for name in FunctionSettings.names {
            let function = functions[name]
            let key = "functions.\(name)"
            // The upper bounds are Lambda's (timeout 900 s, memory 10240 MB, an account's 1000 concurrent
            // executions, an event's 6 hours); until session 32 there were none, and 1e300 seconds, .inf or a
            // million workers passed `picpipe config` and crashed or stalled the process that used them.
            try check(
                Self.seconds(function.timeout, above: 0, to: 900), key + ".timeout",
                "is over 0, up to 900 seconds (Lambda's limit)")
            try check((1...10240).contains(function.memoryMB), key + ".memory_mb", "is 1 to 10240 MB (Lambda's limit)")
            try check((1...1000).contains(function.concurrency), key + ".concurrency", "is 1 to 1000 workers")
            try check(
                (1...1000).contains(function.reservedConcurrency ?? 1), key + ".reserved_concurrency",
                "is 1 to 1000 invocations at once (leave it out for no cap)")
            try check((0...2).contains(function.maxRetries), key + ".max_retries", "is 0, 1 or 2")
            try check(
                Self.seconds(function.maxEventAge, above: 0, to: 21600), key + ".max_event_age",
                "is over 0, up to 21600 seconds (6 hours, Lambda's limit)")
            try check(["failed", "none"].contains(function.onFailure), key + ".on_failure", "is failed or none")
        }
        try check(
            (1...10_000_000).contains(watcher.maxQueuedEvents), "watcher.max_queued_events", "is 1 to 10000000")
        try check(
            Self.seconds(watcher.rescanInterval, from: 0, to: 86400), "watcher.rescan_interval",
            "is 0 (off) to 86400 seconds")
        try check(
            runtime.retryBackoff.allSatisfy { Self.seconds($0, from: 0, to: 3600) }, "runtime.retry_backoff",
            "waits are 0 to 3600 seconds")
        try check(
            Self.seconds(runtime.pollInterval, above: 0, to: 3600), "runtime.poll_interval",
            "is over 0, up to 3600 seconds")
        try check(http.maxBodyBytes > 0, "http.max_body_bytes", "must be positive")
        // A signing key is a secret as an API key is: as long as one.
        if let signingKey = http.signingKey, !signingKey.isEmpty {
            try check(signingKey.count >= 16, "http.signing_key", "must be at least 16 characters")
        }
        for (index, key) in http.previousSigningKeys.enumerated() where !key.isEmpty {
            try check(key.count >= 16, "http.previous_signing_keys[\(index)]", "must be at least 16 characters")
        }
        // A blank key is no key (`PICPIPE_API_KEYS=' '` was printed as a key and left writes open).
        for (index, key) in http.apiKeys.enumerated() {
            try check(
                !key.allSatisfy(\.isWhitespace), "http.api_keys[\(index)]",
                "is blank: a key is a secret (leave the list out for no key)")
        }
        // One secret under two names: the last would silently win (an admin key shadowed by a read-only one). The
        // second is named by its path, so the refusal gives its file and line as the other checks do.
        var holders: [String: String] = [:]
        let secrets =
            http.apiKeys.enumerated().map { ("http.api_keys[\($0.offset)]", $0.element, "") }
            + auth.apiKeys.enumerated().map {
                ("auth.api_keys[\($0.offset)].key", $0.element.key, " (\($0.element.name))")
            }
        for (key, secret, name) in secrets {
            if let first = holders[secret] {
                throw ConfigurationError.invalid(
                    key: key, reason: "is the same secret as \(first): each key must be a different secret")
            }
            holders[secret] = key + name
        }
        try check(!aws.region.isEmpty, "aws.region", "must name a region such as us-east-1")
        try check(
            Self.seconds(aws.multipartExpiryDays, above: 0, to: 36500), "aws.multipart_expiry_days",
            "is over 0, up to 36500 days (S3's AbortIncompleteMultipartUpload; 7 by default)")
        for credential in aws.credentials {
            try check(
                !credential.accessKeyID.isEmpty && !credential.secretAccessKey.isEmpty, "aws.credentials",
                "each needs access_key_id and secret_access_key")
            try check(
                (credential.buckets ?? []).allSatisfy { ["uploads", "originals", "thumbnails"].contains($0) },
                "aws.credentials", "buckets are uploads, originals and thumbnails")
        }
        // One access key id twice: the last entry would silently win, its secret and its limits (until session 35
        // the first secret then failed every signature, or a read-only entry narrowed an admin's).
        var idHolders: [String: Int] = [:]
        for (index, credential) in aws.credentials.enumerated() {
            if let first = idHolders[credential.accessKeyID] {
                throw ConfigurationError.invalid(
                    key: "aws.credentials[\(index)].access_key_id",
                    reason: "is the same access key id as aws.credentials[\(first)]: each key needs an id of its own")
            }
            idHolders[credential.accessKeyID] = index
        }
        try auth.validate()
        try imports.validate()
        if let url = database.url {
            let scheme = url.split(separator: ":").first.map { $0.lowercased() } ?? ""
            try check(
                ["postgres", "postgresql"].contains(scheme), "database.url",
                "is a postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE, or "
                    + "postgres:///DATABASE?host=/socket/dir); leave it out for SQLite in the store")
        }
        try check(
            ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logging.level),
            "logging.level", "is trace, debug, info, notice, warning, error or critical")
    }

    /// Whether a number of seconds (or days) is finite and in `from...to`: an unbounded one (`.inf`, `1e300`)
    /// cannot become a `Duration` or a timer and traps the process that uses it.
    static func seconds(_ value: Double, from low: Double, to high: Double) -> Bool {
        value.isFinite && value >= low && value <= high
    }

    /// Whether a number of seconds is finite, over `low` and at most `high`.
    static func seconds(_ value: Double, above low: Double, to high: Double) -> Bool {
        value.isFinite && value > low && value <= high
    }

    /// A YAML syntax error as "line L, column C: problem". A scanner error is placed where the token it was
    /// scanning starts (its context), not where the scanner gave up: a key without its `:` on the last line was
    /// said to be on the line after it (until session 36).
    private static func explain(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let problemMark, _):
            let mark = context?.mark ?? problemMark
            let contextText = context.map { "\($0.text) " } ?? ""
            return "line \(mark.line), column \(mark.column): \(contextText)\(problem)"
        case .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            // A collection left open is placed where it starts, and where the parser gave up (until session 37 only
            // there: the line after the file's last one for an unclosed `[` on it).
            guard let context else { return "line \(mark.line), column \(mark.column): \(problem)" }
            guard context.mark.line != mark.line || context.mark.column != mark.column else {
                return "line \(mark.line), column \(mark.column): \(context.text) \(problem)"
            }
            return "line \(context.mark.line), column \(context.mark.column): \(context.text) \(problem) "
                + "(found at line \(mark.line), column \(mark.column))"
        case .reader(let problem, let offset, _, _):
            return offset.map { "\(problem) at byte \($0)" } ?? problem
        default:
            return "\(error)"
        }
    }

    private static func explain(_ error: DecodingError, in document: Node?) -> String {
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            // What the key takes, in the words of the environment's errors, and what the file gave (until session 29
            // Yams' own words: "runtime.retry_backoff: Expected to decode Sequence but found Node instead").
            let found = document.flatMap { ValueShape.node(at: context.codingPath, in: $0) }
            let place = ValueShape.path(context.codingPath) + (found?.mark.map { " (line \($0.line))" } ?? "")
            let expected = ValueShape.expected(at: context.codingPath, type: type)
            return "\(place): expected \(expected)"
                + (found.map { ", not \(ValueShape.describe($0, keepingQuotes: true))" } ?? "")
        case .dataCorrupted(let context):
            return "\(ValueShape.path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(ValueShape.path(context.codingPath)): missing key \(key.stringValue)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The shape a configuration value has or should have, said the way a person writes it: "a list of numbers such as
/// [1, 2]", "true or false"; the examples are the key's defaults.
enum ValueShape {
    /// The defaults as a YAML document, for examples of each key's shape (made when a message needs it).
    static func defaults() -> Node? {
        (try? YAMLEncoder().encode(PicpipeConfiguration())).flatMap { try? Yams.compose(yaml: $0) }
    }

    /// `runtime.retry_backoff`, `thumbnails.sizes[0]`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.reduce("") { text, key in
            key.intValue.map { text + "[\($0)]" } ?? (text.isEmpty ? key.stringValue : text + "." + key.stringValue)
        }
    }

    /// The node a coding path leads to in a document, if it is there.
    static func node(at codingPath: [any CodingKey], in document: Node) -> Node? {
        var node: Node? = document
        for key in codingPath {
            switch node {
            case .mapping(let mapping)?: node = mapping.first { $0.key.string == key.stringValue }?.value
            case .sequence(let sequence)?:
                node = key.intValue.flatMap { $0 < sequence.count ? sequence[$0] : nil }
            default: return nil
            }
        }
        return node
    }

    /// The node of a dotted key with indices (`functions.thumbnail.timeout`, `http.previous_signing_keys[1]`).
    static func node(atDottedPath key: String, in document: Node) -> Node? {
        var node: Node? = document
        for part in key.split(separator: ".") {
            var name = Substring(part)
            var index: Int?
            if let open = part.firstIndex(of: "["), part.hasSuffix("]") {
                name = part[..<open]
                index = Int(part[part.index(after: open)..<part.index(before: part.endIndex)])
            }
            guard case .mapping(let mapping)? = node else { return nil }
            node = mapping.first { $0.key.string == String(name) }?.value
            if let index {
                guard case .sequence(let items)? = node, index < items.count else { return nil }
                node = items[index]
            }
        }
        return node
    }

    /// What the key at `codingPath` takes: the shape of its default when it has one, else of the type Yams expected.
    static func expected(at codingPath: [any CodingKey], type: Any.Type) -> String {
        let scalar: String
        switch type {
        case is Bool.Type: return "true or false"
        case is Double.Type, is Float.Type: scalar = "a number"
        case is Int.Type, is UInt.Type, is Int64.Type, is UInt64.Type: scalar = "a whole number"
        case is String.Type: scalar = "text"
        default: scalar = "a single value"
        }
        let example = defaults().flatMap { node(at: codingPath, in: $0) }
        switch example {
        case .sequence(let items)?:
            let numbers = !items.isEmpty && items.allSatisfy { $0.float != nil }
            return (numbers ? "a list of numbers" : "a list")
                + (items.isEmpty ? "" : " such as [\(items.map { describe($0) }.joined(separator: ", "))]")
        case .mapping?: return "a section of keys (key: value lines)"
        case .scalar(let value)? where !value.string.isEmpty && type != Node.Sequence.self:
            return "\(scalar) such as \(describe(.scalar(value)))"
        default:
            if type == Node.Sequence.self { return "a list" }
            if type == Node.Mapping.self { return "a section of keys (key: value lines)" }
            return scalar
        }
    }

    /// A value as the file shows it: a scalar as written (a whole double without its ".0"), else its kind.
    /// `keepingQuotes` shows a quoted scalar in its quotes, so `"256"` given for a number does not read as 256.
    static func describe(_ node: Node, keepingQuotes: Bool = false) -> String {
        switch node {
        case .scalar(let scalar) where keepingQuotes && scalar.style == .doubleQuoted:
            return "\"\(scalar.string)\""
        case .scalar(let scalar) where keepingQuotes && scalar.style == .singleQuoted:
            return "'\(scalar.string)'"
        case .scalar(let scalar):
            if let number = Double(scalar.string), number == number.rounded(), abs(number) < 1e15,
                scalar.string.contains(".") || scalar.string.contains("e")
            {
                return String(Int(number))
            }
            return scalar.string.isEmpty ? "nothing" : scalar.string
        case .sequence: return "a list"
        case .mapping: return "a section of keys"
        }
    }
}

/// Typed reads of environment variables, with errors that name the variable. It remembers every name asked for:
/// that list is the set of known variables, so a new variable needs no second list.
final class EnvironmentReader {
    let environment: [String: String]
    /// The names asked for so far, in order.
    private(set) var consulted: [String] = []

    init(_ environment: [String: String]) { self.environment = environment }

    func string(_ name: String) -> String? {
        if !consulted.contains(name) { consulted.append(name) }
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    func list(_ name: String) -> [String]? {
        string(name).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    func int(_ name: String) throws -> Int? {
        guard let value = string(name) else { return nil }
        guard let number = Int(value.replacingOccurrences(of: "_", with: "")) else {
            throw ConfigurationError.badEnvironment(variable: name, value: value, expected: "an integer")
        }
        return number
    }

    func double(_ name: String) throws -> Double? {
        guard let value = string(name) else { return nil }
        guard let number = Double(value) else {
            throw ConfigurationError.badEnvironment(variable: name, value: value, expected: "a number")
        }
        return number
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = string(name)?.lowercased() else { return nil }
        switch value {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError.badEnvironment(variable: name, value: value, expected: "true or false")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        guard let items = list(name), let value = string(name) else { return nil }
        let numbers = items.compactMap { Int($0) }
        guard numbers.count == items.count else {
            throw ConfigurationError.badEnvironment(
                variable: name, value: value, expected: "integers separated by commas")
        }
        return numbers
    }

    func doubles(_ name: String) throws -> [Double]? {
        guard let items = list(name), let value = string(name) else { return nil }
        let numbers = items.compactMap { Double($0) }
        guard numbers.count == items.count else {
            throw ConfigurationError.badEnvironment(
                variable: name, value: value, expected: "numbers separated by commas")
        }
        return numbers
    }
}
