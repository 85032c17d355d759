// The gallery's files under content-hashed names (cached for a year, immutable) and its HTML page, which names
// them and is revalidated on every load.
import Foundation

/// The gallery page and its assets, built once per process.
struct GalleryAssets: Sendable {
    /// The URL folder the assets are served under.
    static let prefix = "/gallery/"

    /// The strict policy of the page: only this origin's scripts, styles, images and connections; no inline
    /// script or style, no plugins, no framing, no base or form redirection.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
        + "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The assets by hashed name.
    let byHashedName: [String: BuiltGalleryAsset]
    /// The hashed name of each asset by its plain name.
    let hashedNames: [String: String]

    /// The gallery as compiled into this binary.
    static let shared = GalleryAssets(
        [
            GalleryAsset.formatScript, GalleryAsset.apiScript, GalleryAsset.gridScript, GalleryAsset.cameraScript,
            GalleryAsset.detailScript,
            GalleryAsset.uploadScript, GalleryAsset.liveScript, GalleryAsset.appScript, GalleryAsset.styleSheet,
            GalleryAsset.icon,
        ])

    /// Builds the assets in order: each one's references (`./name.js`, `name.svg`) to assets before it are
    /// rewritten to their hashed names first, so a changed module changes the names of those that import it.
    init(_ assets: [GalleryAsset]) {
        var built: [String: BuiltGalleryAsset] = [:]
        var names: [String: String] = [:]
        for asset in assets {
            let script = asset.contentType.hasPrefix("text/javascript")
            let text = script ? Self.withoutIndentation(Self.withoutCommentLines(asset.text)) : asset.text
            let bytes = Array(Self.rewrite(text, names: names).utf8)
            let hash = GalleryAsset.contentHash(bytes)
            let dot = asset.name.lastIndex(of: ".") ?? asset.name.endIndex
            let hashedName = "\(asset.name[..<dot]).\(hash)\(asset.name[dot...])"
            names[asset.name] = hashedName
            built[hashedName] = BuiltGalleryAsset(
                hashedName: hashedName, contentType: asset.contentType, bytes: bytes, eTag: "\"\(hash)\"")
        }
        byHashedName = built
        hashedNames = names
    }

    /// A script without its lines that are only comments (`// …`, and `/* … */` blocks of whole lines): they are
    /// for the people who read the source, and a fifth of the page's weight. A line with code keeps its comment.
    static func withoutCommentLines(_ text: String) -> String {
        var kept: [Substring] = []
        var block: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if block.isEmpty, trimmed.hasPrefix("//") { continue }
            if block.isEmpty, !trimmed.hasPrefix("/*") {
                kept.append(line)
                continue
            }
            block.append(line)
            guard line.contains("*/") else { continue }
            // A block that ends with code after it is kept whole.
            if !line.hasSuffix("*/") { kept += block }
            block = []
        }
        return (kept + block).joined(separator: "\n")
    }

    /// A script without the spaces that indent its lines, for readers too (a thirteenth of what is left after the
    /// comments; the page must stay under 60 KB). A line that continues a template literal (`…` across lines) keeps
    /// its spaces: they are part of the string. (Backticks are counted, not parsed: the scripts put none in quotes or
    /// comments, and a test finds an indented line left if one ever does.)
    static func withoutIndentation(_ text: String) -> String {
        var inTemplate = false
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(inTemplate ? line : line.drop { $0 == " " })
            var escaped = false
            for character in line {
                if character == "`", !escaped { inTemplate.toggle() }
                escaped = character == "\\" && !escaped
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The text with every `./NAME` of an already built asset replaced by `./HASHED`.
    static func rewrite(_ text: String, names: [String: String]) -> String {
        var result = text
        for (name, hashed) in names {
            result = result.replacingOccurrences(of: "./\(name)\"", with: "./\(hashed)\"")
            result = result.replacingOccurrences(of: "\(prefix)\(name)\"", with: "\(prefix)\(hashed)\"")
        }
        return result
    }

    /// The HTML page, naming the hashed assets.
    /// - Parameters:
    ///   - writeNeedsKey: credentials are configured (keys under `http.api_keys` or `auth.api_keys`, or an OIDC
    ///     issuer): the page asks for one before it shows write controls.
    ///   - acceptsTokens: an OIDC issuer's tokens are accepted: the key form asks for an API key or a token.
    ///   - readNeedsKey: reads need a key too (`protect_reads`).
    ///   - signedURLs: the server signs URLs (`http.signing_key`): with `readNeedsKey`, the page's thumbnails and
    ///     event stream use signed URLs.
    ///   - initialData: the JSON the page starts from (`GalleryPage.initialDataID`), or `nil` (it asks the API).
    ///   - thumbnailFormat: the format thumbnails are made in at upload: the tiles ask for it (`?format=`), so a
    ///     first view never waits for AVIF or WebP variants made on request.
    func page(
        writeNeedsKey: Bool, acceptsTokens: Bool = false, readNeedsKey: Bool, signedURLs: Bool = false,
        thumbnailFormat: String? = nil, initialData: String? = nil
    ) -> String {
        var html = GalleryPage.template
        html = html.replacingOccurrences(of: "{{write-key}}", with: writeNeedsKey ? "required" : "none")
        html = html.replacingOccurrences(of: "{{credential}}", with: acceptsTokens ? "API key or token" : "API key")
        html = html.replacingOccurrences(of: "{{read-key}}", with: readNeedsKey ? "required" : "none")
        html = html.replacingOccurrences(of: "{{signed-urls}}", with: signedURLs ? "yes" : "no")
        html = html.replacingOccurrences(of: "{{page-size}}", with: String(GalleryPage.firstPageSize))
        html = html.replacingOccurrences(of: "{{camera-page-size}}", with: String(GalleryPage.cameraPageSize))
        html = html.replacingOccurrences(of: "{{upload-types}}", with: GalleryPage.uploadTypes)
        html = html.replacingOccurrences(of: "{{thumbnail-format}}", with: thumbnailFormat ?? "")
        for (name, hashed) in hashedNames {
            html = html.replacingOccurrences(of: "{{\(name)}}", with: Self.prefix + hashed)
        }
        // The data last: picture names and EXIF text are the users', and a `{{app.js}}` in them stays as written.
        return html.replacingOccurrences(of: "{{initial-data}}", with: initialData.map(Self.dataBlock) ?? "")
    }

    /// A JSON data block (not a script: the policy allows no inline script, and the browser runs no
    /// `application/json`); every `<` is written `\u003c` so no text in it can end the element.
    static func dataBlock(_ json: String) -> String {
        "<script type=\"application/json\" id=\"\(GalleryPage.initialDataID)\">"
            + json.replacingOccurrences(of: "<", with: "\\u003c") + "</script>"
    }

    /// The total bytes of the page and every asset it loads (without thumbnails).
    func weight(of page: String) -> Int {
        page.utf8.count + byHashedName.values.reduce(0) { $0 + $1.bytes.count }
    }
}
