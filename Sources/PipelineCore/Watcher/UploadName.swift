// Which names in uploads/ are real uploads: dotfiles and temporary names are someone's work in progress.

/// The upload naming rules.
public enum UploadName {
    /// Whether a file or folder name is ignored: `.*`, `*.part`, `*.tmp`, `*~`.
    public static func isIgnored(_ name: String) -> Bool {
        name.isEmpty || name.hasPrefix(".") || name.hasSuffix(".part") || name.hasSuffix(".tmp") || name.hasSuffix("~")
    }
}
