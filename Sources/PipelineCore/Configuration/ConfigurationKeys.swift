// The keys a configuration file may hold, derived from the configuration types themselves (their CodingKeys, found
// by encoding the defaults), so a key added to a section is known here without a second list to keep.
import Yams

/// The tree of known configuration keys: `functions` → `thumbnail` → `timeout`, …
public struct ConfigurationKeys: Sendable {
    /// The keys under this one; empty for a value.
    public var children: [String: ConfigurationKeys]

    /// Every key of `PicpipeConfiguration`, from encoding its defaults (optional keys that are nil count too).
    public static let known: ConfigurationKeys = {
        let root = KeyRecordingEncoder.Node()
        try? PicpipeConfiguration().encode(to: KeyRecordingEncoder(node: root, codingPath: []))
        return root.keys
    }()

    /// Every dotted path, sorted, for suggestions of a section's key given at the top (`max_pixels` →
    /// `limits.max_pixels`).
    public var paths: [String] {
        children.flatMap { name, child in [name] + child.paths.map { name + "." + $0 } }.sorted()
    }

    /// Refuses a key the configuration does not have, naming its dotted path, its line and the closest known key.
    /// - Parameters:
    ///   - node: the parsed YAML document.
    ///   - file: the file's path, for the message.
    public func check(_ node: Node, file: String) throws {
        try check(node, file: file, prefix: [])
    }

    private func check(_ node: Node, file: String, prefix: [String]) throws {
        guard !children.isEmpty else { return }
        if case .sequence(let elements) = node, let list = prefix.last {
            // A list of objects (`aws.credentials`): each element has the keys of one, named by its place (until
            // session 35 a typo inside one was never looked at, and `bukets:` left a key every bucket).
            for (index, element) in elements.enumerated() {
                try check(element, file: file, prefix: prefix.dropLast() + ["\(list)[\(index)]"])
            }
            return
        }
        guard case .mapping(let mapping) = node else { return }
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else { continue }
            guard let child = children[name] else {
                let path = (prefix + [name]).joined(separator: ".")
                var suggestion = Suggestion.closest(to: name, among: children.keys.sorted()).map {
                    (prefix + [$0]).joined(separator: ".")
                }
                if suggestion == nil, prefix.isEmpty {
                    // A key of a section written at the top (`max_pixels` for `limits.max_pixels`), when only one
                    // section has it. Never from inside a section: that is another setting of the same name
                    // (until session 34 `functions.thumbnail.enabled` suggested `aws.enabled`, the S3 front door).
                    let elsewhere = Self.known.paths.filter { $0.hasSuffix("." + name) }
                    if elsewhere.count == 1 { suggestion = elsewhere[0] }
                }
                if suggestion == nil, !prefix.isEmpty {
                    // A key of this section's subsections written one level too high (`concurrency: 2` under
                    // `functions:`): the subsections' keys of that name (until session 36 no suggestion). Not at the
                    // top, where sections of the same key are different settings (`aws.enabled`, `watcher.enabled`).
                    let below = children.filter { $0.value.children[name] != nil }.keys.sorted()
                        .map { (prefix + [$0, name]).joined(separator: ".") }
                    if let last = below.last {
                        // Quoted as one suggestion is: 'a', 'b' or 'c'.
                        let others = below.dropLast().joined(separator: "', '")
                        suggestion = others.isEmpty ? last : others + "' or '" + last
                    }
                }
                throw ConfigurationError.unknownKey(
                    path: file, key: path, line: keyNode.mark?.line, suggestion: suggestion)
            }
            try child.check(value, file: file, prefix: prefix + [name])
        }
    }
}

/// An element of a configuration list of objects (`aws.credentials`, `auth.api_keys`), whose keys are checked like a
/// section's.
public protocol ConfigurationListElement: Encodable {
    /// An element with every key that holds more keys set (the others are recorded when nil too).
    static var keyExample: Self { get }
}

/// A list whose elements' keys `ConfigurationKeys` records.
private protocol ConfigurationObjectList {
    func encodeExampleElement(to encoder: any Encoder) throws
}

extension Array: ConfigurationObjectList where Element: ConfigurationListElement {
    fileprivate func encodeExampleElement(to encoder: any Encoder) throws { try Element.keyExample.encode(to: encoder) }
}

/// An `Encoder` that records the keys it is asked to encode (including nil optionals) and ignores the values.
private struct KeyRecordingEncoder: Encoder {
    /// A key with the keys seen under it. A class so nested containers can add to it while encoding.
    final class Node {
        var children: [String: Node] = [:]
        func child(_ name: String) -> Node {
            if let existing = children[name] { return existing }
            let node = Node()
            children[name] = node
            return node
        }
        var keys: ConfigurationKeys { ConfigurationKeys(children: children.mapValues(\.keys)) }
    }

    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container<Key>(node: node, codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Ignored(codingPath: codingPath) }
    func singleValueContainer() -> any SingleValueEncodingContainer { Ignored(codingPath: codingPath) }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        func record(_ key: Key) { _ = node.child(key.stringValue) }
        mutating func encodeNil(forKey key: Key) { record(key) }
        mutating func encode(_ value: Bool, forKey key: Key) { record(key) }
        mutating func encode(_ value: String, forKey key: Key) { record(key) }
        mutating func encode(_ value: Double, forKey key: Key) { record(key) }
        mutating func encode(_ value: Float, forKey key: Key) { record(key) }
        mutating func encode(_ value: Int, forKey key: Key) { record(key) }
        mutating func encode(_ value: Int8, forKey key: Key) { record(key) }
        mutating func encode(_ value: Int16, forKey key: Key) { record(key) }
        mutating func encode(_ value: Int32, forKey key: Key) { record(key) }
        mutating func encode(_ value: Int64, forKey key: Key) { record(key) }
        mutating func encode(_ value: UInt, forKey key: Key) { record(key) }
        mutating func encode(_ value: UInt8, forKey key: Key) { record(key) }
        mutating func encode(_ value: UInt16, forKey key: Key) { record(key) }
        mutating func encode(_ value: UInt32, forKey key: Key) { record(key) }
        mutating func encode(_ value: UInt64, forKey key: Key) { record(key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let encoder = KeyRecordingEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
            // A list of objects is empty by default: the keys of its elements come from an example of one.
            if let list = value as? any ConfigurationObjectList {
                try list.encodeExampleElement(to: encoder)
            } else {
                try value.encode(to: encoder)
            }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) { record(key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) { record(key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) { record(key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) { record(key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { record(key) }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            KeyedEncodingContainer(
                Container<NestedKey>(node: node.child(key.stringValue), codingPath: codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            record(key)
            return Ignored(codingPath: codingPath + [key])
        }
        mutating func superEncoder() -> any Encoder { KeyRecordingEncoder(node: node, codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            KeyRecordingEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
        }
    }

    /// Values (and the elements of lists) hold no keys of the configuration.
    struct Ignored: UnkeyedEncodingContainer, SingleValueEncodingContainer {
        let codingPath: [any CodingKey]
        var count: Int { 0 }
        mutating func encodeNil() {}
        mutating func encode<T: Encodable>(_ value: T) {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            KeyedEncodingContainer(Container<NestedKey>(node: Node(), codingPath: codingPath))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
        mutating func superEncoder() -> any Encoder { KeyRecordingEncoder(node: Node(), codingPath: codingPath) }
    }
}
