// ListObjectsV2's paging and roll-up, and path-style addressing, on made-up key sets.
import Foundation
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
