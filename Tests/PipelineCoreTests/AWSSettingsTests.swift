// The `aws` section: its keys in a file, its PICPIPE_AWS_* variables, and its secrets redacted.
import Foundation
import Testing

@testable import PipelineCore

@Suite struct AWSSettingsTests {
    @Test func defaultsListenOnLoopbackPort9000WithoutCredentials() throws {
        let configuration = try PicpipeConfiguration.load(environment: [:])
        #expect(configuration.aws.enabled)
        #expect(configuration.aws.listen == "127.0.0.1:9000")
        #expect(configuration.aws.region == "us-east-1")
        #expect(configuration.aws.credentials.isEmpty)
    }

    @Test func theFileNamesKeysAndWhatEachMayUse() throws {
        let configuration = try PicpipeConfiguration.parse(
            yaml: """
                aws:
                  listen: 127.0.0.1:9100
                  region: eu-west-1
                  credentials:
                    - access_key_id: READER
                      secret_access_key: r-secret
                      buckets: [originals, thumbnails]
                      functions: []
                """)
        #expect(configuration.aws.listen == "127.0.0.1:9100")
        #expect(configuration.aws.region == "eu-west-1")
        #expect(
            configuration.aws.credentials == [
                AWSCredentialSettings(
                    accessKeyID: "READER", secretAccessKey: "r-secret", buckets: ["originals", "thumbnails"],
                    functions: [])
            ])
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.parse(yaml: "aws:\n  lisen: 127.0.0.1:9100\n")
        }
    }

    @Test func environmentVariablesAreKnownAndAddAKey() throws {
        let configuration = try PicpipeConfiguration.load(environment: [
            "PICPIPE_AWS_ACCESS_KEY_ID": "ENVKEY", "PICPIPE_AWS_SECRET_ACCESS_KEY": "env-secret",
            "PICPIPE_AWS_LISTEN": "127.0.0.1:0", "PICPIPE_AWS_ENABLED": "true", "PICPIPE_AWS_REGION": "us-west-2",
        ])
        #expect(
            configuration.aws.credentials == [
                AWSCredentialSettings(accessKeyID: "ENVKEY", secretAccessKey: "env-secret")
            ])
        #expect(configuration.aws.listen == "127.0.0.1:0")
        #expect(configuration.aws.region == "us-west-2")
        // One without the other is a mistake, named.
        #expect(throws: ConfigurationError.self) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_AWS_ACCESS_KEY_ID": "ENVKEY"])
        }
        for name in [
            "PICPIPE_AWS_ACCESS_KEY_ID", "PICPIPE_AWS_SECRET_ACCESS_KEY", "PICPIPE_AWS_LISTEN", "PICPIPE_AWS_ENABLED",
            "PICPIPE_AWS_REGION",
        ] {
            #expect(PicpipeConfiguration.environmentVariables.contains(name))
        }
    }

    @Test func secretsAreRedacted() throws {
        var configuration = PicpipeConfiguration()
        configuration.aws.credentials = [AWSCredentialSettings(accessKeyID: "KEY", secretAccessKey: "secret")]
        let redacted = configuration.redactingSecrets()
        #expect(redacted.aws.credentials.first?.secretAccessKey == PicpipeConfiguration.redacted)
        #expect(redacted.aws.credentials.first?.accessKeyID == "KEY")
    }

    @Test func aBucketThatIsNotAnAreaIsRefused() {
        var configuration = PicpipeConfiguration()
        configuration.aws.credentials = [
            AWSCredentialSettings(accessKeyID: "KEY", secretAccessKey: "secret", buckets: ["photos"])
        ]
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}

extension AWSSettingsTests {
    @Test func aKeyMayBeReadOnly() throws {
        let configuration = try PicpipeConfiguration.parse(
            yaml: """
                aws:
                  credentials:
                    - {access_key_id: viewer, secret_access_key: s3cret-2, read_only: true}
                    - {access_key_id: writer, secret_access_key: s3cret-3}
                """)
        #expect(configuration.aws.credentials.map(\.readOnly) == [true, false])
    }

    @Test func incompleteMultipartUploadsExpireAfterAConfiguredNumberOfDays() throws {
        let configuration = try PicpipeConfiguration.parse(yaml: "aws:\n  multipart_expiry_days: 2\n")
        #expect(configuration.aws.multipartExpiryDays == 2)
        #expect(PicpipeConfiguration().aws.multipartExpiryDays == 7)
        let fromEnvironment = try PicpipeConfiguration.load(environment: ["PICPIPE_AWS_MULTIPART_EXPIRY_DAYS": "0.5"])
        #expect(fromEnvironment.aws.multipartExpiryDays == 0.5)
        var never = PicpipeConfiguration()
        never.aws.multipartExpiryDays = 0
        #expect(throws: ConfigurationError.self) { try never.validate() }
    }
}
