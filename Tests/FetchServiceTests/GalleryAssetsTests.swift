// The gallery page and its static files over real HTTP: content-hashed names, immutable caching, revalidation,
// the strict Content-Security-Policy (no inline script or style), nothing from another origin, and the weight.
import Crypto
import Foundation
import ImageCore
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct GalleryAssetsTests {
    /// The URLs a text names under /gallery/ (the page's `href`/`src`, a module's imports).
    static func galleryURLs(in text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "/gallery/") {
            let tail = rest[range.lowerBound...]
            let end = tail.firstIndex { $0 == "\"" || $0 == "'" || $0 == " " || $0 == ">" } ?? tail.endIndex
            found.append(String(tail[..<end]))
            rest = tail[end...]
        }
        return found
    }

    /// Module imports (`from "./name.js"`) as /gallery/ URLs.
    static func imports(in script: String) -> [String] {
        script.components(separatedBy: "from \"./").dropFirst().compactMap { part in
            part.split(separator: "\"").first.map { "/gallery/" + $0 }
        }
    }

    /// Scripts are served without their comment lines (a fifth of their weight); a comment after code, or a block
    /// that code follows on its last line, stays, and so does every line of code.
    @Test func scriptsAreServedWithoutTheirCommentLines() {
        let source = """
            // The module.
            import { a } from "./a.js";
            /** A function,
             *  documented. */
            export function f(url) {
              // Why.
              return url === "//" ? 1 : 2;  // trailing
            }
            /* a */ const b = 1;
            """
        #expect(
            GalleryAssets.withoutCommentLines(source) == """
                import { a } from "./a.js";
                export function f(url) {
                  return url === "//" ? 1 : 2;  // trailing
                }
                /* a */ const b = 1;
                """)
        for (name, hashed) in GalleryAssets.shared.hashedNames where name.hasSuffix(".js") {
            let text = String(decoding: GalleryAssets.shared.byHashedName[hashed]?.bytes ?? [], as: UTF8.self)
            let comments = text.split(separator: "\n").filter {
                let line = $0.drop { $0 == " " }
                return line.hasPrefix("//") || line.hasPrefix("/**")
            }
            #expect(!text.isEmpty && comments.isEmpty, "\(name): \(comments.prefix(2))")
        }
    }

    /// Scripts are served without the spaces that indent their lines, except the lines inside a template literal
    /// that spans lines (its spaces are the string's). A backtick in a quoted string or a comment would be taken for
    /// a template's: the served scripts then keep indented lines, which the second half finds.
    @Test func scriptsAreServedWithoutIndentationButTemplateLiteralsKeepTheirs() {
        let source = """
            export function f(a) {
              const s = `one
                two \\` still`;
              if (a) {
                return a;
              }
            }
            """
        #expect(
            GalleryAssets.withoutIndentation(source) == """
                export function f(a) {
                const s = `one
                    two \\` still`;
                if (a) {
                return a;
                }
                }
                """)
        for (name, hashed) in GalleryAssets.shared.hashedNames where name.hasSuffix(".js") {
            let text = String(decoding: GalleryAssets.shared.byHashedName[hashed]?.bytes ?? [], as: UTF8.self)
            let indented = text.split(separator: "\n").filter { $0.hasPrefix(" ") }
            #expect(!text.isEmpty && indented.isEmpty, "\(name): \(indented.prefix(2))")
        }
    }

    @Test func pageNamesHashedAssetsThatAreCachedForAYear() async throws {
        try await FetchServer.with { client, _ in
            let page = try await client.send("GET", "/")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Cache-Control") == "no-cache")
            let pageETag = try #require(page.header("ETag"))
            let revalidated = try await client.send("GET", "/", headers: [("If-None-Match", pageETag)])
            #expect(revalidated.status == 304)
            #expect(revalidated.body.isEmpty)

            // Every file the page loads, and every module those import, transitively.
            var pending = Self.galleryURLs(in: page.text)
            var seen: Set<String> = []
            var weight = page.body.count
            #expect(pending.count >= 10, "the page names its style sheet, icon and modules: \(pending)")
            while let url = pending.popLast() {
                guard seen.insert(url).inserted else { continue }
                let asset = try await client.send("GET", url)
                #expect(asset.status == 200, "\(url)")
                weight += asset.body.count
                // The name carries the first 10 hex digits of the SHA-256 of the bytes served.
                let name = String(url.dropFirst("/gallery/".count))
                let parts = name.split(separator: ".")
                let hash = SHA256.hash(data: asset.body).prefix(5).map { String(format: "%02x", $0) }.joined()
                #expect(parts.count == 3 && parts[1] == hash, "\(name) is named after its content (\(hash))")
                #expect(asset.header("Cache-Control") == "public, max-age=31536000, immutable", "\(url)")
                #expect(asset.header("ETag") == "\"\(hash)\"")
                #expect(asset.header("X-Content-Type-Options") == "nosniff")
                let type = asset.header("Content-Type") ?? ""
                if name.hasSuffix(".js") {
                    #expect(type == "text/javascript; charset=utf-8")
                    pending += Self.imports(in: asset.text)
                } else if name.hasSuffix(".css") {
                    #expect(type == "text/css; charset=utf-8")
                } else {
                    #expect(type == "image/svg+xml")
                }
                // Nothing loads from another origin: the only absolute URL is the map link a person may follow.
                let absolute =
                    asset.text.components(separatedBy: "https://").dropFirst()
                    + asset.text.components(separatedBy: "http://").dropFirst()
                for reference in absolute where !name.hasSuffix(".svg") {
                    #expect(
                        reference.hasPrefix("www.openstreetmap.org/"),
                        "\(name) names another origin: \(reference.prefix(40))")
                }
                let again = try await client.send("GET", url, headers: [("If-None-Match", "\"\(hash)\"")])
                #expect(again.status == 304)
            }
            #expect(seen.count == 10, "every asset reached: \(seen.sorted())")
            #expect(weight <= 60 * 1024, "the page weighs \(weight) bytes without thumbnails, over 60 KB")
            print("gallery weight without thumbnails: \(weight) bytes in \(seen.count + 1) files")

            // An asset under any other name is 404: a stale hash never gets other bytes.
            let stale = try await client.send("GET", "/gallery/app.0000000000.js")
            #expect(stale.status == 404)
            #expect(stale.errorCode == "not_found")
        }
    }

    @Test func pageAndAssetsCarryAStrictContentSecurityPolicy() async throws {
        try await FetchServer.with { client, _ in
            let page = try await client.send("GET", "/")
            let policy = try #require(page.header("Content-Security-Policy"))
            let directives = Dictionary(
                uniqueKeysWithValues: policy.split(separator: ";").map { part -> (String, String) in
                    let words = part.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
                    return (String(words[0]), words.count > 1 ? String(words[1]) : "")
                })
            #expect(directives["default-src"] == "'none'")
            #expect(directives["script-src"] == "'self'")
            #expect(directives["style-src"] == "'self'")
            #expect(directives["connect-src"] == "'self'")
            #expect(directives["frame-ancestors"] == "'none'")
            #expect(!policy.contains("unsafe"), "no 'unsafe-inline' or 'unsafe-eval': \(policy)")
            // No inline script, no style attribute or element, no event handler attribute: the policy would block them.
            let html = page.text
            // The one other script element is the embedded JSON data block, which a browser never runs.
            let scripts = html.components(separatedBy: "<script").dropFirst()
                .filter { !$0.hasPrefix(#" type="application/json" id="initial-data">"#) }
            #expect(scripts.count == 1)
            for script in scripts {
                let tag = script.prefix { $0 != ">" }
                #expect(tag.contains("src=\"/gallery/"), "a script without src: <script\(tag)>")
                #expect(script.dropFirst(tag.count + 1).hasPrefix("</script>"), "a script with inline content")
            }
            #expect(!html.contains("style="))
            #expect(!html.contains("<style"))
            #expect(html.range(of: #" on[a-z]+="#, options: .regularExpression) == nil)
            let asset = try #require(Self.galleryURLs(in: html).first { $0.hasSuffix(".js") })
            let answer = try await client.send("GET", asset)
            #expect(answer.header("Content-Security-Policy") == policy)
        }
    }

    /// The JSON data block of a page, decoded.
    static func initialData(_ html: String) throws -> [String: Any]? {
        guard let start = html.range(of: #"<script type="application/json" id="initial-data">"#),
            let end = html.range(of: "</script>", range: start.upperBound..<html.endIndex)
        else { return nil }
        let json = String(html[start.upperBound..<end.lowerBound])
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    @Test func pageEmbedsTheFirstListingPageOfItsFilters() async throws {
        try await FetchServer.with { client, _ in
            var posted: [String] = []
            for seed in UInt8(1)...3 {
                // A name that looks like one of the page's placeholders is the user's text: it stays as written.
                let path = seed == 1 ? "/images?name=%7B%7Bapp.js%7D%7D.jpg" : "/images"
                let answer = try await client.send(
                    "POST", path, headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: seed))
                posted.append(try #require(answer.json?["id"] as? String))
            }
            // Listed once the metadata function has read them.
            var listed: [[String: Any]] = []
            for _ in 0..<600 {
                listed = try await client.send("GET", "/images?limit=60").json?["items"] as? [[String: Any]] ?? []
                if listed.count == 3 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(listed.count == 3)
            let page = try await client.send("GET", "/")
            let data = try #require(try Self.initialData(page.text), "the page carries its data block")
            let listing = try #require(data["listing"] as? [String: Any])
            let items = try #require(listing["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == listed.map { $0["id"] as? String }, "GET /images's order")
            #expect(items.contains { $0["name"] as? String == "{{app.js}}.jpg" }, "\(items.map { $0["name"] })")
            #expect(listing["next_cursor"] is NSNull)
            let cameras = try #require(data["cameras"] as? [String: Any])
            #expect(cameras["total"] as? Int == 3)
            #expect(data["last_event_id"] as? Int != nil, "the stream position the listing was read at")
            #expect(page.text.contains(#"<meta name="picpipe-page-size" content="60">"#))
            // The filters of the page's own URL: a make no picture has lists nothing; a bad filter embeds no
            // listing (the page asks the API and shows its error).
            let filtered = try #require(try Self.initialData(try await client.send("GET", "/?make=NoSuchCamera").text))
            #expect(((filtered["listing"] as? [String: Any])?["items"] as? [Any])?.isEmpty == true)
            let bad = try #require(try Self.initialData(try await client.send("GET", "/?bbox=north").text))
            #expect(bad["listing"] is NSNull)
        }
        // When reads need a key the page embeds nothing (it is served without one).
        try await FetchServer.with(configure: {
            $0.http.apiKeys = ["gallery-key"]
            $0.http.protectReads = true
        }) { client, _ in
            let page = try await client.send("GET", "/")
            #expect(page.status == 200)
            #expect(try Self.initialData(page.text) == nil)
            #expect(page.text.contains(#"<meta name="picpipe-read-key" content="required">"#))
            #expect(page.text.contains(#"<meta name="picpipe-signed-urls" content="no">"#))
        }
    }

    @Test func theDataBlockCannotEndItsElement() {
        let block = GalleryAssets.dataBlock(#"{"name":"</script><script>alert(1)</script>"}"#)
        #expect(block.components(separatedBy: "</script>").count == 2, "only the block's own end tag: \(block)")
        #expect(block.contains(#"\u003c/script>"#))
    }

    @Test func pageSaysWhenWritesNeedAKey() async throws {
        try await FetchServer.with { client, _ in
            let open = try await client.send("GET", "/")
            #expect(open.text.contains(#"<meta name="picpipe-write-key" content="none">"#))
        }
        try await FetchServer.with(configure: { $0.http.apiKeys = ["gallery-key"] }) { client, _ in
            // The page itself needs no key (it holds no data); the API it calls does.
            let keyed = try await client.send("GET", "/")
            #expect(keyed.status == 200)
            #expect(keyed.text.contains(#"<meta name="picpipe-write-key" content="required">"#))
            #expect(keyed.text.contains(#"<meta name="picpipe-read-key" content="none">"#))
            let refused = try await client.send("DELETE", "/images/\(String(repeating: "a", count: 64))")
            #expect(refused.status == 401)
        }
    }

    /// Keys under `auth.api_keys` (the main form) and an OIDC issuer alone make writes need credentials as
    /// `http.api_keys` do: the page asks for a key (or a token, which its form then names) before it shows write
    /// controls. Until session 33 only `http.api_keys` counted: with the others the page offered Upload and Delete
    /// to anyone, every one refused 401, and no way to enter a key.
    @Test func pageSaysWhenWritesNeedScopedKeysOrATokenToo() async throws {
        let scoped: @Sendable (inout PicpipeConfiguration) -> Void = {
            $0.auth.apiKeys = [ScopedAPIKey(name: "viewer", key: "viewer-key-0123456789", scopes: ["images:read"])]
        }
        let issuer: @Sendable (inout PicpipeConfiguration) -> Void = {
            $0.auth.oidc.issuer = "http://127.0.0.1:9/realms/photos"
            $0.auth.oidc.audience = "picpipe-api"
        }
        for (configure, form) in [(scoped, "API key"), (issuer, "API key or token")] {
            try await FetchServer.with(configure: configure) { client, _ in
                let page = try await client.send("GET", "/")
                #expect(page.text.contains(#"<meta name="picpipe-write-key" content="required">"#))
                #expect(page.text.contains(#">Enter \#(form)</button>"#))
                #expect(page.text.contains(#"<label for="key">\#(form) (kept for this tab only)</label>"#))
                let refused = try await client.send("POST", "/images", body: Array("x".utf8))
                #expect(refused.status == 401)
            }
        }
    }

    /// The pickers offered JPEG and PNG only (and the drop zone said so) while the API takes HEIC, WebP, AVIF and
    /// GIF too: an iPhone's HEIC pictures could not be chosen. Every format the store takes is offered, by type,
    /// and by extension for those a browser may know no type for.
    @Test func theFilePickersOfferEveryFormatTheStoreTakes() async throws {
        try await FetchServer.with { client, _ in
            let page = try await client.send("GET", "/").text
            for picker in ["picker", "replace"] {
                let tag = try #require(page.components(separatedBy: "<input id=\"\(picker)\"").dropFirst().first)
                let accept = try #require(
                    tag.components(separatedBy: "accept=\"").dropFirst().first?.split(separator: "\"").first)
                let offered = Set(accept.split(separator: ",").map(String.init))
                for format in ImageFormat.allCases {
                    #expect(offered.contains(format.mediaType), "\(picker) does not offer \(format)")
                }
                #expect(offered.isSuperset(of: [".heic", ".heif", ".avif", ".webp"]), "\(accept)")
            }
            #expect(page.contains("Drop pictures here (JPEG, PNG, HEIC, WebP, AVIF, GIF)"))
        }
    }

    @Test func camerasAreTheDistinctMakesAndModelsWithCounts() async throws {
        try await FetchServer.with { client, _ in
            let empty = try await client.send("GET", "/cameras")
            #expect(empty.status == 200)
            #expect(empty.json?["total"] as? Int == 0)
            #expect((empty.json?["cameras"] as? [Any])?.isEmpty == true)
            // Pictures without EXIF: one camera, unknown make and model, counted.
            for seed in [UInt8(1), 2] {
                let posted = try await client.send(
                    "POST", "/images", headers: [("Content-Type", "image/jpeg")],
                    body: try FetchServer.picture(seed: seed))
                #expect(posted.status == 202)
            }
            var answer = empty
            for _ in 0..<600 {
                answer = try await client.send("GET", "/cameras")
                if answer.json?["total"] as? Int == 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(answer.json?["total"] as? Int == 2)
            let cameras = try #require(answer.json?["cameras"] as? [[String: Any]])
            #expect(cameras.count == 1)
            #expect(cameras.first?["count"] as? Int == 2)
            #expect(cameras.first?["make"] is NSNull)
        }
    }
}
