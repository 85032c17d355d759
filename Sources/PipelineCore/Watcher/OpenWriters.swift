// Finding files some process still has open for writing, so a rescan does not take a file mid-write.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `/proc/PID/fd` and `/proc/PID/fdinfo` to tell which of some paths are open for writing.
///
/// Only processes this one may inspect are seen (all of them when running as root or as the writer's user).
enum OpenWriters {
    /// The subset of `paths` that some process (this one included) has open with write access.
    static func among(_ paths: Set<String>) -> Set<String> {
        guard !paths.isEmpty, let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        var open: Set<String> = []
        for pid in pids where pid.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            let fdFolder = "/proc/\(pid)/fd"
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdFolder) else { continue }
            for fd in fds {
                guard let target = readLink(fdFolder + "/" + fd), paths.contains(target) else { continue }
                if isWritable(pid: pid, fd: fd) { open.insert(target) }
            }
        }
        return open
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { pointer -> Int in
            guard let base = pointer.baseAddress else { return -1 }
            return base.withMemoryRebound(to: CChar.self, capacity: pointer.count) { readlink(path, $0, pointer.count) }
        }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// `flags:` in fdinfo is octal; the access mode is its low two bits (1: write only, 2: read-write).
    private static func isWritable(pid: String, fd: String) -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8) else { return true }
        for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
            let value = line.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces)
            guard let flags = Int(value, radix: 8) else { return true }
            return flags & 3 != 0
        }
        return true
    }
}
