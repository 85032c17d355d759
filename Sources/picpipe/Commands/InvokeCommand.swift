// `picpipe invoke FUNCTION`: run one function the Lambda way (RequestResponse, Event, DryRun).
import ArgumentParser
import Foundation
import Logging
import PipelineCore

extension InvocationType: ExpressibleByArgument {}

/// Invokes one function with an S3-event payload.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a function with an S3 event payload: now, queued for serve, or as a dry run.",
        discussion: """
            The payload is an S3 event ({"Records": [...]}) or one record, inline or @FILE. Records name an \
            original of the store by key (originals/ab/<sha256>.jpg) and eTag (its SHA-256); `--key` builds \
            that record for you from an original already in the store.
            RequestResponse: runs now, prints the result JSON (exit 0) or the error JSON (exit 1).
            Event: journals a queued invocation for a running (or the next) serve, prints its ids, exit 0.
            DryRun: checks the payload and the function's role, runs nothing.
            Example:
              picpipe invoke thumbnail --key originals/ab/ab12….jpg --store ./picstore
              picpipe invoke metadata --payload @event.json --invocation-type Event
            """)

    @Argument(help: "The function: thumbnail, metadata or fetch.")
    var function: String

    @Option(help: "The payload: JSON text, or @FILE to read it from a file.")
    var payload: String?

    @Option(help: "Build an ObjectCreated:Put record for this original of the store (originals/…).")
    var key: String?

    @Option(help: "RequestResponse (default), Event or DryRun.")
    var invocationType: InvocationType = .requestResponse

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    func validate() throws {
        // The function first: a misspelt name is the slip to report, whatever the key (until session 36 a bad --key
        // was blamed instead, and with a good one the unknown name exited 1).
        guard FunctionSettings.names.contains(function) else {
            throw ValidationError(
                "no function named '\(function)' (functions: \(FunctionSettings.names.joined(separator: ", ")))")
        }
        guard (payload == nil) != (key == nil) else { throw ValidationError("give exactly one of --payload or --key") }
    }

    func run() async throws {
        let configuration = databaseOptions.applied(to: try configOptions.load(store: storeOptions))
        // invoke never creates a store: a folder without db/ or originals/ is refused as events refuses it (until
        // session 36 opening the runtime made db/, originals/, failed/, thumbnails/ and uploads/ in it).
        _ = try StoreOptions.existingStore(StoreLayout(root: configuration.storeURL))
        var logger = Logger(label: "picpipe.invoke")
        logger.logLevel = .error
        let (runtime, backends) = try FunctionCatalog.runtime(for: configuration, logger: logger)
        defer { backends.close() }
        let records: [S3EventRecord]
        do {
            records = try readRecords(runtime: runtime)
        } catch {
            throw failure(error)
        }
        if invocationType == .event {
            // Several records are queued all or none.
            do {
                for response in try runtime.queueEvents(function: function, records: records) {
                    print(response, payloadOnly: false)
                }
            } catch {
                throw failure(error)
            }
            return
        }
        let interrupts = Self.recordingInterrupts(of: runtime, backends: backends)
        defer {
            for source in interrupts { source.cancel() }
        }
        var failed = false
        for record in records {
            do {
                let response = try await runtime.invoke(function: function, record: record, type: invocationType)
                failed = failed || response.failed
                print(response, payloadOnly: invocationType != .event)
            } catch {
                throw failure(error)
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// Ctrl-C and SIGTERM during a call: the call is recorded failed, then the process exits as the signal would
    /// have ended it (130, 143). Until session 32 the default action ended it at once and the call stayed `running`
    /// until a serve's sweep (or for good without a serve). The process leaves the databases as at any exit.
    private static func recordingInterrupts(of runtime: FunctionRuntime, backends: DatabaseBackends)
        -> [any DispatchSourceSignal]
    {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)  // the source gets it instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                runtime.interruptCalls(signal: number == SIGINT ? "SIGINT" : "SIGTERM")
                backends.close()
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    private func readRecords(runtime: FunctionRuntime) throws -> [S3EventRecord] {
        if let key {
            let hex = key.split(separator: "/").last.map { String($0.split(separator: ".").first ?? "") } ?? ""
            guard key.hasPrefix("originals/"), let hash = ContentHash(hex: hex) else {
                throw RuntimeError.invalidPayload("--key must be an original of the store: originals/ab/<sha256>.<ext>")
            }
            let url = runtime.layout.root.appendingPathComponent(key)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int else {
                throw RuntimeError.invalidPayload("no original \(key) in the store \(runtime.layout.root.path)")
            }
            return [
                S3EventRecord(
                    name: .objectCreatedPut, bucket: runtime.layout.root.lastPathComponent, key: key, size: size,
                    eTag: hash.hex, sequence: 0)
            ]
        }
        var text = payload ?? ""
        var what = "the payload"
        if text.hasPrefix("@") {
            what = "the payload file \(text.dropFirst())"
            text = String(decoding: try EventPayload.read(file: String(text.dropFirst())), as: UTF8.self)
        }
        // Event's 1 MB too, as the Lambda API holds a body (until session 37 only RequestResponse's 6 MB).
        let limit = EventPayload.maxBytes(for: invocationType)
        guard text.utf8.count <= limit else {
            throw RuntimeError.payloadTooLarge(what: "\(what) (\(text.utf8.count) bytes)", limit: limit)
        }
        return try EventPayload.records(from: Data(text.utf8))
    }

    private func print(_ response: InvocationResponse, payloadOnly: Bool) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data?
        if payloadOnly, let payload = response.payload {
            data = try? encoder.encode(payload)
        } else {
            data = try? encoder.encode(response)
        }
        FileHandleOutput.standardOutput.write(String(decoding: data ?? Data("{}".utf8), as: UTF8.self) + "\n")
    }

    /// Prints the error as Lambda's error JSON; the exit (code 1) to throw, so the process leaves the databases on
    /// its way out (until session 34 it exited at once and its row stayed in `picpipe_journal.processes`).
    private func failure(_ error: any Error) -> ExitCode {
        let type: String
        switch error {
        case RuntimeError.payloadTooLarge: type = "RequestEntityTooLargeException"  // the Lambda API's name
        case is RuntimeError: type = "InvalidRequest"
        case FunctionError.invalidPayload: type = "InvalidPayload"
        case FunctionError.noSuchKey: type = "NoSuchKey"
        case is StoreError: type = "AccessDenied"
        default: type = "Error"
        }
        let message = String(describing: error)
        let payload: JSONValue = .object(["errorType": .string(type), "errorMessage": .string(message)])
        print(InvocationResponse(statusCode: 400, functionError: "Unhandled", payload: payload), payloadOnly: true)
        return .failure
    }
}
