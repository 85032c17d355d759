import Foundation
import Testing

@testable import PipelineCore

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() throws {
        let configuration = try PicpipeConfiguration.load(file: nil, environment: [:])
        #expect(configuration.store == "./picstore")
        #expect(configuration.thumbnails.sizes == [128, 256, 1024])
        #expect(configuration.thumbnails.quality == 82)
        #expect(configuration.limits.maxPixels == 100_000_000)
        #expect(configuration.functions.thumbnail.timeout == 30)
        #expect(configuration.functions.metadata.maxRetries == 2)
        #expect(configuration.http.listen == "127.0.0.1:8080")
    }

    @Test func aPartialFileKeepsTheOtherDefaults() throws {
        let configuration = try PicpipeConfiguration.parse(
            yaml: """
                store: /tmp/somewhere
                thumbnails:
                  sizes: [64, 512]
                functions:
                  thumbnail:
                    timeout: 5
                    max_retries: 1
                """)
        #expect(configuration.store == "/tmp/somewhere")
        #expect(configuration.thumbnails.sizes == [64, 512])
        #expect(configuration.thumbnails.format == "jpeg")
        #expect(configuration.functions.thumbnail.timeout == 5)
        #expect(configuration.functions.thumbnail.maxRetries == 1)
        #expect(configuration.functions.thumbnail.memoryMB == 1024)
        #expect(configuration.functions.metadata == FunctionConfiguration())
    }

    @Test func environmentOverridesTheFileAndTheStoreOptionOverridesAll() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "picpipe-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("picpipe.yaml")
        try Data("store: from-file\nthumbnails:\n  sizes: [10]\n".utf8).write(to: file)
        let environment = [
            "PICPIPE_THUMBNAIL_SIZES": "128, 512", "PICPIPE_FUNCTIONS_METADATA_TIMEOUT": "7.5",
            "PICPIPE_API_KEYS": "a,b", "PICPIPE_STORE": "from-env", "PICPIPE_RETRY_BACKOFF": "0.1,0.2",
        ]
        let loaded = try PicpipeConfiguration.load(file: file.path, environment: environment)
        #expect(loaded.thumbnails.sizes == [128, 512])
        #expect(loaded.functions.metadata.timeout == 7.5)
        #expect(loaded.http.apiKeys == ["a", "b"])
        #expect(loaded.store == "from-env")
        #expect(loaded.runtime.retryBackoff == [0.1, 0.2])
        let withOption = try PicpipeConfiguration.load(file: file.path, environment: environment, store: "cli")
        #expect(withOption.store == "cli")
    }

    @Test func badValuesAreRefusedWithTheirName() throws {
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_FUNCTIONS_THUMBNAIL_MAX_RETRIES", value: "5", key: "functions.thumbnail.max_retries",
                reason: "is 0, 1 or 2")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_FUNCTIONS_THUMBNAIL_MAX_RETRIES": "5"])
        }
        #expect(
            throws: ConfigurationError.badEnvironment(
                variable: "PICPIPE_THUMBNAIL_SIZES", value: "big", expected: "integers separated by commas")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_SIZES": "big"])
        }
        #expect(throws: ConfigurationError.self) { try PicpipeConfiguration.parse(yaml: "thumbnails: [1, 2]") }
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_JOURNAL_RETENTION_DAYS", value: "-1", key: "runtime.journal_retention_days",
                reason: "is 0 (keep everything) to 36500 days")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_JOURNAL_RETENTION_DAYS": "-1"])
        }
        #expect(try PicpipeConfiguration.load(environment: [:]).runtime.journalRetentionDays == 30)
        #expect(
            try PicpipeConfiguration.parse(yaml: "runtime: {journal_retention_days: 7}").runtime.journalRetentionDays
                == 7)
    }

    /// Numbers past what a process can use are refused at load, as the Lambda API refuses them (until session 32
    /// `timeout: 1e300`, `.inf` or `concurrency: 1000000` passed `picpipe config` and a SIGHUP, then trapped
    /// converting to a Duration, or stalled serve allocating a million workers).
    @Test func unboundedNumbersAreRefusedAtLoad() throws {
        for (yaml, key) in [
            ("functions:\n  thumbnail:\n    timeout: 1e300\n", "functions.thumbnail.timeout"),
            ("functions:\n  thumbnail:\n    timeout: .inf\n", "functions.thumbnail.timeout"),
            ("functions:\n  thumbnail:\n    timeout: 901\n", "functions.thumbnail.timeout"),
            ("functions:\n  thumbnail:\n    memory_mb: 9000000000000\n", "functions.thumbnail.memory_mb"),
            ("functions:\n  metadata:\n    concurrency: 1000000\n", "functions.metadata.concurrency"),
            ("functions:\n  metadata:\n    reserved_concurrency: 1001\n", "functions.metadata.reserved_concurrency"),
            ("functions:\n  fetch:\n    max_event_age: 21601\n", "functions.fetch.max_event_age"),
            ("runtime:\n  poll_interval: 1e300\n", "runtime.poll_interval"),
            ("runtime:\n  shutdown_grace: .inf\n", "runtime.shutdown_grace"),
            ("runtime:\n  retry_backoff: [1, .inf]\n", "runtime.retry_backoff"),
            ("http:\n  idle_timeout: 1e300\n", "http.idle_timeout"),
            ("http:\n  header_timeout: .inf\n", "http.header_timeout"),
            ("watcher:\n  rescan_interval: .inf\n", "watcher.rescan_interval"),
            ("import:\n  timeout: .inf\n", "import.timeout"),
            ("aws:\n  multipart_expiry_days: .inf\n", "aws.multipart_expiry_days"),
        ] {
            do {
                try PicpipeConfiguration.parse(yaml: yaml).validate()
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigurationError {
                #expect(error.refused?.key == key, "\(yaml): \(error)")
            }
        }
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_FUNCTIONS_THUMBNAIL_TIMEOUT": "inf"])
        }
        // The limits themselves are taken.
        let limits = try PicpipeConfiguration.parse(
            yaml: "functions:\n  thumbnail:\n    timeout: 900\n    memory_mb: 10240\n    concurrency: 1000\n")
        try limits.validate()
        #expect(limits.functions.thumbnail.timeout == 900 && limits.functions.thumbnail.concurrency == 1000)
    }

    /// An out-of-range value is named where it was given: the file with its line and value, or the variable with
    /// its value (until session 32 only the key: `configuration 'functions.metadata.max_retries': is 0, 1 or 2`).
    @Test func anOutOfRangeValueNamesTheFileLineOrVariable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("serve.yaml")
        try Data("store: ./s\nfunctions:\n  metadata:\n    max_retries: 5\n".utf8).write(to: file)
        #expect(
            throws: ConfigurationError.invalidInFile(
                path: file.path, line: 4, key: "functions.metadata.max_retries", value: "5", reason: "is 0, 1 or 2")
        ) {
            // An unrelated variable beside it is not blamed.
            try PicpipeConfiguration.load(file: file.path, environment: ["PICPIPE_LOG_LEVEL": "debug"])
        }
        let refused = ConfigurationError.invalidInFile(
            path: "serve.yaml", line: 4, key: "functions.metadata.max_retries", value: "5", reason: "is 0, 1 or 2")
        #expect(
            refused.description
                == "the configuration file serve.yaml is not valid: functions.metadata.max_retries (line 4): "
                + "is 0, 1 or 2, not 5")
        // A variable that sets it over a good file is named, with its value.
        try Data("store: ./s\n".utf8).write(to: file)
        let environment = ["PICPIPE_FUNCTIONS_METADATA_MAX_RETRIES": "5", "PICPIPE_LOG_LEVEL": "debug"]
        do {
            _ = try PicpipeConfiguration.load(file: file.path, environment: environment)
            Issue.record("max_retries 5 was accepted")
        } catch let error as ConfigurationError {
            #expect(
                error.description
                    == "environment variable PICPIPE_FUNCTIONS_METADATA_MAX_RETRIES='5': functions.metadata.max_retries "
                    + "is 0, 1 or 2")
        }
    }

    /// A thumbnail size out of range is named by its place in the list, with its line and value, as every other
    /// out-of-range value is, and a size listed twice is refused naming both places (until session 34 `sizes are
    /// 1-16384 px` whichever it was, and `[256, 256]` was taken).
    @Test func aThumbnailSizeOutOfRangeOrRepeatedIsNamedWithItsPlace() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("s.yaml")
        try Data("thumbnails:\n  sizes: [128, 256, 99999, 512]\n".utf8).write(to: file)
        do {
            _ = try PicpipeConfiguration.load(file: file.path, environment: [:])
            Issue.record("size 99999 was accepted")
        } catch let error as ConfigurationError {
            #expect(
                error.description
                    == "the configuration file \(file.path) is not valid: thumbnails.sizes[2] (line 2): is 1-16384, "
                    + "not 99999")
        }
        try Data("thumbnails:\n  sizes:\n    - 128\n    - -5\n".utf8).write(to: file)
        #expect(
            throws: ConfigurationError.invalidInFile(
                path: file.path, line: 4, key: "thumbnails.sizes[1]", value: "-5", reason: "is 1-16384")
        ) { try PicpipeConfiguration.load(file: file.path, environment: [:]) }
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_THUMBNAIL_SIZES", value: "128,0", key: "thumbnails.sizes[1]", reason: "is 1-16384")
        ) { try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_SIZES": "128,0"]) }
        // A size listed twice names the size and both places.
        try Data("thumbnails:\n  sizes: [256, 700, 256]\n".utf8).write(to: file)
        do {
            _ = try PicpipeConfiguration.load(file: file.path, environment: [:])
            Issue.record("sizes [256, 700, 256] were accepted")
        } catch let error as ConfigurationError {
            #expect(
                error.description
                    == "the configuration file \(file.path) is not valid: thumbnails.sizes (line 2): lists 256 twice "
                    + "([0] and [2]); give each size once")
        }
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_THUMBNAIL_SIZES", value: "128,128", key: "thumbnails.sizes",
                reason: "lists 128 twice ([0] and [1]); give each size once")
        ) { try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_SIZES": "128,128"]) }
        // A quoted number keeps its quotes in the message, which would otherwise read "a whole number …, not 256".
        do {
            _ = try PicpipeConfiguration.parse(yaml: "thumbnails:\n  sizes: [\"256\"]\n", path: "q.yaml")
            Issue.record("a quoted size was accepted")
        } catch ConfigurationError.malformed(_, let reason) {
            #expect(reason == "thumbnails.sizes[0] (line 2): expected a whole number such as 128, not \"256\"")
        }
        let bounds = try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_SIZES": "1,16384"])
        #expect(bounds.thumbnails.sizes == [1, 16384])
    }

    /// A key given twice in one section is refused with both lines (until session 32 the last one silently won: a
    /// second `thumbnail:` section dropped the first one's timeout and retries).
    @Test func aKeyGivenTwiceIsRefused() {
        let sections =
            "functions:\n  thumbnail:\n    timeout: 5\n  metadata:\n    timeout: 7\n  thumbnail:\n    memory_mb: 2048\n"
        #expect(
            throws: ConfigurationError.malformed(
                path: "twice.yaml",
                reason: "functions.thumbnail (line 6) is given twice (first at line 2); keep one, as the last would "
                    + "silently replace the first")
        ) { try PicpipeConfiguration.parse(yaml: sections, path: "twice.yaml") }
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.parse(yaml: "functions:\n  thumbnail:\n    timeout: 5\n    timeout: 6\n")
        }
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.parse(
                yaml: "aws:\n  credentials:\n    - {access_key_id: a, access_key_id: b, secret_access_key: cccccccc}\n")
        }
    }

    /// A YAML syntax error names the line where the broken key starts, not the line where the parser gave up (until
    /// session 36, "line 5, column 1" for a bad 4th and last line).
    @Test func aYAMLSyntaxErrorNamesTheLineOfTheBrokenKey() {
        let broken = "store: x\nhttp:\n  listen: 127.0.0.1:18700\n  [broken: yaml\n"
        #expect(
            throws: ConfigurationError.malformed(
                path: "broken.yaml",
                reason: "line 4, column 3: while scanning a simple key could not find expected ':'")
        ) { try PicpipeConfiguration.parse(yaml: broken, path: "broken.yaml") }
    }

    /// A flow sequence or mapping left open names the line where it starts, and where the parser gave up (until
    /// session 37 only the second: "line 2, column 1" for `[broken: yaml` on line 1 of a one-line file).
    @Test func anUnclosedFlowCollectionNamesTheLineWhereItStarts() {
        #expect(
            throws: ConfigurationError.malformed(
                path: "c.yaml",
                reason: "line 1, column 1: while parsing a flow sequence did not find expected ',' or ']' "
                    + "(found at line 2, column 1)")
        ) { try PicpipeConfiguration.parse(yaml: "[broken: yaml\n", path: "c.yaml") }
        #expect(
            throws: ConfigurationError.malformed(
                path: "d.yaml",
                reason: "line 2, column 10: while parsing a flow sequence did not find expected ',' or ']' "
                    + "(found at line 3, column 5)")
        ) {
            let yaml = "thumbnails:\n  sizes: [128, 256\nhttp:\n  listen: x\n"
            _ = try PicpipeConfiguration.parse(yaml: yaml, path: "d.yaml")
        }
    }

    /// A file nested deeper than the YAML parser can recurse is refused before it is parsed (until session 33 a
    /// closed `[[…]]` 4,000 deep overflowed the stack: `picpipe config` exit 139, a running serve killed by SIGHUP).
    @Test func aConfigurationNestedTooDeepIsRefusedNotACrash() throws {
        let deep = "thumbnails: {sizes: " + String(repeating: "[", count: 8000) + "}\n"
        #expect(
            throws: ConfigurationError.malformed(
                path: "deep.yaml", reason: "line 1: nested deeper than 512 levels (a configuration needs a few)")
        ) { try PicpipeConfiguration.parse(yaml: deep, path: "deep.yaml") }
        // Block nesting by indentation is bounded the same way.
        var blocks = ""
        for level in 0..<600 { blocks += String(repeating: " ", count: level) + "k\(level):\n" }
        #expect(throws: ConfigurationError.self) { try PicpipeConfiguration.parse(yaml: blocks) }
        // Nesting a person writes is still read (and refused for its shape, not its depth).
        let nested =
            "thumbnails:\n  sizes: " + String(repeating: "[", count: 40) + "128" + String(repeating: "]", count: 40)
            + "\n"
        do {
            _ = try PicpipeConfiguration.parse(yaml: nested)
            Issue.record("a list nested in the sizes was accepted")
        } catch ConfigurationError.malformed(_, let reason) {
            #expect(reason.contains("expected a single value"))
        }
    }

    /// Aliases that stand for millions of values ("billion laughs") are refused at once (until session 33 the
    /// repeated-key check walked every expansion: a 432-byte file took 13 s, ten levels 20 minutes), and so is a
    /// chain of aliases deeper than a configuration nests; aliases a person uses still work.
    @Test func aliasesThatExpandTooFarAreRefusedAtOnce() throws {
        var laughs = "a0: &a0 [" + Array(repeating: "lol", count: 9).joined(separator: ", ") + "]\n"
        for level in 1..<9 {
            let aliases = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            laughs += "a\(level): &a\(level) [\(aliases)]\n"
        }
        #expect(
            throws: ConfigurationError.malformed(
                path: "laughs.yaml", reason: "stands for more than 100000 values once its aliases (*name) are expanded")
        ) { try PicpipeConfiguration.parse(yaml: laughs, path: "laughs.yaml") }
        var chain = "a0: &a0 [1]\n"
        for level in 1..<200 { chain += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        do {
            _ = try PicpipeConfiguration.parse(yaml: chain)
            Issue.record("a chain of 200 aliases was accepted")
        } catch ConfigurationError.malformed(_, let reason) {
            #expect(reason.hasSuffix("nested deeper than 64 levels (aliases followed)"))
        }
        let shared = """
            functions:
              thumbnail: &slow {timeout: 60, max_retries: 1}
              metadata: *slow
            """
        let configuration = try PicpipeConfiguration.parse(yaml: shared)
        #expect(configuration.functions.metadata.timeout == 60 && configuration.functions.metadata.maxRetries == 1)
    }

    /// `picpipe config` refuses what `serve` would: a listen address with no port, a port out of range or a host
    /// that is no name (until session 33 they passed the check and `serve` refused them), and a blank API key
    /// (`PICPIPE_API_KEYS=' '` was printed as a key while serve had none). A refused secret is never printed.
    @Test func listenAddressesAndBlankKeysAreRefusedByTheCheck() throws {
        for listen in ["127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:", "host name:8080", "localhost"] {
            do {
                _ = try PicpipeConfiguration.load(environment: ["PICPIPE_LISTEN": listen])
                Issue.record("listen \(listen) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.refused?.key == "http.listen", "\(listen)")
            }
        }
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_AWS_LISTEN": "127.0.0.1:99999"])
        }
        for listen in ["127.0.0.1:0", ":8080", "[::1]:8080", "photos.example.com:443"] {
            #expect(throws: Never.self) { try PicpipeConfiguration.load(environment: ["PICPIPE_LISTEN": listen]) }
        }
        do {
            _ = try PicpipeConfiguration.load(environment: ["PICPIPE_API_KEYS": "good-key, "])
            Issue.record("a blank API key was accepted")
        } catch let error as ConfigurationError {
            #expect(error.refused?.key == "http.api_keys[1]")
            #expect(!error.description.contains("good-key"))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("serve.yaml")
        try Data("http:\n  signing_key: too-short-9\n".utf8).write(to: file)
        #expect(
            throws: ConfigurationError.invalidInFile(
                path: file.path, line: 2, key: "http.signing_key", value: nil,
                reason: "must be at least 16 characters")
        ) { try PicpipeConfiguration.load(file: file.path, environment: [:]) }
    }

    /// A secret given twice is named by its file and line as every other refused value is (until session 33 only
    /// as `auth.api_keys[1] (gallery)`, with no place).
    @Test func aRepeatedSecretIsNamedByItsLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("serve.yaml")
        let text = """
            auth:
              api_keys:
                - {name: root, key: "admin-key-0123456789", scopes: [admin]}
                - {name: gallery, key: "admin-key-0123456789", scopes: [images:read]}
            """
        try Data(text.utf8).write(to: file)
        do {
            _ = try PicpipeConfiguration.load(file: file.path, environment: [:])
            Issue.record("a repeated secret was accepted")
        } catch let error as ConfigurationError {
            #expect(
                error.description
                    == "the configuration file \(file.path) is not valid: auth.api_keys[1].key (line 4): is the same "
                    + "secret as auth.api_keys[0].key (root): each key must be a different secret")
        }
    }

    /// A value of the wrong shape says what the key takes, with its default as the example, and what the file gave,
    /// as the environment's errors do (until session 29 Yams' words: "Expected to decode Sequence but found Node
    /// instead", "Expected Bool value but found Scalar(string: …)").
    @Test func aValueOfTheWrongShapeSaysWhatTheKeyTakes() {
        let cases: [(String, String)] = [
            (
                "runtime:\n  retry_backoff: 1\n",
                "runtime.retry_backoff (line 2): expected a list of numbers such as [1, 2], not 1"
            ),
            (
                "runtime:\n  retry_backoff: [1, x]\n",
                "runtime.retry_backoff[1] (line 2): expected a number such as 2, not x"
            ),
            ("watcher:\n  enabled: maybe\n", "watcher.enabled (line 2): expected true or false, not maybe"),
            (
                "functions:\n  thumbnail:\n    concurrency: 1.5\n",
                "functions.thumbnail.concurrency (line 3): expected a whole number such as 1, not 1.5"
            ),
            (
                "http:\n  listen: [a]\n",
                "http.listen (line 2): expected a single value such as 127.0.0.1:8080, not a list"
            ),
            ("runtime: 5\n", "runtime (line 1): expected a section of keys (key: value lines), not 5"),
        ]
        for (yaml, reason) in cases {
            #expect(throws: ConfigurationError.malformed(path: "c.yaml", reason: reason), "\(yaml)") {
                try PicpipeConfiguration.parse(yaml: yaml, path: "c.yaml")
            }
        }
    }

    @Test func tokensAcceptOnlyRS256AndES256AndRefetchKeysAtMostOnceAMinute() throws {
        let oidc = try PicpipeConfiguration.parse(
            yaml: """
                auth:
                  oidc: {issuer: "https://id.example.com/realms/photos", audience: picpipe-api}
                """
        ).auth.oidc
        #expect(oidc.algorithms == ["RS256", "ES256"])
        #expect(oidc.jwksRefreshInterval == 60)
        #expect(oidc.clockSkew == 60)
        for algorithm in ["HS256", "none", "RS512"] {
            #expect(throws: ConfigurationError.self) {
                try PicpipeConfiguration.parse(
                    yaml: """
                        auth:
                          oidc: {issuer: "https://id.example.com", audience: a, algorithms: [RS256, \(algorithm)]}
                        """
                ).validate()
            }
        }
        // An issuer over plain http is refused except on loopback (the tests' own issuer); a name that merely starts
        // `127.` is no loopback (until session 37 it was taken for one). The JWKS is held to the same rule.
        for issuer in ["http://id.example.com", "http://127.example.com"] {
            #expect(throws: ConfigurationError.self, "\(issuer)") {
                try PicpipeConfiguration.parse(yaml: "auth:\n  oidc: {issuer: \"\(issuer)\", audience: a}\n")
                    .validate()
            }
        }
        for issuer in [
            "http://127.0.0.1:8080/realms/x", "http://localhost:9", "http://[::1]:9", "https://id.example.com",
        ] {
            #expect(OIDCSettings.isHTTPSOrLoopback(issuer), "\(issuer)")
            try PicpipeConfiguration.parse(yaml: "auth:\n  oidc: {issuer: \"\(issuer)\", audience: a}\n").validate()
        }
    }

    @Test func thumbnailColorIsSRGBUnlessTheFileOrTheEnvironmentSaysKeep() throws {
        #expect(try PicpipeConfiguration.load(environment: [:]).thumbnails.color == "srgb")
        #expect(try PicpipeConfiguration.parse(yaml: "thumbnails:\n  color: keep\n").thumbnails.color == "keep")
        let fromEnvironment = try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_COLOR": "keep"])
        #expect(fromEnvironment.thumbnails.color == "keep")
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_THUMBNAIL_COLOR", value: "p3", key: "thumbnails.color", reason: "is srgb or keep")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_COLOR": "p3"])
        }
    }

    @Test func formatKeysHaveDefaultsVariablesAndRanges() throws {
        let defaults = try PicpipeConfiguration.load(environment: [:])
        #expect(defaults.thumbnails.webpQuality == 85 && defaults.thumbnails.avifQuality == 70)
        #expect(defaults.thumbnails.avifSpeed == 6 && !defaults.thumbnails.webpLossless)
        #expect(defaults.http.negotiateFormats)
        #expect(defaults.thumbnails.quality(for: "webp") == 85 && defaults.thumbnails.quality(for: "jpeg") == 82)
        let file = try PicpipeConfiguration.parse(
            yaml: "thumbnails:\n  format: avif\n  avif_quality: 50\n  avif_speed: 9\n  webp_lossless: true\n"
                + "http:\n  negotiate_formats: false\n")
        #expect(file.thumbnails.format == "avif" && file.thumbnails.quality(for: "avif") == 50)
        #expect(file.thumbnails.avifSpeed == 9 && file.thumbnails.webpLossless && !file.http.negotiateFormats)
        let environment = try PicpipeConfiguration.load(environment: [
            "PICPIPE_THUMBNAIL_WEBP_QUALITY": "70", "PICPIPE_NEGOTIATE_FORMATS": "false",
            "PICPIPE_THUMBNAIL_FORMAT": "webp",
        ])
        #expect(environment.thumbnails.webpQuality == 70 && !environment.http.negotiateFormats)
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_THUMBNAIL_FORMAT", value: "gif", key: "thumbnails.format",
                reason: "is jpeg, png, webp or avif (gif and heic are read, not written)")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_FORMAT": "gif"])
        }
        #expect(
            throws: ConfigurationError.invalidVariable(
                variable: "PICPIPE_THUMBNAIL_AVIF_SPEED", value: "10", key: "thumbnails.avif_speed", reason: "is 0-9")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_AVIF_SPEED": "10"])
        }
        #expect(throws: ConfigurationError.invalid(key: "thumbnails.webp_quality", reason: "is 1-100")) {
            try PicpipeConfiguration.parse(yaml: "thumbnails:\n  webp_quality: 0\n").validate()
        }
    }

    @Test func theConnectionLimitsHaveNginxLikeDefaultsVariablesAndRanges() throws {
        let defaults = try PicpipeConfiguration.load(environment: [:]).http
        #expect(defaults.maxHeaderBytes == 16384)
        #expect(defaults.maxURIBytes == 8192)
        #expect(defaults.headerTimeout == 10)
        #expect(defaults.maxConnections == 1024)
        #expect(defaults.sendTimeout == 30)
        let environment = [
            "PICPIPE_MAX_HEADER_BYTES": "32768", "PICPIPE_MAX_URI_BYTES": "4096", "PICPIPE_HEADER_TIMEOUT": "2.5",
            "PICPIPE_MAX_CONNECTIONS": "50", "PICPIPE_SEND_TIMEOUT": "7.5",
        ]
        let http = try PicpipeConfiguration.load(environment: environment).http
        #expect(http.maxHeaderBytes == 32768)
        #expect(http.maxURIBytes == 4096)
        #expect(http.headerTimeout == 2.5)
        #expect(http.maxConnections == 50)
        #expect(http.sendTimeout == 7.5)
        let file = try PicpipeConfiguration.parse(
            yaml: "http:\n  max_header_bytes: 8192\n  header_timeout: 3\n  send_timeout: 90\n"
        ).http
        #expect(file.maxHeaderBytes == 8192)
        #expect(file.headerTimeout == 3)
        #expect(file.sendTimeout == 90)
        for (variable, key) in [
            ("PICPIPE_MAX_HEADER_BYTES", "http.max_header_bytes"), ("PICPIPE_MAX_URI_BYTES", "http.max_uri_bytes"),
            ("PICPIPE_HEADER_TIMEOUT", "http.header_timeout"), ("PICPIPE_MAX_CONNECTIONS", "http.max_connections"),
            ("PICPIPE_SEND_TIMEOUT", "http.send_timeout"),
        ] {
            #expect(throws: ConfigurationError.self, "\(variable)=0") {
                try PicpipeConfiguration.load(environment: [variable: "0"])
            }
            do {
                _ = try PicpipeConfiguration.load(environment: [variable: "0"])
            } catch let error as ConfigurationError {
                #expect(error.refused?.key == key)
            }
        }
    }

    @Test func corsOriginsComeFromTheFileOrTheEnvironment() throws {
        #expect(try PicpipeConfiguration.load(environment: [:]).http.corsOrigins.isEmpty)
        let file = try PicpipeConfiguration.parse(yaml: "http:\n  cors_origins: [https://app.example.com, '*']\n")
        #expect(file.http.corsOrigins == ["https://app.example.com", "*"])
        let environment = try PicpipeConfiguration.load(
            environment: ["PICPIPE_CORS_ORIGINS": "https://a.example,http://localhost:5173"])
        #expect(environment.http.corsOrigins == ["https://a.example", "http://localhost:5173"])
        do {
            _ = try PicpipeConfiguration.load(environment: ["PICPIPE_CORS_ORIGINS": "https://a.example/"])
            Issue.record("an origin with a path was accepted")
        } catch let error as ConfigurationError {
            #expect(error.refused?.key == "http.cors_origins")
            #expect(error.refused?.reason.contains("'https://a.example/' is not one") == true)
        }
        // The AWS listener has its own list (a bucket's CORS rule), checked the same way.
        let aws = try PicpipeConfiguration.parse(yaml: "aws:\n  cors_origins: [https://shop.example]\n")
        #expect(aws.aws.corsOrigins == ["https://shop.example"] && aws.http.corsOrigins.isEmpty)
        #expect(
            try PicpipeConfiguration.load(environment: ["PICPIPE_AWS_CORS_ORIGINS": "*"]).aws.corsOrigins == ["*"])
        do {
            _ = try PicpipeConfiguration.load(environment: ["PICPIPE_AWS_CORS_ORIGINS": "shop.example"])
            Issue.record("an origin without a scheme was accepted")
        } catch let error as ConfigurationError {
            #expect(error.refused?.key == "aws.cors_origins")
            #expect(error.refused?.reason.contains("'shop.example' is not one") == true)
        }
    }

    /// `http.thumbnail_max_age`: how long caches keep a content id's thumbnail before they revalidate it (until
    /// session 29 a year, `immutable`, though the bytes change with the recipe).
    @Test func theThumbnailMaxAgeComesFromTheFileOrTheEnvironment() throws {
        let defaults = try PicpipeConfiguration.load(environment: [:])
        #expect(defaults.http.thumbnailMaxAge == 86400)
        #expect(try defaults.yaml().contains("\n  thumbnail_max_age: 86400\n"))
        #expect(try PicpipeConfiguration.parse(yaml: "http:\n  thumbnail_max_age: 600\n").http.thumbnailMaxAge == 600)
        #expect(
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_MAX_AGE": "0"]).http.thumbnailMaxAge == 0)
        for value in ["-1", "31536001"] {
            do {
                _ = try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_MAX_AGE": value])
                Issue.record("thumbnail_max_age \(value) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.refused?.key == "http.thumbnail_max_age")
            }
        }
    }

    @Test func aSecretUnderTwoKeyNamesAndAShortSigningKeyAreRefused() throws {
        let shadowed = """
            http:
              api_keys: ["plain-key-0123456789"]
            auth:
              api_keys:
                - {name: root, key: "admin-key-0123456789", scopes: [admin]}
                - {name: gallery, key: "admin-key-0123456789", scopes: [images:read]}
            """
        #expect(
            throws: ConfigurationError.invalid(
                key: "auth.api_keys[1].key",
                reason: "is the same secret as auth.api_keys[0].key (root): each key must be a different secret")
        ) { try PicpipeConfiguration.parse(yaml: shadowed).validate() }
        let plain =
            "http:\n  api_keys: [\"plain-key-0123456789\"]\nauth:\n  api_keys:\n"
            + "    - {name: gallery, key: \"plain-key-0123456789\", scopes: [images:read]}\n"
        #expect(
            throws: ConfigurationError.invalid(
                key: "auth.api_keys[0].key",
                reason: "is the same secret as http.api_keys[0]: each key must be a different secret")
        ) { try PicpipeConfiguration.parse(yaml: plain).validate() }
        #expect(
            throws: ConfigurationError.invalid(key: "http.signing_key", reason: "must be at least 16 characters")
        ) { try PicpipeConfiguration.parse(yaml: "http:\n  signing_key: x\n").validate() }
        #expect(
            throws: ConfigurationError.invalid(
                key: "http.previous_signing_keys[0]", reason: "must be at least 16 characters")
        ) {
            try PicpipeConfiguration.parse(
                yaml: "http:\n  signing_key: signing-key-0123456789\n  previous_signing_keys: [old]\n"
            ).validate()
        }
        try PicpipeConfiguration.parse(yaml: "http:\n  signing_key: signing-key-0123456789\n").validate()
    }

    @Test func printedYAMLReadsBackTheSame() throws {
        var configuration = PicpipeConfiguration()
        configuration.thumbnails.sizes = [100, 200]
        configuration.functions.thumbnail.concurrency = 2
        configuration.http.signingKey = "secret"
        configuration.http.corsOrigins = ["https://app.example.com"]
        configuration.aws.corsOrigins = ["https://shop.example"]
        let yaml = try configuration.yaml()
        #expect(yaml.contains("max_retries: 2"))
        #expect(try PicpipeConfiguration.parse(yaml: yaml) == configuration)
    }
}
