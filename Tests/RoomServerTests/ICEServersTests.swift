import Foundation
import RoomServer
import Testing

@Suite struct ICEServersTests {
    /// `base64(HMAC-SHA1(secret, message))` computed by the openssl command (RFC 2202 vectors check ours in SystemCryptoTests).
    func opensslCredential(secret: String, username: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s \"$USERNAME\" | openssl dgst -sha1 -hmac \"$SECRET\" -binary | base64"]
        process.environment = ["PATH": "/usr/bin:/bin", "USERNAME": username, "SECRET": secret]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    let config = ICEServerConfig(stunURLs: ["stun:stun.example.org:3478"],
                                 turnURLs: ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"],
                                 turnSecret: "SECRET", ttl: 86400)

    @Test func turnCredentialsMatchCoturnsScheme() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000 - 86400)
        let response = ICEServers(config: config).iceServers(for: "alice", now: now)
        #expect(response.ttl == 86400)
        #expect(response.iceServers.count == 2)

        let stun = response.iceServers[0]
        #expect(stun == ICEServer(urls: ["stun:stun.example.org:3478"]))

        let turn = response.iceServers[1]
        #expect(turn.urls == config.turnURLs)
        #expect(turn.username == "1700000000:alice")
        #expect(turn.credential == (try opensslCredential(secret: "SECRET", username: "1700000000:alice")))
        #expect(turn.credential == "qjr0k8wIR/whuJHBuSXTBoAk+uY=")
    }

    @Test func noTurnWithoutASecret() {
        var config = config
        config.turnSecret = nil
        let response = ICEServers(config: config).iceServers(for: "alice", now: Date())
        #expect(response.iceServers == [ICEServer(urls: ["stun:stun.example.org:3478"])])

        let empty = ICEServers(config: ICEServerConfig()).iceServers(for: "alice", now: Date())
        #expect(empty.iceServers.isEmpty)
    }

    @Test func jsonShapeAndNoSecretAnywhere() throws {
        let servers = ICEServers(config: config)
        let response = servers.iceServers(for: "alice", now: Date(timeIntervalSince1970: 1_700_000_000))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(response), as: UTF8.self)
        // STUN entries carry no username/credential keys at all.
        #expect(json.hasPrefix(#"{"iceServers":[{"urls":["stun:stun.example.org:3478"]},{"credential":"#))
        #expect(json.hasSuffix(#""ttl":86400}"#))
        #expect(try JSONDecoder().decode(ICEServersResponse.self, from: Data(json.utf8)) == response)

        var dumped = ""
        dump(servers, to: &dumped)
        for text in [json, "\(servers)", "\(config)", String(reflecting: config), String(reflecting: servers), dumped] {
            #expect(!text.contains("SECRET"), "secret leaked in \(text)")
        }
        #expect("\(config)".contains("<redacted>"))
    }
}
