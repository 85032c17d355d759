// GET /cameras: the distinct cameras (make, model) of the stored pictures with their counts, and the total;
// the gallery's make/model choices come from here.
import Hummingbird
import MetadataService
import PipelineCore

extension ImageAPI {
    /// `{"total": N, "cameras": [{"make": ..., "model": ..., "count": n}, ...]}`, sorted by make then model;
    /// `match=TEXT` keeps the cameras whose make or model holds it (without case), `limit=N` the N most used of them.
    func cameras(_ request: Request, context: some RequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        // A limit past Int's range keeps every camera, as any limit past their number does (schemathesis found the
        // 400 "limit must be an integer" for digits the schema allows).
        let text = parameters["limit"].map(String.init)
        let overflows =
            text.map { !$0.isEmpty && $0.allSatisfy({ ("0"..."9").contains($0) }) && Int($0) == nil } ?? false
        let limit = overflows ? nil : try Self.integer(text, name: "limit")
        if let limit, limit < 1 { throw APIError.badRequest("limit must be at least 1") }
        let match = parameters["match"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        var headers = HTTPFields()
        headers[.cacheControl] = CachePolicy.revalidatedJSON(protected: access.protectReads)
        return Self.json(try camerasJSON(limit: limit, match: match), validating: request, headers: headers)
    }

    /// The JSON GET /cameras answers (the gallery page embeds it too): with `match`, only the cameras whose make or
    /// model holds it (without case); with `limit`, only that many of them, the most used (a tie: the first in sort
    /// order), and those `keeping` keeps too (the gallery's chosen camera). `total` counts every picture all the
    /// same. Until session 34 every camera was always given.
    func camerasJSON(
        limit: Int? = nil, match: String? = nil, keeping: (CameraCount) -> Bool = { _ in false }
    ) throws -> String {
        // Counted as the listing lists (`listedIDs`): once per id naming a content (a picture PUT under two names
        // counts twice), else once while its original is in the store (one removed by hand is not listed, so it is
        // not counted; until session 29 it was).
        let named = try index.namedContents()
        let cameras = try metadata.cameras { sha256, file in
            guard let hash = ContentHash(hex: sha256) else { return 0 }
            return named[hash] ?? (originalExists(file) ? 1 : 0)
        }
        let total = cameras.reduce(0) { $0 + $1.count }
        var chosen = cameras
        if let match {
            chosen = chosen.filter { camera in
                [camera.make, camera.model].contains { $0?.localizedCaseInsensitiveContains(match) == true }
            }
        }
        if let limit, chosen.count > limit {
            let kept = Set(
                chosen.indices.sorted { (chosen[$0].count, $1) > (chosen[$1].count, $0) }.prefix(limit))
            chosen = chosen.indices.filter { kept.contains($0) || keeping(chosen[$0]) }.map { chosen[$0] }
        }
        let items = chosen.map { camera in
            "{\"make\":\(camera.make.map(JSONText.quoted) ?? "null"),\"model\":\(camera.model.map(JSONText.quoted) ?? "null"),"
                + "\"count\":\(camera.count)}"
        }
        return "{\"total\":\(total),\"cameras\":[\(items.joined(separator: ","))]}"
    }
}
