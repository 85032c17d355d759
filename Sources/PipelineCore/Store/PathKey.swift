// A path as a key of a set or a dictionary, compared by its bytes as the file system compares names.

/// A path compared byte for byte. Swift's `String` equality is canonical equivalence, so `Café.jpg` spelt in NFC
/// and in NFD, two files on Linux, were one key: the watcher's memory of uploads it may not remove mixed their
/// entries up (until session 29; `batch` now knows its inputs by device and inode).
struct PathKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ path: String) { bytes = Array(path.utf8) }
}
