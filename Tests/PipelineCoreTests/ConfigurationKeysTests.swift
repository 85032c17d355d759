// Unknown configuration keys and PICPIPE_* variables are refused with their path and a "did you mean".
import Foundation
import Testing

@testable import PipelineCore

struct ConfigurationKeysTests {
    @Test func theKnownKeysComeFromTheTypes() {
        let paths = Set(ConfigurationKeys.known.paths)
        for path in [
            "store", "thumbnails.sizes", "limits.max_pixels", "functions.thumbnail.timeout",
            "functions.metadata.memory_mb", "watcher.rescan_interval", "runtime.retry_backoff", "http.signing_key",
            "http.api_keys", "logging.level",
        ] {
            #expect(paths.contains(path), "\(path)")
        }
    }

    /// A key of a subsection written one level too high (`concurrency` under `functions:`) names the keys it may
    /// have meant; until session 36 there was no suggestion.
    @Test func aKeyOneLevelTooHighSuggestsTheSubsectionsKeys() throws {
        let yaml = """
            functions:
              concurrency: 2
            """
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "c.yaml", key: "functions.concurrency", line: 2,
                suggestion: "functions.fetch.concurrency', 'functions.metadata.concurrency' or "
                    + "'functions.thumbnail.concurrency")
        ) {
            try PicpipeConfiguration.parse(yaml: yaml, path: "c.yaml")
        }
    }

    @Test func anUnknownKeyIsRefusedWithItsPathLineAndSuggestion() throws {
        let yaml = """
            store: ./picstore
            functions:
              thumbnail:
                timeot: 10
            """
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "picpipe.yaml", key: "functions.thumbnail.timeot", line: 4,
                suggestion: "functions.thumbnail.timeout")
        ) {
            try PicpipeConfiguration.parse(yaml: yaml, path: "picpipe.yaml")
        }
        // A key in the wrong section points to the right one.
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "c.yaml", key: "max_pixels", line: 1, suggestion: "limits.max_pixels")
        ) {
            try PicpipeConfiguration.parse(yaml: "max_pixels: 5\n", path: "c.yaml")
        }
        let message = ConfigurationError.unknownKey(
            path: "picpipe.yaml", key: "functions.thumbnail.timeot", line: 4,
            suggestion: "functions.thumbnail.timeout"
        ).description
        #expect(message.contains("functions.thumbnail.timeot") && message.contains("did you mean"))
    }

    /// A typo inside an entry of a list of objects is refused like any other, named by the entry's place: a
    /// misspelt `buckets` or `functions` of an S3 key would leave the key every bucket and function, `readonly` a key
    /// that may delete (until session 35 such keys were never looked at); an API key's own usage plan is checked too.
    @Test func aTypoInsideAListEntryIsRefused() {
        let credentials = """
            aws:
              credentials:
                - {access_key_id: admin, secret_access_key: s3cret-0}
                - access_key_id: uploader
                  secret_access_key: s3cret-1
                  bukets: [uploads]
            """
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "c.yaml", key: "aws.credentials[1].bukets", line: 6, suggestion: "aws.credentials[1].buckets")
        ) { try PicpipeConfiguration.parse(yaml: credentials, path: "c.yaml") }
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "c.yaml", key: "aws.credentials[0].readonly", line: 1,
                suggestion: "aws.credentials[0].read_only")
        ) {
            try PicpipeConfiguration.parse(
                yaml: "aws: {credentials: [{access_key_id: a, secret_access_key: b, buckets: [originals], "
                    + "readonly: true}]}",
                path: "c.yaml")
        }
        let plan = """
            auth:
              api_keys:
                - name: gallery
                  key: gallery-key-0123456789
                  scopes: [images:read]
                  usage_plan: {rate: 5, burts: 10}
            """
        #expect(
            throws: ConfigurationError.unknownKey(
                path: "c.yaml", key: "auth.api_keys[0].usage_plan.burts", line: 6,
                suggestion: "auth.api_keys[0].usage_plan.burst")
        ) { try PicpipeConfiguration.parse(yaml: plan, path: "c.yaml") }
        // Lists of plain values hold no keys to check, and correct entries pass.
        #expect(throws: Never.self) {
            try PicpipeConfiguration.parse(
                yaml: "thumbnails: {sizes: [64, 256]}\n"
                    + credentials.replacingOccurrences(of: "bukets", with: "buckets"),
                path: "c.yaml")
        }
    }

    /// The same access key id in two entries is refused, naming both: the last would silently win, and the first
    /// secret fail every signature (until session 35 it was accepted).
    @Test func anAccessKeyIDGivenTwiceIsRefused() {
        let yaml = """
            aws:
              credentials:
                - {access_key_id: dup, secret_access_key: first-secret}
                - {access_key_id: dup, secret_access_key: second-secret, read_only: true}
            """
        #expect(
            throws: ConfigurationError.invalid(
                key: "aws.credentials[1].access_key_id",
                reason: "is the same access key id as aws.credentials[0]: each key needs an id of its own")
        ) { try PicpipeConfiguration.parse(yaml: yaml).validate() }
    }

    /// A key unknown inside a section is suggested only a key of that section, never one of another section that
    /// ends the same (until session 34 `functions.thumbnail.enabled` suggested `aws.enabled`, which turns off the S3
    /// front door); a section's key written at the top still points to its section when only one section has it.
    @Test func suggestionsStayInTheSection() {
        func suggestion(_ yaml: String) -> String?? {
            do {
                _ = try PicpipeConfiguration.parse(yaml: yaml, path: "c.yaml")
                return .none
            } catch ConfigurationError.unknownKey(_, _, _, let suggestion) {
                return .some(suggestion)
            } catch {
                return .none
            }
        }
        #expect(suggestion("functions:\n  thumbnail:\n    enabled: false\n") == .some(nil))
        #expect(suggestion("thumbnails:\n  enabled: false\n") == .some(nil))
        #expect(suggestion("thumbnails:\n  filter: lanczos3\n") == .some(nil))
        #expect(suggestion("http:\n  region: us-east-1\n") == .some(nil))
        #expect(suggestion("functions:\n  thumbnail:\n    timeot: 10\n") == .some("functions.thumbnail.timeout"))
        #expect(suggestion("max_pixels: 5\n") == .some("limits.max_pixels"))
        // At the top, a name two sections have (aws.enabled, watcher.enabled) is not guessed at.
        #expect(suggestion("enabled: false\n") == .some(nil))
        let message = ConfigurationError.unknownKey(
            path: "c.yaml", key: "functions.thumbnail.enabled", line: 3, suggestion: nil
        ).description
        #expect(!message.contains("aws.enabled"))
    }

    @Test func everyPrintedKeyIsKnown() throws {
        var configuration = PicpipeConfiguration()
        configuration.http.signingKey = "secret"
        let text = try configuration.yaml()
        #expect(try PicpipeConfiguration.parse(yaml: text) == configuration)
    }

    @Test func syntaxErrorsGiveLineAndColumn() throws {
        do {
            _ = try PicpipeConfiguration.parse(yaml: "store: ./a\nthumbnails:\n  sizes: [1, 2\n", path: "broken.yaml")
            Issue.record("no error")
        } catch let error as ConfigurationError {
            let text = error.description
            #expect(text.contains("broken.yaml"))
            #expect(text.contains("line "))
            #expect(text.contains("column "))
            #expect(!text.contains(": : "))
        }
    }

    @Test func unknownPicpipeVariablesAreRefused() throws {
        #expect(
            throws: ConfigurationError.unknownVariable(
                name: "PICPIPE_THUMBANIL_SIZES", suggestion: "PICPIPE_THUMBNAIL_SIZES")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBANIL_SIZES": "64"])
        }
        // Not configuration: the tests', the set-up script's and the benchmarks' own, and other programs'.
        let fine = [
            "PICPIPE_TEST_DATABASE_URL": "postgres://x", "PICPIPE_SETUP_RELEASE": "0", "PICPIPE_BENCH_FILES": "3",
            "PICPIPE_CONFIG": "", "HOME": "/root", "PICPIPE_THUMBNAIL_SIZES": "64",
        ]
        #expect(try PicpipeConfiguration.load(environment: fine).thumbnails.sizes == [64])
        #expect(PicpipeConfiguration.environmentVariables.contains("PICPIPE_FUNCTIONS_METADATA_MEMORY_MB"))
        #expect(PicpipeConfiguration.environmentVariables.contains("PICPIPE_WATCHER_ENABLED"))
    }

    @Test func secretsAreRedacted() {
        var configuration = PicpipeConfiguration()
        configuration.http.apiKeys = ["k1", "k2"]
        configuration.http.signingKey = "s"
        let redacted = configuration.redactingSecrets()
        #expect(redacted.http.apiKeys == ["<redacted>", "<redacted>"])
        #expect(redacted.http.signingKey == "<redacted>")
        #expect(PicpipeConfiguration().redactingSecrets().http.signingKey == nil)
    }

    @Test func suggestionsAreTyposOnly() {
        #expect(Suggestion.closest(to: "thumbnial", among: ["thumbnail", "batch"]) == "thumbnail")
        #expect(Suggestion.closest(to: "qery", among: ["query", "events"]) == "query")
        #expect(Suggestion.closest(to: "zzz", among: ["query", "events"]) == nil)
    }
}
