// ListObjectsV2: prefix, delimiter (common prefixes), max-keys, continuation-token, start-after, encoding-type=url.
import Foundation
import Hummingbird
import PipelineCore

extension S3API {
    /// Lists a bucket's objects in key order.
    func listObjectsV2(bucket: S3Bucket, query: [String: String]) throws -> Response {
        let prefix = query["prefix"] ?? ""
        let delimiter = query["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        var maxKeys = 1000
        if let text = query["max-keys"] {
            guard let value = Int(text), value >= 0 else {
                throw AWSError.invalidArgument("max-keys must be an integer from 0 to 2147483647: \(text)")
            }
            maxKeys = min(value, 1000)
        }
        let token = query["continuation-token"]
        var marker = query["start-after"] ?? ""
        if let token {
            guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8) else {
                throw AWSError.invalidArgument("The continuation token provided is incorrect.")
            }
            marker = decoded
        }
        let urlEncoded = query["encoding-type"] == "url"
        if let type = query["encoding-type"], type != "url" {
            throw AWSError.invalidArgument("Invalid Encoding Method specified in Request: \(type)")
        }
        let listing = Self.page(
            bucket.keys(in: layout), prefix: prefix, delimiter: delimiter, after: marker, maxKeys: maxKeys)
        func encode(_ text: String) -> String {
            urlEncoded
                ? text.split(separator: "/", omittingEmptySubsequences: false).map { SignatureV4.uriEncode(String($0)) }
                    .joined(separator: "/") : text
        }
        let contents = listing.objects.map { object in
            ListBucketResult.Contents(
                key: encode(object.key), lastModified: S3XML.timestamp(object.modified),
                eTag: catalog.eTag(
                    of: bucket.folder(in: layout).appendingPathComponent(object.key), size: object.size,
                    modified: object.modified,
                    hash: bucket == .originals
                        ? ContentHash(
                            hex: String(object.key.split(separator: "/").last?.split(separator: ".").first ?? ""))
                        : nil),
                size: object.size)
        }
        let result = ListBucketResult(
            name: bucket.rawValue, prefix: encode(prefix), delimiter: delimiter.map(encode), maxKeys: maxKeys,
            keyCount: contents.count + listing.prefixes.count, isTruncated: listing.next != nil,
            continuationToken: token,
            nextContinuationToken: listing.next.map { Data($0.utf8).base64EncodedString() },
            startAfter: query["start-after"].map(encode), encodingType: urlEncoded ? "url" : nil, contents: contents,
            commonPrefixes: listing.prefixes.map { .init(prefix: encode($0)) })
        return try AWSResponses.xml(result, root: "ListBucketResult")
    }

    /// One page of a sorted listing.
    struct Page {
        var objects: [(key: String, size: Int, modified: Date)]
        var prefixes: [String]
        /// The last key or prefix of the page when more follow (the next page starts after it).
        var next: String?
    }

    /// Picks a page: keys under `prefix` after `after` (a key, or a common prefix whose keys are all skipped),
    /// rolled up at `delimiter` into common prefixes, each object or prefix counting once toward `maxKeys`.
    static func page(
        _ all: [(key: String, size: Int, modified: Date)], prefix: String, delimiter: String?, after: String,
        maxKeys: Int
    ) -> Page {
        var page = Page(objects: [], prefixes: [], next: nil)
        var count = 0
        var lastEntry: String?
        let afterBytes = Array(after.utf8)
        for object in all {
            guard object.key.hasPrefix(prefix) else { continue }
            let keyBytes = Array(object.key.utf8)
            if !after.isEmpty {
                if !afterBytes.lexicographicallyPrecedes(keyBytes) { continue }
                if let delimiter, after.hasSuffix(delimiter), object.key.hasPrefix(after) { continue }
            }
            var entry = object.key
            var isPrefix = false
            if let delimiter {
                let rest = object.key.dropFirst(prefix.count)
                if let range = rest.range(of: delimiter) {
                    entry = prefix + String(rest[..<range.upperBound])
                    isPrefix = true
                }
            }
            if isPrefix, page.prefixes.last == entry { continue }
            if count == maxKeys {
                page.next = lastEntry
                break
            }
            if isPrefix { page.prefixes.append(entry) } else { page.objects.append(object) }
            lastEntry = entry
            count += 1
        }
        if maxKeys == 0 { page.next = nil }
        return page
    }
}
