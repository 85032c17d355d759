// How big a configuration file may be as YAML: nested so deep that the YAML library's recursion overflows the stack
// (a crash, of a running serve too at SIGHUP), or aliased so often ("billion laughs") that walking what it stands
// for takes hours, is refused before either happens. A configuration is a few levels deep and a few hundred values.
import Yams

extension PicpipeConfiguration {
    /// The deepest nesting of a configuration's values, aliases followed (a real one has five or six levels).
    static let maxNesting = 64
    /// The most values a configuration may stand for, aliases expanded (Kubernetes' YAML reader refuses "excessive
    /// aliasing" the same way).
    static let maxValues = 100_000
    /// The most a line may add to `textNesting`'s bound: an upper bound, so generous; the parser's recursion
    /// overflows an 8 MiB stack at about 4,000 levels.
    static let maxTextNesting = 512

    /// Refuses text nested deeper than the parser may recurse, before it is parsed.
    /// - Throws: `ConfigurationError.malformed` naming the line.
    static func refuseDeepText(_ yaml: String, path: String) throws {
        var flow = 0
        for (number, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Every level of a block needs more indentation or one more "- " / "? " before the content; a flow
            // level needs an opening bracket. Brackets in quotes count too: an over-count of a bound this large
            // refuses nothing a person writes.
            var bound = 0
            var leading = true
            var previous: Character = " "
            for character in line {
                if character == "#", previous == " " || previous == "\t" { break }
                if leading, " \t-?".contains(character) {
                    bound += 1
                } else {
                    leading = false
                    if character == "[" || character == "{" { flow += 1 }
                    if character == "]" || character == "}" { flow = max(0, flow - 1) }
                }
                previous = character
                if flow + bound > maxTextNesting {
                    throw ConfigurationError.malformed(
                        path: path,
                        reason: "line \(number + 1): nested deeper than \(maxTextNesting) levels (a configuration "
                            + "needs a few)")
                }
            }
        }
    }

    /// Refuses a document that stands for too many values or is nested too deep once its aliases are followed,
    /// walking at most `maxValues` of them (with no recursion, so no depth overflows the stack here).
    /// - Throws: `ConfigurationError.malformed` naming the line.
    static func refuseOversized(_ document: Node, path: String) throws {
        var pending: [(node: Node, depth: Int)] = [(document, 1)]
        var count = 0
        while let (node, depth) = pending.popLast() {
            count += 1
            let line = node.mark.map { "line \($0.line): " } ?? ""
            guard count <= maxValues else {
                throw ConfigurationError.malformed(
                    path: path,
                    reason: "stands for more than \(maxValues) values once its aliases (*name) are expanded")
            }
            guard depth <= maxNesting else {
                throw ConfigurationError.malformed(
                    path: path, reason: "\(line)nested deeper than \(maxNesting) levels (aliases followed)")
            }
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    pending.append((key, depth + 1))
                    pending.append((value, depth + 1))
                }
            case .sequence(let items):
                for item in items { pending.append((item, depth + 1)) }
            default:
                break
            }
        }
    }
}
