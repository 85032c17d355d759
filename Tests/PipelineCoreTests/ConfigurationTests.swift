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
        #expect(throws: ConfigurationError.invalid(key: "functions.thumbnail.max_retries", reason: "is 0, 1 or 2")) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_FUNCTIONS_THUMBNAIL_MAX_RETRIES": "5"])
        }
        #expect(
            throws: ConfigurationError.badEnvironment(
                variable: "PICPIPE_THUMBNAIL_SIZES", value: "big", expected: "integers separated by commas")
        ) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_SIZES": "big"])
        }
        #expect(throws: ConfigurationError.self) { try PicpipeConfiguration.parse(yaml: "thumbnails: [1, 2]") }
    }

    @Test func thumbnailColorIsSRGBUnlessTheFileOrTheEnvironmentSaysKeep() throws {
        #expect(try PicpipeConfiguration.load(environment: [:]).thumbnails.color == "srgb")
        #expect(try PicpipeConfiguration.parse(yaml: "thumbnails:\n  color: keep\n").thumbnails.color == "keep")
        let fromEnvironment = try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_COLOR": "keep"])
        #expect(fromEnvironment.thumbnails.color == "keep")
        #expect(throws: ConfigurationError.invalid(key: "thumbnails.color", reason: "is srgb or keep")) {
            try PicpipeConfiguration.load(environment: ["PICPIPE_THUMBNAIL_COLOR": "p3"])
        }
    }

    @Test func printedYAMLReadsBackTheSame() throws {
        var configuration = PicpipeConfiguration()
        configuration.thumbnails.sizes = [100, 200]
        configuration.functions.thumbnail.concurrency = 2
        configuration.http.signingKey = "secret"
        let yaml = try configuration.yaml()
        #expect(yaml.contains("max_retries: 2"))
        #expect(try PicpipeConfiguration.parse(yaml: yaml) == configuration)
    }
}
