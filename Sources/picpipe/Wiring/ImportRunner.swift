// What `picpipe import` does with each URL: download (FetchService's URLImporter and spool), store the original,
// journal ObjectCreated:Put with the URL as its source name, then queue or run the functions.
import FetchService
import Foundation
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

struct ImportRunner {
    let layout: StoreLayout
    let runtime: FunctionRuntime
    let importer: URLImporter
    let maxFileBytes: Int

    /// Imports every URL; returns how many failed.
    func run(_ urls: [String], type: InvocationType) async throws -> Int {
        var failures = 0
        for url in urls {
            do {
                try await importOne(url, type: type)
            } catch {
                failures += 1
                let message = (error as? APIError)?.message ?? "\(error)"
                FileHandleOutput.standardError.write("picpipe: \(url): \(message)\n")
            }
        }
        return failures
    }

    private func importOne(_ url: String, type: InvocationType) async throws {
        let path = try await ImportDownload.toUploads(url, importer: importer, layout: layout)
        defer { unlink(path) }
        let bytes = try InputFile.read(path)
        let originals = StoreHandle(area: .originals, access: .write, location: layout.originals, function: "import")
        let original = try OriginalIngest.ingest(
            bytes, name: url, maxBytes: min(maxFileBytes, importer.settings.maxBytes), into: originals)
        let record = runtime.record(.objectCreatedPut, for: original, sourceName: url)
        var line: [String: JSONValue] = [
            "url": .string(url), "key": .string(original.key), "sha256": .string(original.hash.hex),
            "size": .int(original.size),
        ]
        switch type {
        case .requestResponse:
            var results: [String: JSONValue] = [:]
            var failed = false
            for function in runtime.subscribers(of: .objectCreatedPut) {
                let response = try await runtime.invoke(function: function, record: record, type: .requestResponse)
                results[function] = response.payload ?? .null
                failed = failed || response.failed
            }
            line["results"] = .object(results)
            print(line)
            if failed { throw ImportFailure.functionFailed }
        default:
            let appended = try runtime.submit(record, deduplicate: true)
            line["event_id"] = .int(Int(appended.eventID))
            line["duplicate"] = .bool(appended.duplicate)
            print(line)
        }
    }

    private func print(_ line: [String: JSONValue]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue.object(line))) ?? Data("{}".utf8)
        FileHandleOutput.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

enum ImportFailure: Error, CustomStringConvertible {
    case functionFailed
    var description: String { "a function failed on the imported picture (see its result above)" }
}
