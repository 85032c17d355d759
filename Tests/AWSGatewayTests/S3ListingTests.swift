// ListObjectsV2's paging and roll-up, and path-style addressing, on made-up key sets.
import Foundation
import PipelineCore
import Testing

@testable import AWSGateway

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct S3ListingTests {
    static func objects(_ keys: [String]) -> [(key: String, size: Int, modified: Date)] {
        keys.sorted().map { ($0, 1, Date(timeIntervalSince1970: 0)) }
    }

    static let keys = objects([
        "128/aa/a.jpg", "128/ab/b.jpg", "256/aa/a.jpg", "256/ab/b.jpg", "256/ac/c.jpg", "1024/aa/a.jpg",
    ])

    @Test func prefixAndMaxKeysPageThroughEveryKeyOnce() {
        var seen: [String] = []
        var after = ""
        var pages = 0
        repeat {
            let page = S3API.page(Self.keys, prefix: "256/", delimiter: nil, after: after, maxKeys: 2)
            seen += page.objects.map(\.key)
            pages += 1
            guard let next = page.next else { break }
            after = next
        } while pages < 10
        #expect(seen == ["256/aa/a.jpg", "256/ab/b.jpg", "256/ac/c.jpg"])
        #expect(pages == 2)
    }

    @Test func aDelimiterRollsKeysUpIntoCommonPrefixesThatCountOnce() {
        let top = S3API.page(Self.keys, prefix: "", delimiter: "/", after: "", maxKeys: 1000)
        #expect(top.objects.isEmpty)
        #expect(top.prefixes == ["1024/", "128/", "256/"])
        #expect(top.next == nil)
        let first = S3API.page(Self.keys, prefix: "256/", delimiter: "/", after: "", maxKeys: 2)
        #expect(first.prefixes == ["256/aa/", "256/ab/"])
        #expect(first.next == "256/ab/")
        // The next page skips every key under the prefix it ended on.
        let second = S3API.page(Self.keys, prefix: "256/", delimiter: "/", after: first.next ?? "", maxKeys: 2)
        #expect(second.prefixes == ["256/ac/"])
        #expect(second.next == nil)
    }

    @Test func startAfterSkipsKeysUpToIt() {
        let page = S3API.page(Self.keys, prefix: "", delimiter: nil, after: "256/ab/b.jpg", maxKeys: 1000)
        #expect(page.objects.map(\.key) == ["256/ac/c.jpg"])
    }

    @Test func pathStyleAddressingDecodesBucketAndKey() {
        #expect(S3API.split("/") == (nil, nil))
        #expect(S3API.split("/uploads") == ("uploads", nil))
        #expect(S3API.split("/uploads/") == ("uploads", nil))
        #expect(S3API.split("/uploads/trip/my%20photo.jpg") == ("uploads", "trip/my photo.jpg"))
    }

    @Test func keysThatCouldLeaveTheAreaAreRefused() {
        for key in ["../db/events.sqlite", "a/../../x", "./a", ".picpipe-tmp-x", "a//b", "", "a/.hidden"] {
            #expect(!S3Bucket.isSafe(key), "\(key)")
        }
        #expect(S3Bucket.isSafe("256/ab/abc-inside-q82-srgb.jpg"))
    }

    /// What the listing leaves out (work in progress in `uploads`) is no object: HeadObject and GetObject of it are
    /// NoSuchKey, as its absence from ListObjects says (until session 31 they served its bytes).
    @Test func keysTheListingLeavesOutNameNoObject() {
        let browsers = ["a.jpg.crdownload", "b.jpg.download/b.jpg"]
        for key in ["sub/a.part", "a.tmp", "notes~", "trip.part/a.jpg", "x.tmp/y/z.jpg"] + browsers {
            #expect(!S3Bucket.isSafe(key), "\(key)")
            #expect(S3Bucket.uploads.file(for: key, in: StoreLayout(root: URL(fileURLWithPath: "/s"))) == nil)
        }
        for key in ["a.partial", "tmp/a.jpg", "a.tmpl", "~a.jpg", "part", "a~b.jpg"] {
            #expect(S3Bucket.isSafe(key), "\(key)")
        }
    }

    @Test func multipartETagIsTheMD5OfThePartMD5s() {
        // Two parts whose MD5s are those of "a" and "b"; S3 gives md5(md5("a") ++ md5("b")) + "-2".
        let parts = [
            UploadedPart(
                number: 1, size: 1, eTag: "\"0cc175b9c0f1b6a831c399e269772661\"", modified: Date(),
                file: URL(fileURLWithPath: "/")),
            UploadedPart(
                number: 2, size: 1, eTag: "\"92eb5ffee6ae2fec3ad71c777531578f\"", modified: Date(),
                file: URL(fileURLWithPath: "/")),
        ]
        let expected = Data([
            0x0c, 0xc1, 0x75, 0xb9, 0xc0, 0xf1, 0xb6, 0xa8, 0x31, 0xc3, 0x99, 0xe2, 0x69, 0x77, 0x26, 0x61,
            0x92, 0xeb, 0x5f, 0xfe, 0xe6, 0xae, 0x2f, 0xec, 0x3a, 0xd7, 0x1c, 0x77, 0x75, 0x31, 0x57, 0x8f,
        ])
        var md5 = MD5Stream()
        expected.withUnsafeBytes { md5.update($0) }
        #expect(MultipartUploads.multipartETag(parts) == "\"\(SignatureV4.hex(md5.bytes))-2\"")
    }

    @Test func listingXMLIsS3s() throws {
        let result = ListBucketResult(
            name: "thumbnails", prefix: "", delimiter: "/", maxKeys: 1000, keyCount: 1, isTruncated: false,
            continuationToken: nil, nextContinuationToken: nil, startAfter: nil, encodingType: nil,
            contents: [.init(key: "256/a.jpg", lastModified: "2026-01-01T00:00:00.000Z", eTag: "\"x\"", size: 3)],
            commonPrefixes: [.init(prefix: "128/")])
        let text = String(decoding: try S3XML.encode(result, root: "ListBucketResult"), as: UTF8.self)
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(text.contains("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"))
        #expect(text.contains("<Contents><Key>256/a.jpg</Key>"))
        #expect(text.contains("<CommonPrefixes><Prefix>128/</Prefix></CommonPrefixes>"))
        #expect(text.contains("<IsTruncated>false</IsTruncated>"))
        #expect(!text.contains("NextContinuationToken"))
    }
}

