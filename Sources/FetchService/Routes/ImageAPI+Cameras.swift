// GET /cameras: the distinct cameras (make, model) of the stored pictures with their counts, and the total;
// the gallery's make/model choices come from here.
import Hummingbird
import MetadataService
import PipelineCore

extension ImageAPI {
    /// `{"total": N, "cameras": [{"make": ..., "model": ..., "count": n}, ...]}`, sorted by make then model.
    func cameras(_ request: Request, context: some RequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = CachePolicy.revalidatedJSON(protected: access.protectReads)
        return Self.json(try camerasJSON(), validating: request, headers: headers)
    }

    /// The JSON GET /cameras answers (the gallery page embeds it too).
    func camerasJSON() throws -> String {
        // Counted as the listing lists (`listedIDs`): once per id naming a content (a picture PUT under two names
        // counts twice), else once while its original is in the store (one removed by hand is not listed, so it is
        // not counted; until session 29 it was).
        let named = try index.namedContents()
        let cameras = try metadata.cameras { sha256, file in
            guard let hash = ContentHash(hex: sha256) else { return 0 }
            return named[hash] ?? (originalExists(file) ? 1 : 0)
        }
        let total = cameras.reduce(0) { $0 + $1.count }
        let items = cameras.map { camera in
            "{\"make\":\(camera.make.map(JSONText.quoted) ?? "null"),\"model\":\(camera.model.map(JSONText.quoted) ?? "null"),"
                + "\"count\":\(camera.count)}"
        }
        return "{\"total\":\(total),\"cameras\":[\(items.joined(separator: ","))]}"
    }
}
