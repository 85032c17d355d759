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
        var cameras = try metadata.cameras()
        // The listing shows every id of a content: a picture PUT under two names counts twice, as it is listed.
        // An entry stands for every spelling of its camera, as the make and model filters match them.
        func key(_ text: String?) -> String? { text.map(MetadataQuery.caseKey) }
        for (hash, ids) in index.sharedContents() {
            guard let row = try metadata.image(sha256: hash.hex),
                let at = cameras.firstIndex(where: {
                    key($0.make) == key(row.metadata.make) && key($0.model) == key(row.metadata.model)
                })
            else { continue }
            cameras[at].count += ids - 1
        }
        let total = cameras.reduce(0) { $0 + $1.count }
        let items = cameras.map { camera in
            "{\"make\":\(camera.make.map(JSONText.quoted) ?? "null"),\"model\":\(camera.model.map(JSONText.quoted) ?? "null"),"
                + "\"count\":\(camera.count)}"
        }
        return "{\"total\":\(total),\"cameras\":[\(items.joined(separator: ","))]}"
    }
}
