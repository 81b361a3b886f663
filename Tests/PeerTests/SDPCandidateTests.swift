import Testing
@testable import Peer

@Suite("ICE candidate lines (RFC 8839 §5.1)")
struct SDPCandidateTests {
    @Test func chromiumTrickledHostWithExtensions() throws {
        let text = "candidate:3311742287 1 udp 2113937151 7f3a9c1e-4b2d-4e8f-9a0b-1c2d3e4f5a6b.local 58213 typ host generation 0 ufrag Xq3b network-id 1 network-cost 10"
        let c = try IceCandidateLine.parse(text)
        #expect(c.foundation == "3311742287" && c.component == 1 && c.transport == "udp")
        #expect(c.priority == 2113937151 && c.port == 58213 && c.type == .host)
        #expect(c.address.hasSuffix(".local"))
        #expect(c.generation == 0 && c.ufrag == "Xq3b" && c.networkId == 1 && c.networkCost == 10)
        #expect(c.serialize() == text)
        #expect(try IceCandidateLine.parse("a=" + text) == c)
    }

    @Test func tcpCandidates() throws {
        let active = try IceCandidateLine.parse("candidate:2 1 TCP 2105524479 192.168.1.20 9 typ host tcptype active")
        #expect(!active.isUDP && active.tcpType == "active" && active.port == 9)
        let passive = try IceCandidateLine.parse(
            "candidate:1052 1 tcp 1518280447 10.0.0.5 443 typ host tcptype passive generation 0 network-id 1")
        #expect(passive.tcpType == "passive" && passive.generation == 0)
        #expect(try IceCandidateLine.parse(passive.serialize()) == passive)
        let so = try IceCandidateLine.parse("candidate:7 1 tcp 1000 10.0.0.5 5000 typ host tcptype so")
        #expect(so.tcpType == "so")
    }

    @Test func ipv6AndRelated() throws {
        let host = try IceCandidateLine.parse("candidate:1 1 UDP 2122187007 fd00:1234:5678:9abc::20 54322 typ host")
        #expect(host.address == "fd00:1234:5678:9abc::20")
        let relay = try IceCandidateLine.parse(
            "candidate:843 1 udp 41885439 2001:db8:85a3::8a2e:370:7334 3478 typ relay raddr 2001:db8::1 rport 61000 generation 0")
        #expect(relay.type == .relay && relay.relatedAddress == "2001:db8::1" && relay.relatedPort == 61000)
        #expect(relay.serialize() ==
            "candidate:843 1 udp 41885439 2001:db8:85a3::8a2e:370:7334 3478 typ relay raddr 2001:db8::1 rport 61000 generation 0")
        let srflx = try IceCandidateLine.parse(
            "candidate:3 1 UDP 1685987327 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0")
        #expect(srflx.type == .serverReflexive && srflx.relatedPort == 0)
    }

    @Test func builtCandidateSerializes() {
        let c = IceCandidateLine(foundation: "1", priority: 2130706431, address: "192.168.1.2", port: 40000,
                                 type: .host, extensions: [.init(name: "generation", value: "0")])
        #expect(c.serialize() == "candidate:1 1 udp 2130706431 192.168.1.2 40000 typ host generation 0")
    }

    @Test("bad candidates are rejected", arguments: [
        "1 1 udp 2130706431 10.0.0.1 5000 typ host",          // no "candidate:" prefix
        "candidate:1 1 udp 2130706431 10.0.0.1 5000",          // no typ
        "candidate:1 1 udp 2130706431 10.0.0.1 5000 type host",
        "candidate:1 0 udp 2130706431 10.0.0.1 5000 typ host", // component 0
        "candidate:1 1 udp 4294967296 10.0.0.1 5000 typ host", // priority > 2^32-1
        "candidate:1 1 udp 100 10.0.0.1 65536 typ host",       // port out of range
        "candidate:1 1 udp 100 10.0.0.1 50x0 typ host",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host generation", // extension without value
        "candidate:1 1 udp 100 10.0.0.1 5000 typ srflx raddr 1.2.3.4 rport x",
        "candidate:f@o 1 udp 100 10.0.0.1 5000 typ host",      // foundation not ice-chars
    ])
    func bad(text: String) {
        #expect(throws: SDPError.self) { try IceCandidateLine.parse(text) }
    }

    @Test func badCandidateInSDPNamesLine() {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
            + "a=candidate:1 1 udp 100 10.0.0.1 5000 typ\r\n"
        do {
            _ = try SDPSession.parse(text)
            Issue.record("accepted")
        } catch {
            guard case let .malformedLine(number, line, _) = error else { return }
            #expect(number == 6 && line == "a=candidate:1 1 udp 100 10.0.0.1 5000 typ")
        }
    }
}
