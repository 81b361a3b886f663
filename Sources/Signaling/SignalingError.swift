import NIOCore
import NIOPosix
import NIOSSL

/// Why a signaling connection failed or closed, in words fit for a log line or a status screen.
public enum SignalingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    /// Certificate not trusted, host name mismatch, TLS handshake failure. Never retried as plain text.
    case tls(String)
    case unreachable(String)
    case httpStatus(Int)
    case protocolViolation(String)
    /// No ping from the server within pingInterval + pingTimeout.
    case heartbeatTimeout(milliseconds: Int)
    case transportClosed(String)
    /// The server answered CONNECT with CONNECT_ERROR (e.g. auth rejected).
    case connectRefused(String)
    case ackTimeout(event: String)
    case notConnected
    case closedByClient
    case payloadTooLarge(bytes: Int, limit: Int)
    case timeout(String)

    public var description: String {
        switch self {
        case .invalidURL(let u): return "invalid server URL: \(u)"
        case .tls(let why): return "TLS error: \(why)"
        case .unreachable(let why): return "server unreachable: \(why)"
        case .httpStatus(let code): return "server answered HTTP \(code)"
        case .protocolViolation(let why): return "protocol error: \(why)"
        case .heartbeatTimeout(let ms): return "server silent: no ping for \(ms) ms"
        case .transportClosed(let why): return "connection closed: \(why)"
        case .connectRefused(let why): return "server refused the connection: \(why)"
        case .ackTimeout(let event): return "no acknowledgement for '\(event)' in time"
        case .notConnected: return "not connected to the signaling server"
        case .closedByClient: return "closed"
        case .payloadTooLarge(let bytes, let limit): return "message of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .timeout(let what): return "timed out: \(what)"
        }
    }

    /// Maps errors from NIO, NIOSSL, AsyncHTTPClient and WSClient onto what a person can act on.
    static func classify(_ error: any Error) -> SignalingError {
        if let e = error as? SignalingError { return e }
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return .tls("server certificate not trusted (CERTIFICATE_VERIFY_FAILED); pass the deployment's CA file if it uses a private CA")
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return .tls(text) }
        let lowered = text.lowercased()
        if lowered.contains("certificate") || lowered.contains("ssl") || lowered.contains("tls") { return .tls(text) }
        if error is NIOConnectionError || error is IOError || lowered.contains("connect") || lowered.contains("refused") {
            return .unreachable(text)
        }
        if let c = error as? ChannelError, c == .connectTimeout(.zero) || lowered.contains("timeout") { return .unreachable(text) }
        return .transportClosed(text)
    }
}
