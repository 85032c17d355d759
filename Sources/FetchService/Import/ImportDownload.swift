// An import for the command line: the same download and checks as POST /images {"url"}, into a temporary file
// of the store's uploads/ (dot-prefixed, so the watcher leaves it alone).
import NIOPosix
import PipelineCore

/// Downloads for `picpipe import`.
public enum ImportDownload {
    /// Downloads the URL into a temporary file of `uploads/`; the caller removes it.
    /// - Returns: the file's path.
    /// - Throws: `APIError` with the reason (refused, failed, timed out, too large, not an image).
    public static func toUploads(_ url: String, importer: URLImporter, layout: StoreLayout) async throws -> String {
        let spool = UploadSpool(
            folder: layout.uploads, maxBytes: importer.settings.maxBytes, minRate: 0, threadPool: .singleton)
        return try await ImageAPI.download(url, importer: importer, spool: spool).path
    }
}
