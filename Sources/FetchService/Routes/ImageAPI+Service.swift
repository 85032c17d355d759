// GET /healthz, GET /metrics, GET /openapi.json and /openapi.yaml.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// Liveness plus the pipeline's queue, from the journal.
    func health(_ request: Request, context: some RequestContext) async throws -> Response {
        let statistics = (try? runtime.statistics()) ?? []
        let queued = statistics.map { "\(JSONText.quoted($0.function)):\($0.queueDepth)" }
        return Self.json("{\"status\":\"ok\",\"queued\":{\(queued.joined(separator: ","))}}")
    }

    /// Prometheus text: the runtime's metering (when the registry is the swift-metrics backend; its queue gauges
    /// are refreshed from the journal every few seconds) and the HTTP requests.
    func metrics(_ request: Request, context: some RequestContext) async throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let body = ByteBuffer(bytes: metrics.render())
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
