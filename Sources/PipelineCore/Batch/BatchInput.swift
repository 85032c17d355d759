// Finding the inputs of a batch: every JPEG and PNG under the given files and folders.
import Foundation
import ImageCore

#if canImport(Glibc)
import Glibc
#endif

/// One file a batch will process.
public struct BatchInput: Sendable, Hashable {
    /// The path as found (under an input folder, or as named).
    public var path: String

    /// - Parameter path: the file's path.
    public init(path: String) { self.path = path }

    /// Extensions that announce an image: such a file is processed (and fails if its bytes are not JPEG/PNG).
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png"]

    /// Every input under `paths`, recursively, in a stable order.
    ///
    /// A file named on the command line is always taken. Under a folder, a file is taken when its bytes
    /// are JPEG or PNG (sniffed, whatever its name) or its name claims an image extension; dotfiles and
    /// other files are left alone.
    /// - Returns: the inputs, and the paths that do not exist.
    public static func discover(_ paths: [String]) -> (inputs: [BatchInput], missing: [String]) {
        var inputs: [BatchInput] = []
        var missing: [String] = []
        var seen = Set<String>()
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                missing.append(path)
                continue
            }
            if !isFolder.boolValue {
                if seen.insert(path).inserted { inputs.append(BatchInput(path: path)) }
                continue
            }
            var found: [String] = []
            let root = URL(fileURLWithPath: path)
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            while let url = walker?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                let relative = String(url.path.dropFirst(root.path.count).drop(while: { $0 == "/" }))
                let file = path.hasSuffix("/") ? path + relative : path + "/" + relative
                if imageExtensions.contains(url.pathExtension.lowercased()) || sniffsAsImage(url) {
                    found.append(file)
                }
            }
            for file in found.sorted() where seen.insert(file).inserted {
                inputs.append(BatchInput(path: file))
            }
        }
        return (inputs, missing)
    }

    /// Reads a whole input file with one sized buffer and plain `read(2)` calls.
    ///
    /// Not memory-mapped on purpose: a file truncated by another process while mapped would kill the batch
    /// with SIGBUS. The size is taken from `fstat`; a file that grows meanwhile is read as it was at the start.
    static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw StoreError.notFound(path: path) }
            throw StoreError.io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw StoreError.io(path: path, operation: "stat", errno: errno) }
        var data = try Self.buffer(count: Int(status.st_size), path: path)
        let filled = try data.withUnsafeMutableBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 { break }
                offset += n
            }
            return offset
        }
        if filled < data.count { data.removeSubrange(filled...) }
        return data
    }

    /// Inputs at least this large get their own anonymous mapping, returned to the system when the last copy of
    /// the `Data` goes, instead of a heap block that glibc keeps after `free` (which raised peak memory by a
    /// picture's worth on multi-megabyte PNGs).
    static let mappedBufferThreshold = 2 * 1024 * 1024

    /// A zeroed buffer of `count` bytes to read a file into.
    static func buffer(count: Int, path: String) throws -> Data {
        guard count >= mappedBufferThreshold else { return Data(count: count) }
        guard let pointer = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            pointer != MAP_FAILED
        else { throw StoreError.io(path: path, operation: "mmap", errno: errno) }
        return Data(bytesNoCopy: pointer, count: count, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// Whether the first bytes of the file are JPEG or PNG.
    static func sniffsAsImage(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8) else { return false }
        return head.withUnsafeBytes { ImageFormat.sniff($0) } != nil
    }
}