/// S3's XML answers stay documents an SDK can parse whatever the key they name.
@Suite struct S3XMLTextTests {
    @Test func anErrorNamingAKeyWithAControlCharacterIsWellFormedXML() throws {
        let document = S3ErrorDocument(
            code: "InvalidArgument", message: "The key 'a\u{0}b\u{1B}.png' is not a plain relative path.",
            resource: "/uploads/a\u{0}b\u{1B}.png", requestID: "R")
        let data = try S3XML.encode(document, root: "Error", namespace: false)
        let parser = XMLParser(data: data)
        #expect(parser.parse(), "\(String(decoding: data, as: UTF8.self))")
        let text = String(decoding: data, as: UTF8.self)
        #expect(
            text.contains("The key &apos;a\\u{0}b\\u{1B}.png&apos;") || text.contains("The key 'a\\u{0}b\\u{1B}.png'"),
            "\(text)")
        #expect(text.contains("<Resource>/uploads/a\\u{0}b\\u{1B}.png</Resource>"))
        // Text XML can hold is left alone: tabs, line breaks, any other character.
        #expect(S3XML.text("a\tb\nc – 写真 ✓") == "a\tb\nc – 写真 ✓")
        #expect(S3XML.text("\u{FFFE}") == "\\u{FFFE}")
    }
}

