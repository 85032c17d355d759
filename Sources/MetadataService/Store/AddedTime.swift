// When a picture entered the store (`added_at`), in taken_at's shape: the listing orders a picture without an EXIF
// date by it, as Immich orders one by its file's date.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `added_at`: the server's local wall time (`YYYY-MM-DDTHH:MM:SS`, no offset), as taken_at is the camera's, so the
/// two compare as text in one order (Immich's `localDateTime` falls back to the file's date in local time the same
/// way). picpipe keeps no file's own date (every way in writes the original anew), so it is the time the original
/// was written: its modification time.
public enum AddedTime {
    /// `seconds` since 1970 as the server's local wall time.
    public static func text(_ seconds: time_t) -> String {
        var clock = seconds
        var parts = tm()
        localtime_r(&clock, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Now, as the server's local wall time.
    public static var now: String { text(time(nil)) }

    /// The modification time of the file at `path` (links followed), or nil when it cannot be read.
    public static func ofFile(atPath path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return text(status.st_mtim.tv_sec)
    }

    /// The modification time of a row's original: `file` is relative to the store's `root` (`originals/ab/….jpg`)
    /// or absolute.
    package static func ofOriginal(_ file: String, root: URL) -> String? {
        ofFile(atPath: file.hasPrefix("/") ? file : root.appendingPathComponent(file).path)
    }
}
