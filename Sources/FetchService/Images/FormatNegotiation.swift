// Choosing a thumbnail's format from the request's Accept header (RFC 9110 §12.5.1): AVIF or WebP only when the
// client names it (a bare `*/*` or `image/*` is no promise that it decodes them: curl, old browsers, crawlers
// send those), at the highest q the header gives it; ties go to the smaller format (AVIF, then WebP); anything
// else gets the configured format.
import ImageCore

/// The Accept header weighed against the formats a thumbnail exists in.
enum FormatNegotiation {
    /// The formats tried before the configured one, smallest files first.
    static let preferred: [ImageFormat] = [.avif, .webp]

    /// The format to answer with.
    /// - Parameters:
    ///   - accept: the request's Accept header, if any.
    ///   - available: the formats the thumbnail can be made in besides `fallback`.
    ///   - fallback: the configured format, which every client gets when it names neither AVIF nor WebP.
    static func choose(accept: String?, available: Set<ImageFormat>, fallback: ImageFormat) -> ImageFormat {
        guard let accept, !accept.isEmpty else { return fallback }
        let weights = explicitWeights(accept)
        var best: (format: ImageFormat, q: Double)? = nil
        for format in preferred where format != fallback && available.contains(format) {
            guard let q = weights[format.mediaType], q > 0 else { continue }
            if best == nil || q > best!.q { best = (format, q) }
        }
        return best?.format ?? fallback
    }

    /// The q value of each media type named exactly (lower-cased; wildcards are left out), the highest when a type
    /// is named twice. A q that does not parse counts as 1, as most servers read it.
    static func explicitWeights(_ accept: String) -> [String: Double] {
        var weights: [String: Double] = [:]
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let type = parts.first?.lowercased(), !type.isEmpty, !type.contains("*") else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0].lowercased() == "q", let value = Double(pair[1]), (0...1).contains(value) {
                    q = value
                }
            }
            weights[type] = max(weights[type] ?? 0, q)
        }
        return weights
    }

    /// The values `?format=` takes, as the OpenAPI document lists them: the formats picpipe writes, in lower case
    /// (`jpg` is `jpeg`).
    static let forcedNames = ImageFormat.writable.flatMap { $0 == .jpeg ? ["jpeg", "jpg"] : [$0.rawValue] }

    /// The format a `?format=` value forces, or 400 naming the values it takes. `JPEG` is refused as any other value
    /// the document does not list (until session 32 the case was ignored).
    static func forced(_ value: String) throws -> ImageFormat {
        guard forcedNames.contains(value), let format = ImageFormat(fileExtension: value) else {
            throw APIError.badRequest(
                "format must be one of \(forcedNames.joined(separator: ", ")) (in lower case), "
                    + "not '\(JSONText.printable(value))'")
        }
        return format
    }
}
