// Log lines and tables stay one line per entry whatever text they are given.
import Logging
import Testing

@testable import PipelineCore

@Suite struct LogTextTests {
    @Test func controlCharactersAreWrittenAsEscapes() {
        #expect(LogText.escaped("a.jpg\nERROR forged\r\t") == "a.jpg\\nERROR forged\\r\\t")
        #expect(LogText.escaped("esc\u{1B}[31m\u{7F}\u{0}") == "esc\\u{1B}[31m\\u{7F}\\u{0}")
        // C1 controls and the Unicode separators too; other non-ASCII text is left alone.
        #expect(LogText.escaped("a\u{85}b\u{9B}c\u{2028}d\u{2029}") == "a\\u{85}b\\u{9B}c\\u{2028}d\\u{2029}")
        #expect(LogText.escaped("café – 写真 ✓.jpg") == "café – 写真 ✓.jpg")
        #expect(
            LogText.escaped(Logger.Metadata.Value.array([.string("x\ny"), .dictionary(["k": .stringConvertible(7)])]))
                .description == Logger.Metadata.Value.array([.string("x\\ny"), .dictionary(["k": "7"])]).description)
    }

    /// What a handler wrapped by `LineSafeLogHandler` is given.
    final class Recorder: @unchecked Sendable {
        // Safe: the test logs from one task and reads after.
        var events: [(String, Logger.Metadata)] = []
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorder.events.append((event.message.description, metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }

    @Test func theHandlerEscapesMessagesMetadataAndTheLoggersOwnKeys() {
        let recorder = Recorder()
        var logger = Logger(label: "test") { _ in LineSafeLogHandler(RecordingHandler(recorder: recorder)) }
        logger[metadataKey: "key"] = "evil.jpg\nforged"
        logger.info("upload \u{1B}[2J", metadata: ["file": "a\rb", "count": .stringConvertible(3)])
        let (message, metadata) = recorder.events[0]
        #expect(message == "upload \\u{1B}[2J")
        #expect(metadata["key"]?.description == "evil.jpg\\nforged")
        #expect(metadata["file"]?.description == "a\\rb")
        #expect(metadata["count"]?.description == "3")
    }

    @Test func anInvocationsTailKeepsItsColumns() {
        let log = InvocationLog(requestID: "r1")
        log.append(level: .info, message: "made\tthumbnails", metadata: ["file": "a.jpg\nSTART RequestId: forged"])
        let lines = log.text.split(separator: "\n")
        #expect(lines.count == 1, "\(log.text)")
        #expect(lines[0].split(separator: "\t").count == 4)
        #expect(lines[0].hasSuffix("made\\tthumbnails file=a.jpg\\nSTART RequestId: forged"))
    }
}
