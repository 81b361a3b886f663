import Foundation
import SignalingServer
import Testing
import TOMLConfig

@Suite("videophone-server settings")
struct ServerSettingsTests {
    @Test("a TOML file sets every section; flags (applied after) win")
    func appliesFile() throws {
        var s = ServerSettings()
        try s.apply(TOMLDocument(parsing: """
            [server]
            host = "0.0.0.0"
            port = 8443
            allowed_origins = ["https://app.example"]
            [engineio]
            ping_interval = 10
            transports = ["websocket"]
            message_rate = 5
            [rooms]
            max_members = 4
            [chat]
            store = "memory"
            max_age_days = 7
            [ice]
            stun_urls = ["stun:stun.example:3478"]
            """))
        #expect(s.host == "0.0.0.0" && s.port == 8443 && s.allowedOrigins == ["https://app.example"])
        #expect(s.pingInterval == 10 && s.transports == ["websocket"] && s.messageRate == 5)
        #expect(s.maxMembers == 4 && s.chatStore == "memory" && s.chatRetention.maxAge == 7 * 24 * 3600)
        let config = try s.configuration()
        #expect(config.engine.allowPolling == false && config.engine.allowWebSocket)
        #expect(config.ice.stunURLs == ["stun:stun.example:3478"])
    }

    @Test("unknown keys, wrong types and inconsistent settings are refused with the key named")
    func refusesBadSettings() throws {
        var s = ServerSettings()
        #expect(throws: TOMLError.self) { try s.apply(TOMLDocument(parsing: "[rooms]\nmax_member = 3")) }
        #expect(throws: TOMLError(line: 0, reason: "'server.port' must be an integer, not \"80\"")) {
            try s.apply(TOMLDocument(parsing: "[server]\nport = \"80\""))
        }
        var t = ServerSettings()
        t.turnURLs = ["turn:127.0.0.1:3478"]
        #expect(throws: TOMLError(line: 0, reason: "TURN URLs need a TURN secret file")) { try t.configuration() }
        var u = ServerSettings()
        u.tlsCertificate = "/tmp/cert.pem"
        #expect(throws: TOMLError(line: 0, reason: "TLS needs both a certificate and a key file")) { try u.configuration() }
        var v = ServerSettings()
        v.transports = ["carrier-pigeon"]
        #expect(throws: TOMLError(line: 0, reason: "transports must name polling and/or websocket")) { try v.configuration() }
    }
}
