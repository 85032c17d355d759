// Before `serve` says it is serving: can it listen where it was asked to? (A port in use otherwise shows up as a
// NIO bind error after the "serving" line.)
import FetchService
import Foundation
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Why `serve` cannot listen on its address.
struct ListenUnavailable: Error, CustomStringConvertible {
    var address: ListenAddress
    var errno: Int32
    /// How the user sets this address.
    var setting = "--listen HOST:PORT (or http.listen, PICPIPE_LISTEN)"

    var description: String {
        let reason = String(cString: strerror(errno))
        let hint =
            errno == EADDRINUSE
            ? "another process listens there (another serve?); choose another address with \(setting)"
            : "choose another address with \(setting)"
        return "cannot listen on \(address): \(reason); \(hint)"
    }
}

enum ListenCheck {
    /// Binds a socket to `address` and closes it again; port 0 (any free port) is always available.
    /// - Throws: `ListenUnavailable` with the system's reason when the bind fails.
    static func check(_ address: ListenAddress, setting: String? = nil) throws {
        guard address.port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let first = list else {
            return  // the server reports a host it cannot resolve itself
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var on: Int32 = 1
        // The server sets SO_REUSEADDR too, so a socket in TIME_WAIT does not count as "in use".
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            var unavailable = ListenUnavailable(address: address, errno: errno)
            if let setting { unavailable.setting = setting }
            throw unavailable
        }
    }
}
