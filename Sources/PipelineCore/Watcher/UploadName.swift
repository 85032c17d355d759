// Which names in uploads/ are real uploads: dotfiles and temporary names are someone's work in progress; a name that
// is not UTF-8 is given one that is.

/// The upload naming rules.
public enum UploadName {
    /// Whether a file or folder name is ignored: `.*`, `*.part`, `*.tmp`, `*~`, and browsers' downloads in progress,
    /// `*.crdownload` (Chrome, Edge, renamed once done) and `*.download` (Safari's folder).
    public static func isIgnored(_ name: String) -> Bool {
        name.isEmpty || name.hasPrefix(".") || name.hasSuffix("~")
            || workInProgressSuffixes.contains { name.hasSuffix($0) }
    }

    /// The name endings of files and folders still being written by their makers (downloads, copies, editors).
    public static let workInProgressSuffixes = [".part", ".tmp", ".crdownload", ".download"]

    /// The UTF-8 name an upload whose name is not UTF-8 is renamed to (a Latin-1 `café.jpg` from an old archive or
    /// share): every byte that is not part of a UTF-8 character becomes `%XX`, the rest stays. S3 keys, the journal
    /// and the HTTP API name pictures in UTF-8, and such a file could not even be opened by its decoded name.
    /// - Returns: nil when `bytes` is already UTF-8.
    public static func utf8Repaired(_ bytes: [UInt8]) -> String? {
        guard String(validating: bytes, as: UTF8.self) == nil else { return nil }
        var repaired = ""
        var start = 0
        while start < bytes.count {
            // The shortest run from `start` that is one whole UTF-8 character, if any (at most 4 bytes).
            let character = (1...min(4, bytes.count - start)).lazy.compactMap { length in
                String(validating: bytes[start..<(start + length)], as: UTF8.self).map { ($0, length) }
            }.first
            if let (text, length) = character {
                repaired += text
                start += length
            } else {
                let hex = Array("0123456789ABCDEF")
                repaired += "%" + String(hex[Int(bytes[start] >> 4)]) + String(hex[Int(bytes[start] & 15)])
                start += 1
            }
        }
        return repaired
    }
}
