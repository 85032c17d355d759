// GET /healthz, GET /metrics, GET /openapi.json and /openapi.yaml.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// Health: the store's disk (ok, full, read-only), the journal (readable or not) and the queue depths.
    /// 200 when picpipe can take work, 503 when it cannot (a full or read-only store, an unreadable journal);
    /// reads of what is stored may still work then.
    func health(_ request: Request, context: some RequestContext) async throws -> Response {
        Self.healthResponse(condition: await storeProbe.condition(), runtime: runtime)
    }

    /// The health answer for a store condition and a runtime's journal (the API's and the operations listener's).
    static func healthResponse(condition: StoreHealth.Condition, runtime: FunctionRuntime) -> Response {
        var journalError: String?
        var queues: [QueueDepth] = []
        do {
            queues = try runtime.journal.queueDepths(now: Date())
        } catch {
            journalError = "\(error)"
        }
        let queued = queues.map { "\(JSONText.quoted($0.function)):\($0.waiting)" }
        var store = "{\"condition\":\(JSONText.quoted(condition.label))"
        switch condition {
        case .full(let path, let since), .readOnly(let path, let since):
            store += ",\"path\":\(JSONText.quoted(path)),\"since\":\(JSONText.quoted(Timestamp.string(since)))"
        case .ok:
            break
        }
        store += "}"
        let healthy = condition == .ok && journalError == nil
        let database = ",\"database\":\(JSONText.quoted(runtime.journal.databaseDescription))"
        let journal =
            journalError.map { "{\"readable\":false,\"error\":\(JSONText.quoted($0))\(database)}" }
            ?? "{\"readable\":true\(database)}"
        return Self.json(
            "{\"status\":\(healthy ? "\"ok\"" : "\"degraded\""),\"store\":\(store),\"journal\":\(journal),"
                + "\"queued\":{\(queued.joined(separator: ","))}}",
            status: healthy ? .ok : .serviceUnavailable)
    }

    /// Prometheus text: the runtime's metering (when the registry is the swift-metrics backend) and the HTTP
    /// requests. The queue gauges are read from the journal first (with PostgreSQL: every process's queue, also in
    /// a process without workers); an unreadable journal leaves their last values and sets
    /// `picpipe_journal_readable` to 0 (`/healthz` says why).
    func metrics(_ request: Request, context: some RequestContext) async throws -> Response {
        Self.metricsResponse(runtime: runtime, render: metrics.render)
    }

    /// The Prometheus answer, the queue gauges read first (the API's and the operations listener's).
    static func metricsResponse(runtime: FunctionRuntime, render: () -> [UInt8]) -> Response {
        runtime.refreshQueueGaugesReportingReadability()
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let body = ByteBuffer(bytes: render())
        fields[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: body))
    }

    /// The OpenAPI document as JSON.
    func openAPIJSON(_ request: Request, context: some RequestContext) async throws -> Response {
        Self.json(OpenAPIDocument.json)
    }

    /// The OpenAPI document as written (YAML).
    func openAPIYAML(_ request: Request, context: some RequestContext) async throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/yaml"
        let body = ByteBuffer(string: OpenAPIDocument.yaml)
        fields[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: body))
    }
}
