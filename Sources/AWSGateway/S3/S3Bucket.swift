// The buckets are the store's areas: `uploads` (write: an object put there is an upload), `originals` and
// `thumbnails` (read, list; an original can be deleted). Keys are paths inside the area.
import Foundation
import PipelineCore

/// One of picpipe's three buckets.
enum S3Bucket: String, CaseIterable, Sendable {
    case uploads
    case originals
    case thumbnails

    /// The area's folder in the store.
    func folder(in layout: StoreLayout) -> URL {
        switch self {
        case .uploads: return layout.uploads
        case .originals: return layout.originals
        case .thumbnails: return layout.thumbnails
        }
    }

    /// The file a key names, or nil for a key that could leave the area or name a temporary/hidden file.
    func file(for key: String, in layout: StoreLayout) -> URL? {
        guard S3Bucket.isSafe(key) else { return nil }
        return folder(in: layout).appendingPathComponent(key)
    }

    /// Whether a key is a plain relative path: no empty, `.`, `..` or dot-prefixed component, no NUL, not too long;
    /// and no component the listing leaves out (`*.part`, `*.tmp`, `*.crdownload`, `*.download`, `*~`: work in
    /// progress): until session 31
    /// HeadObject and GetObject served such a file in `uploads` that ListObjects never showed.
    static func isSafe(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 1024, !key.utf8.contains(0) else { return false }
        return key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy { component in
            // `UploadName.isIgnored` on the bytes (a cached GET checks every key: no string made).
            guard let first = component.first, first != UInt8(ascii: ".") else { return false }
            return component.last != UInt8(ascii: "~")
                && !UploadName.workInProgressSuffixes.contains { suffix in
                    component.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
                }
        }
    }

    /// Whether a key may name an upload: it becomes the picture's source name, never a path in the store, so a
    /// dot-prefixed component (`._IMG_0001.jpg`, `.trip/a.jpg`, which `aws s3 sync` sends from a folder) is
    /// taken; empty, `.` and `..` components, NUL and line breaks, and keys over 1024 bytes are not.
    static func isUploadKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 1024, !key.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 })
        else { return false }
        return key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".."
        }
    }
}
