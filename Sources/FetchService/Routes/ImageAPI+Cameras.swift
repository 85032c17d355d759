// GET /cameras: the distinct cameras (make, model) of the stored pictures with their counts, and the total;
// the gallery's make/model choices come from here.
import Hummingbird
import MetadataService

extension ImageAPI {
    /// `{"total": N, "cameras": [{"make": ..., "model": ..., "count": n}, ...]}`, sorted by make then model.
    func cameras(_ request: Request, context: some RequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = access.protectReads ? CachePolicy.privateRevalidate : "no-cache"
        return Self.json(try camerasJSON(), headers: headers)
    }

    /// The JSON GET /cameras answers (the gallery page embeds it too).
    func camerasJSON() throws -> String {
        let cameras = try metadata.cameras()
        let total = cameras.reduce(0) { $0 + $1.count }
        let items = cameras.map { camera in
            "{\"make\":\(camera.make.map(JSONText.quoted) ?? "null"),\"model\":\(camera.model.map(JSONText.quoted) ?? "null"),"
                + "\"count\":\(camera.count)}"
        }
        return "{\"total\":\(total),\"cameras\":[\(items.joined(separator: ","))]}"
    }
}