/// Listings read from a real folder by `S3KeyWalk` give what the whole bucket, enumerated and sorted, gives, for
/// every prefix, start-after and delimiter; and they look only at the files the page needs.
@Suite struct S3KeyWalkTests {
    /// A bucket folder with names that test the order (`a-c` sorts before the folder `a/`, `a.jpg` too), spaces,
    /// NFC and NFD spellings of one name, and what a listing leaves out (hidden and temporary files, links).
    static func bucket() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-walk-\(UUID().uuidString)")
        let files = [
            "a/b.jpg", "a/c/d.jpg", "a-c", "a.jpg", "a0/x.jpg", "128/aa/1.jpg", "128/aa/2.jpg", "128/ab/3.jpg",
            "1280/aa/4.jpg", "1024/zz/5.jpg", "256/ff/6.jpg", "my trip/IMG 1.JPG", "Caf\u{E9}.jpg", "Cafe\u{301}.jpg",
            "empty/.hidden.jpg", "z/.picpipe-tmp-x", "z/photo.jpg.part", "z/ok.jpg",
        ]
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: url.path, contents: Data(file.utf8)))
        }
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("nothing/inside"), withIntermediateDirectories: true)
        #expect(symlink(root.appendingPathComponent("a.jpg").path, root.appendingPathComponent("link.jpg").path) == 0)
        return root
    }

    /// The listing as it was made until session 29: every object of the folder, sorted by key bytes.
    static func everything(in root: URL) -> [(key: String, size: Int, modified: Date)] {
        var found: [(key: String, size: Int, modified: Date)] = []
        let base = root.standardizedFileURL.path
        let walker = FileManager.default.enumerator(atPath: base)
        while let relative = walker?.nextObject() as? String {
            var status = stat()
            guard lstat(base + "/" + relative, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
                S3Bucket.isSafe(relative),
                !UploadName.isIgnored(String(relative.split(separator: "/").last ?? ""))
            else { continue }
            found.append((relative, Int(status.st_size), Date(timeIntervalSince1970: 0)))
        }
        return found.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    @Test func everyListingAgreesWithTheWholeBucketSorted() throws {
        let root = try Self.bucket()
        defer { try? FileManager.default.removeItem(at: root) }
        let all = Self.everything(in: root)
        #expect(all.count == 15)  // 18 files, less the hidden, temporary and ignored ones
        let prefixes = [
            "", "a", "a/", "a/c/", "128/", "128/a", "12", "my trip/", "Caf", "z/", "none/", "../", "nothing/",
        ]
        let afters = ["", "a", "a-c", "a/", "a/b.jpg", "128/", "128/aa/1.jpg", "1280/", "z"]
        for prefix in prefixes {
            for after in afters {
                for delimiter in [nil, "/"] {
                    for maxKeys in [1, 2, 1000] {
                        let walked = S3API.page(
                            S3KeyWalk(root: root, prefix: prefix, after: after, delimiter: delimiter), prefix: prefix,
                            delimiter: delimiter, after: after, maxKeys: maxKeys)
                        let whole = S3API.page(
                            all, prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys)
                        let what = "prefix \(prefix) after \(after) delimiter \(delimiter ?? "-") max \(maxKeys)"
                        #expect(walked.objects.map(\.key) == whole.objects.map(\.key), "\(what)")
                        #expect(walked.objects.map(\.size) == whole.objects.map(\.size), "\(what)")
                        #expect(walked.prefixes == whole.prefixes, "\(what)")
                        #expect(walked.next == whole.next, "\(what)")
                    }
                }
            }
        }
    }

    /// A narrow prefix reads only its folder, a page stops the walk, and a folder that rolls up into a common
    /// prefix is looked at for one object only: the cost follows the page, not the bucket.
    @Test func aListingLooksOnlyAtTheFilesItsPageNeeds() throws {
        let root = try Self.bucket()
        defer { try? FileManager.default.removeItem(at: root) }
        var narrow = S3KeyWalk(root: root, prefix: "128/aa/", after: "", delimiter: nil)
        #expect(Array(AnyIterator { narrow.next() }).map(\.key) == ["128/aa/1.jpg", "128/aa/2.jpg"])
        #expect(narrow.filesLooked == 2)
        var first = S3KeyWalk(root: root, prefix: "", after: "", delimiter: nil)
        #expect(first.next()?.key == "1024/zz/5.jpg")
        #expect(first.filesLooked == 1)
        var top = S3KeyWalk(root: root, prefix: "", after: "", delimiter: "/")
        let rolled = Array(AnyIterator { top.next() })
        // One object for each top folder that holds one (8), and every top-level file (4; the link is known by its
        // entry's type, without a look).
        #expect(rolled.map(\.key).filter { $0.contains("/") }.count == 8, "\(rolled.map(\.key))")
        #expect(rolled.count == 12)
        #expect(top.filesLooked == 12)
    }

    /// The keys a walk is told are no objects (the `thumbnails` bucket's files of sizes and recipes not in force)
    /// are passed over before one can stand for its folder's common prefix: a folder whose first file is an old
    /// recipe's still rolls up by its next file, and one with no object left is no common prefix.
    @Test func filesThatAreNoObjectsAreLeftOutOfListingsAndPrefixes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("walk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let hash = String(repeating: "a", count: 64)
        let files = [
            "128/aa/\(hash)-inside-q82-srgb.jpg", "256/aa/\(hash)-inside-q60-srgb.jpg",
            "256/aa/\(hash)-inside-q82-srgb.jpg",
        ]
        for file in files {
            let url = root.appendingPathComponent(file)
            let folder = url.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        }
        let served: (String) -> Bool = { $0.hasPrefix("256/") && $0.hasSuffix("-inside-q82-srgb.jpg") }
        var all = S3KeyWalk(root: root, prefix: "", after: "", delimiter: nil, including: served)
        #expect(Array(AnyIterator { all.next() }).map(\.key) == ["256/aa/\(hash)-inside-q82-srgb.jpg"])
        for prefix in ["", "256/"] {
            let page = S3API.page(
                S3KeyWalk(root: root, prefix: prefix, after: "", delimiter: "/", including: served), prefix: prefix,
                delimiter: "/", after: "", maxKeys: 1000)
            #expect(page.prefixes == [prefix.isEmpty ? "256/" : "256/aa/"], "\(prefix)")
            #expect(page.objects.isEmpty)
        }
    }
}
