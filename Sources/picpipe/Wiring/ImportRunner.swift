// What `picpipe import` does with each URL: invoke the fetch function (FetchFunction) like any other function.
// Event queues it for serve's fetch workers; RequestResponse runs it now, then runs the thumbnail and metadata
// invocations its ObjectCreated:Put queued, with this process's workers, until they are settled.
import FetchService
import Foundation
import PipelineCore

struct ImportRunner {
    let runtime: FunctionRuntime

    /// Imports every URL; returns how many failed.
    func run(_ urls: [String], type: InvocationType) async throws -> Int {
        var failures = 0
        for url in urls {
            do {
                try await importOne(url, type: type)
            } catch {
                failures += 1
                // The line names the URL once: the function's own message starts with it (as `picpipe import`
                // shows it), and where redirects led.
                let message = Self.message(error)
                let line = message.hasPrefix(URLImporter.shown(url)) ? message : "\(url): \(message)"
                FileHandleOutput.standardError.write("picpipe: \(line)\n")
            }
        }
        return failures
    }

    private func importOne(_ url: String, type: InvocationType) async throws {
        let record = FetchFunction.request(url: url, bucket: runtime.layout.root.lastPathComponent)
        // A URL that is not http(s) is refused before anything is journaled.
        try FetchFunction.check(url: url)
        let response = try await runtime.invoke(function: "fetch", record: record, type: type)
        var line: [String: JSONValue] = [
            "url": .string(url), "function": .string("fetch"), "invocation_type": .string(type.rawValue),
            "invocation_id": response.invocationID.map { .int(Int($0)) } ?? .null,
        ]
        guard type == .requestResponse else {
            line["event_id"] = response.eventID.map { .int(Int($0)) } ?? .null
            line["state"] = .string("queued")
            print(line)
            return
        }
        guard !response.failed, case .object(let result)? = response.payload else {
            throw ImportCommandError.function(Self.errorMessage(response.payload))
        }
        for (key, value) in result { line[key] = value }
        if case .int(let created)? = result["event_id"], result["duplicate"] != .bool(true) {
            let outcomes = try await settle(eventID: Int64(created))
            line["results"] = .object(outcomes.mapValues { .string($0) })
            print(line)
            if outcomes.values.contains(where: { $0 != InvocationState.succeeded.rawValue }) {
                throw ImportCommandError.function("a function failed on the imported picture (see `picpipe events`)")
            }
        } else {
            print(line)
        }
    }

    /// Runs this process's workers until every invocation of the event is settled (succeeded, failed or dead).
    /// - Returns: each function's final state.
    private func settle(eventID: Int64) async throws -> [String: String] {
        let runtime = self.runtime
        let workers = Task { await runtime.run() }
        let settled: Set<String> = [
            InvocationState.succeeded.rawValue, InvocationState.failed.rawValue, InvocationState.dead.rawValue,
        ]
        while true {
            let mine: [InvocationSummary]
            do {
                mine = try runtime.journal.invocations(state: nil, function: nil, limit: 10_000)
                    .filter { $0.eventID == eventID }
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                runtime.stop()
                await workers.value
                throw error
            }
            if !mine.isEmpty, mine.allSatisfy({ settled.contains($0.state) }) {
                runtime.stop()
                await workers.value
                return Dictionary(mine.map { ($0.function, $0.state) }, uniquingKeysWith: { first, _ in first })
            }
        }
    }

    private static func message(_ error: any Error) -> String {
        switch error {
        case FunctionError.invalidPayload(let message): return message
        default: return "\(error)"
        }
    }

    private static func errorMessage(_ payload: JSONValue?) -> String {
        guard case .object(let error)? = payload, case .string(let message)? = error["errorMessage"] else {
            return "the fetch function failed"
        }
        return message
    }

    private func print(_ line: [String: JSONValue]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue.object(line))) ?? Data("{}".utf8)
        FileHandleOutput.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

enum ImportCommandError: Error, CustomStringConvertible {
    case function(String)
    var description: String {
        switch self {
        case .function(let message): return message
        }
    }
}
