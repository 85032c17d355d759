// ListObjectsV2 (prefix, delimiter (common prefixes), max-keys, continuation-token, start-after,
// encoding-type=url) and ListObjects, version 1 (prefix, delimiter, marker, max-keys, NextMarker with a delimiter).
import Foundation
import Hummingbird
import PipelineCore

extension S3API {
    /// `max-keys` (at most 1000, as S3 caps it).
    static func maxKeys(_ query: [String: String]) throws -> Int {
        guard let text = query["max-keys"] else { return 1000 }
        guard let value = Int(text), value >= 0 else {
            throw AWSError.invalidArgument("max-keys must be an integer from 0 to 2147483647: \(text)")
        }
        return min(value, 1000)
    }

    /// `encoding-type`: whether keys are URL-encoded in the answer.
    static func urlEncoded(_ query: [String: String]) throws -> Bool {
        if let type = query["encoding-type"], type != "url" {
            throw AWSError.invalidArgument("Invalid Encoding Method specified in Request: \(type)")
        }
        return query["encoding-type"] == "url"
    }

    /// A key or prefix as the answer writes it: URL-encoded (slashes kept) when asked.
    static func listed(_ text: String, urlEncoded: Bool) -> String {
        urlEncoded
            ? text.split(separator: "/", omittingEmptySubsequences: false).map { SignatureV4.uriEncode(String($0)) }
                .joined(separator: "/") : text
    }

    /// A listing's `<Contents>` entries with their ETags.
    func contents(
        _ objects: [(key: String, size: Int, modified: Date)], bucket: S3Bucket, urlEncoded: Bool, withOwner: Bool
    ) -> [ListBucketResult.Contents] {
        objects.map { object in
            ListBucketResult.Contents(
                key: Self.listed(object.key, urlEncoded: urlEncoded), lastModified: S3XML.timestamp(object.modified),
                eTag: catalog.eTag(
                    of: bucket.folder(in: layout).appendingPathComponent(object.key), size: object.size,
                    modified: object.modified,
                    hash: bucket == .originals
                        ? ContentHash(
                            hex: String(object.key.split(separator: "/").last?.split(separator: ".").first ?? ""))
                        : nil),
                size: object.size, owner: withOwner ? Self.owner : nil)
        }
    }

    /// The owner of every object: the one account picpipe is (ListBuckets names the same).
    static let owner = S3Owner(id: "picpipe", displayName: "picpipe")

    /// ListObjects (version 1): a page after `marker`; `NextMarker` when truncated and a delimiter was given (without
    /// one, clients continue after the last key, as S3 documents).
    func listObjectsV1(bucket: S3Bucket, query: [String: String]) throws -> Response {
        let prefix = query["prefix"] ?? ""
        let delimiter = query["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let maxKeys = try Self.maxKeys(query)
        let marker = query["marker"] ?? ""
        let urlEncoded = try Self.urlEncoded(query)
        let listing = Self.page(
            S3KeyWalk(
                root: bucket.folder(in: layout), prefix: prefix, after: marker, delimiter: delimiter,
                including: bucket == .thumbnails ? { images.servesThumbnail(atPath: $0) } : nil),
            prefix: prefix, delimiter: delimiter, after: marker, maxKeys: maxKeys)
        let result = ListBucketResultV1(
            name: bucket.rawValue, prefix: Self.listed(prefix, urlEncoded: urlEncoded),
            marker: Self.listed(marker, urlEncoded: urlEncoded), maxKeys: maxKeys,
            delimiter: delimiter.map { Self.listed($0, urlEncoded: urlEncoded) }, isTruncated: listing.next != nil,
            nextMarker: delimiter == nil ? nil : listing.next.map { Self.listed($0, urlEncoded: urlEncoded) },
            encodingType: urlEncoded ? "url" : nil,
            contents: contents(listing.objects, bucket: bucket, urlEncoded: urlEncoded, withOwner: true),
            commonPrefixes: listing.prefixes.map { .init(prefix: Self.listed($0, urlEncoded: urlEncoded)) })
        return try AWSResponses.xml(result, root: "ListBucketResult")
    }

    /// Lists a bucket's objects in key order.
    func listObjectsV2(bucket: S3Bucket, query: [String: String]) throws -> Response {
        let prefix = query["prefix"] ?? ""
        let delimiter = query["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let maxKeys = try Self.maxKeys(query)
        let token = query["continuation-token"]
        var marker = query["start-after"] ?? ""
        if let token {
            guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8) else {
                throw AWSError.invalidArgument("The continuation token provided is incorrect.")
            }
            marker = decoded
        }
        let urlEncoded = try Self.urlEncoded(query)
        let listing = Self.page(
            S3KeyWalk(
                root: bucket.folder(in: layout), prefix: prefix, after: marker, delimiter: delimiter,
                including: bucket == .thumbnails ? { images.servesThumbnail(atPath: $0) } : nil),
            prefix: prefix, delimiter: delimiter, after: marker, maxKeys: maxKeys)
        func encode(_ text: String) -> String { Self.listed(text, urlEncoded: urlEncoded) }
        let contents = contents(
            listing.objects, bucket: bucket, urlEncoded: urlEncoded, withOwner: query["fetch-owner"] == "true")
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
        _ all: some Sequence<(key: String, size: Int, modified: Date)>, prefix: String, delimiter: String?,
        after: String, maxKeys: Int
    ) -> Page {
        var page = Page(objects: [], prefixes: [], next: nil)
        var count = 0
        var lastEntry: String?
        let afterBytes = Array(after.utf8)
        // Prefixes compare as bytes: Swift's `hasPrefix` takes a key's NFC and NFD spellings for the same.
        let prefixBytes = Array(prefix.utf8)
        for object in all {
            let keyBytes = Array(object.key.utf8)
            guard keyBytes.starts(with: prefixBytes) else { continue }
            if !after.isEmpty {
                if !afterBytes.lexicographicallyPrecedes(keyBytes) { continue }
                if let delimiter, after.hasSuffix(delimiter), keyBytes.starts(with: afterBytes) { continue }
            }
            var entry = object.key
            var isPrefix = false
            if let delimiter {
                let rest = String(decoding: keyBytes[prefixBytes.count...], as: UTF8.self)
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
