// STUN transport addresses: the value carried by MAPPED-ADDRESS (RFC 8489 §14.1),
// XOR-MAPPED-ADDRESS (RFC 8489 §14.2), ALTERNATE-SERVER (§14.15) and the TURN
// XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS attributes (RFC 8656 §18.3, §18.5).
// Named `STUNAddress` (not `TransportAddress`) so it cannot clash with the ICE or
// socket layers' own address types elsewhere in the module.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address plus a port, as STUN carries it on the wire.
public struct STUNAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family codes of RFC 8489 §14.1.
    public enum Family: UInt8, Sendable, Hashable {
        case ipv4 = 0x01
        case ipv6 = 0x02

        /// Address length in bytes.
        public var addressLength: Int { self == .ipv4 ? 4 : 16 }
    }

    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order. The initialisers keep this invariant.
    public let bytes: [UInt8]
    public var port: UInt16

    public var family: Family { bytes.count == 4 ? .ipv4 : .ipv6 }

    /// `bytes` must be 4 (IPv4) or 16 (IPv6) long, otherwise nil.
    public init?(bytes: [UInt8], port: UInt16) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
        self.port = port
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.bytes = [a, b, c, d]
        self.port = port
    }

    /// Parses a numeric host ("192.0.2.1", "2001:db8::1", "[2001:db8::1]"); no name resolution.
    public init?(host: String, port: UInt16) {
        var text = Substring(host)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        // inet_pton is the platform's strict numeric parser (rejects "1.2.3", leading junk, ...),
        // which is what SDP candidates and TURN URLs need.
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, String(text), &v4) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, String(text), &v6) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
        }
        self.port = port
    }

    /// Parses "192.0.2.1:3478" or "[2001:db8::1]:3478".
    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
        } else {
            // Without brackets only IPv4 is unambiguous: an IPv6 literal's last group would look like a port.
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            hostPart = parts[0]
            portPart = parts[1]
        }
        guard !portPart.isEmpty, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portPart) else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    /// The numeric host, IPv6 in RFC 5952 canonical form (what inet_ntop produces), without brackets.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let af = family == .ipv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { src in
            buffer.withUnsafeMutableBufferPointer { dst in
                inet_ntop(af, src.baseAddress, dst.baseAddress, socklen_t(dst.count)) != nil
            }
        }
        guard ok else { return "?" }
        let utf8 = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// "192.0.2.1:32853" or "[2001:db8::1]:32853".
    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
