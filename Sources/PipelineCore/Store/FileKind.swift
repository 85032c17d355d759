// Naming what an entry is when it is not a regular file, for the messages that refuse it.
#if canImport(Glibc)
    import Glibc
#endif

/// The kinds of file-system entries, as messages name them.
public enum FileKind {
    /// What an entry of this `st_mode` is ("a named pipe (FIFO)", …); nil for a regular file.
    public static func special(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "an entry of an unknown kind"
        }
    }

    /// Whether the entry is neither a regular file nor a folder: a link, pipe, socket or device, which holds no bytes
    /// of its own to take.
    public static func isSpecial(_ mode: mode_t) -> Bool {
        mode & S_IFMT != S_IFDIR && special(mode) != nil
    }
}
