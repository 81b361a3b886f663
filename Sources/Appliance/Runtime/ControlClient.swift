// The client side of the control socket (ControlSocketServer): one request line, one reply line
// over a unix(7) stream socket. Used by `videophone control`, the guest scenarios and the tests.
import Foundation
import SignalingCore
#if canImport(Glibc)
import Glibc
#endif

public enum ControlClient {
    /// Sends `request` to the daemon listening on `socketPath` and returns its JSON reply.
    public static func request(_ request: String, socketPath: String) throws(ControlError) -> JSONValue {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard var address = unixSocketAddress(socketPath) else {
            throw ControlError("control socket path is longer than a unix socket allows: \(socketPath)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            throw ControlError("cannot connect to \(socketPath): \(String(cString: strerror(errno))) (is videophoned running with control.socket set?)")
        }
        let bytes = Array((request + "\n").utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw ControlError("could not send the request to \(socketPath)") }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            reply.append(byte)
            if reply.count > 1 << 20 { throw ControlError("reply from \(socketPath) is over 1 MiB") }
        }
        do {
            return try JSONValue.parse(Substring(String(decoding: reply, as: UTF8.self)))
        } catch {
            throw ControlError("unreadable reply from \(socketPath): \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
    }
}

/// The address of a unix(7) socket file; nil when the path does not fit `sun_path` (with its NUL).
func unixSocketAddress(_ path: String) -> sockaddr_un? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    return address
}
