import Foundation
import Testing
import SignalingCore

/// The device channel's wire types: shape validation (the server's job) and round trips.
@Suite("Device channel wire types")
struct DeviceEventsTests {
    static let signature64 = Data((0..<64).map { UInt8($0) }).base64EncodedString()

    static func config(deviceId: String = "kitchen-1", version: Int = 1,
                       document: String = #"{"deviceId":"kitchen-1","version":1,"room":"home"}"#,
                       signature: String = signature64, keyId: String? = nil) -> SignedDeviceConfig {
        SignedDeviceConfig(deviceId: deviceId, version: version, document: document, signature: signature, keyId: keyId)
    }

    /// The reason of a `.badPayload` for `event`, or `nil` for any other outcome. (Untyped `throws`: a
    /// closure's typed throws is not inferred; the API's typed throws is checked by `typedThrows()`.)
    static func reason(_ event: String, _ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            guard case .badPayload(let e, let reason)? = error as? SignalingDecodeError, e == event else { return nil }
            return reason
        }
    }

    @Test func typedThrows() {
        func check(_ body: () throws(SignalingDecodeError) -> Void) -> Bool {
            do { try body(); return false } catch { return error.description.hasPrefix("malformed 'device:") }
        }
        #expect(check { () throws(SignalingDecodeError) in try DeviceHello(deviceId: "", configVersion: 0).validate() })
        #expect(check { () throws(SignalingDecodeError) in _ = try Self.config(version: 0).validated() })
        #expect(check { () throws(SignalingDecodeError) in _ = try DeviceConfigResult(version: -1, ok: true).validated() })
        #expect(check { () throws(SignalingDecodeError) in _ = try DeviceHello.decode(.null) })
    }

    @Test func eventNames() {
        #expect(DeviceEventName.hello == "device:hello")
        #expect(DeviceEventName.config == "device:config")
        #expect(DeviceEventName.configResult == "device:config:result")
    }

    @Test("good device ids", arguments: ["a", "kitchen-1", "Board_07.lab:eth0", "0", String(repeating: "x", count: 64)])
    func goodDeviceIds(id: String) throws {
        #expect(DeviceRules.isValidDeviceId(id))
        #expect(try DeviceHello(deviceId: id, configVersion: 0).validated() == DeviceHello(deviceId: id, configVersion: 0))
        try Self.config(deviceId: id).validate()
    }

    @Test("bad device ids", arguments: ["", String(repeating: "x", count: 65), "has space", "slash/es", "..%2F",
                                        "é", "tab\t", "new\nline", "emoji🎥", "semi;colon", "a\u{0}b"])
    func badDeviceIds(id: String) {
        #expect(!DeviceRules.isValidDeviceId(id))
        let hello = Self.reason("device:hello") { try DeviceHello(deviceId: id, configVersion: 0).validate() }
        #expect(hello?.contains("deviceId") == true)
        let config = Self.reason("device:config") { try Self.config(deviceId: id).validate() }
        #expect(config?.contains("deviceId") == true)
    }

    @Test func helloVersion() throws {
        try DeviceHello(deviceId: "d", configVersion: 0).validate()
        try DeviceHello(deviceId: "d", configVersion: DeviceRules.maxVersion).validate()
        let negative = Self.reason("device:hello") { try DeviceHello(deviceId: "d", configVersion: -1).validate() }
        #expect(negative?.contains("configVersion") == true)
        let huge = Self.reason("device:hello") { try DeviceHello(deviceId: "d", configVersion: DeviceRules.maxVersion + 1).validate() }
        #expect(huge?.contains("configVersion") == true)
    }

    @Test func configVersionMustBePositive() throws {
        try Self.config(version: 1).validate()
        for bad in [0, -1, Int.min, DeviceRules.maxVersion + 1] {
            let reason = Self.reason("device:config") { try Self.config(version: bad).validate() }
            #expect(reason?.contains("'version'") == true, "version \(bad)")
        }
    }

    @Test("documents that are not a JSON object",
          arguments: ["", "not json", "{", #"{"a":1"#, #"{"a":1}}"#, "[1,2]", #""text""#, "42", "null", "{'a':1}"])
    func badDocuments(document: String) {
        let reason = Self.reason("device:config") { try Self.config(document: document).validate() }
        #expect(reason?.contains("'document'") == true, "\(document)")
    }

    @Test func goodDocuments() throws {
        try Self.config(document: "{}").validate()
        try Self.config(document: " \n{\"nested\": {\"list\": [1, 2.5, true, null, \"é🎥\"]}}\n ").validate()
    }

    @Test func deeplyNestedDocumentIsRefusedNotACrash() {
        let deep = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        let reason = Self.reason("device:config") { try Self.config(document: deep).validate() }
        #expect(reason?.contains("'document'") == true)
    }

    @Test func documentSizeLimit() throws {
        let filler = String(repeating: "x", count: 65_536 - #"{"p":""}"#.utf8.count)
        let exactly = #"{"p":"\#(filler)"}"#
        #expect(exactly.utf8.count == 65_536)
        try Self.config(document: exactly).validate()

        let over = #"{"p":"\#(filler)x"}"#
        let reason = Self.reason("device:config") { try Self.config(document: over).validate() }
        #expect(reason?.contains("'document'") == true)
        #expect(reason?.contains("65537") == true)

        // The limit counts UTF-8 bytes, not characters; and it is configurable.
        let small = #"{"é":"éé"}"#
        #expect(small.count == 10 && small.utf8.count == 13)
        try Self.config(document: small).validate(maxDocumentBytes: 13)
        #expect(Self.reason("device:config") { try Self.config(document: small).validate(maxDocumentBytes: 12) } != nil)
    }

    @Test("bad signatures", arguments: [
        "", "not base64!", "AAAA====", Data(count: 63).base64EncodedString(), Data(count: 65).base64EncodedString(),
        String(Data(count: 64).base64EncodedString().dropLast(2)),  // padding removed
        Data(count: 64).base64EncodedString() + "\n",
        Data(count: 32).base64EncodedString(),
    ])
    func badSignatures(signature: String) {
        let reason = Self.reason("device:config") { try Self.config(signature: signature).validate() }
        #expect(reason?.contains("'signature'") == true, "\(signature)")
    }

    @Test func wrongLengthSignatureSaysHowLong() {
        let reason = Self.reason("device:config") { try Self.config(signature: Data(count: 63).base64EncodedString()).validate() }
        #expect(reason?.contains("63") == true)
        #expect(reason?.contains("64") == true)
    }

    @Test func keyId() throws {
        try Self.config(keyId: "admin-2025").validate()
        try Self.config(keyId: "SHA256:k7fP+/abc=").validate()
        for bad in ["", String(repeating: "k", count: 129), "line\nbreak"] {
            let reason = Self.reason("device:config") { try Self.config(keyId: bad).validate() }
            #expect(reason?.contains("'keyId'") == true, "\(bad)")
        }
    }

    @Test func results() throws {
        try DeviceConfigResult(version: 0, ok: false, errors: ["unreadable"]).validate()
        try DeviceConfigResult(version: 3, ok: true).validate()
        #expect(Self.reason("device:config:result") { try DeviceConfigResult(version: -1, ok: true).validate() }?
            .contains("'version'") == true)
        let many = DeviceConfigResult(version: 1, ok: false, errors: Array(repeating: "e", count: 33))
        #expect(Self.reason("device:config:result") { try many.validate() }?.contains("'errors'") == true)
        let long = DeviceConfigResult(version: 1, ok: false, errors: ["ok", String(repeating: "e", count: 1025)])
        #expect(Self.reason("device:config:result") { try long.validate() }?.contains("'errors[1]'") == true)
    }

    // MARK: Wire

    @Test func decodeFromPayloads() throws {
        #expect(try DeviceHello.decode(JSONValue.parse(#"{"deviceId":"hall","configVersion":4}"#))
                == DeviceHello(deviceId: "hall", configVersion: 4))
        #expect(try DeviceConfigResult.decode(JSONValue.parse(#"{"version":4,"ok":true}"#))
                == DeviceConfigResult(version: 4, ok: true, errors: []))

        let missing = Self.reason("device:hello") { _ = try DeviceHello.decode(JSONValue.parse(#"{"deviceId":"hall"}"#)) }
        #expect(missing?.contains("configVersion") == true)
        let fractional = Self.reason("device:hello") {
            _ = try DeviceHello.decode(JSONValue.parse(#"{"deviceId":"hall","configVersion":1.5}"#))
        }
        #expect(fractional?.contains("configVersion") == true, "\(String(describing: fractional))")
        for huge in ["1e300", "-1e300", "9007199254740993"] {
            let reason = Self.reason("device:config") {
                _ = try SignedDeviceConfig.decode(JSONValue.parse(
                    #"{"deviceId":"hall","version":\#(huge),"document":"{}","signature":"\#(Self.signature64)"}"#))
            }
            #expect(reason?.contains("version") == true, "\(huge): \(String(describing: reason))")
        }
        let resultVersion = Self.reason("device:config:result") {
            _ = try DeviceConfigResult.decode(JSONValue.parse(#"{"version":"2","ok":true}"#))
        }
        #expect(resultVersion?.contains("version") == true)
        let invalid = Self.reason("device:hello") {
            _ = try DeviceHello.decode(JSONValue.parse(#"{"deviceId":"a b","configVersion":1}"#))
        }
        #expect(invalid?.contains("deviceId") == true)
        let notBase64 = Self.reason("device:config") {
            _ = try SignedDeviceConfig.decode(JSONValue.parse(
                #"{"deviceId":"hall","version":1,"document":"{}","signature":"%%"}"#))
        }
        #expect(notBase64?.contains("signature") == true)
    }

    @Test func signedDocumentSurvivesRelayByteForByte() throws {
        // Key order, spacing, escapes and decomposed characters: what the signature covers.
        let document = "{ \"version\": 2,\"deviceId\":\"hall\" ,\"name\":\"Cafe\u{301} \\u00e9\\/\\n\",\"list\":[1.0,2e0]}"
        let sent = Self.config(deviceId: "hall", version: 2, document: document, keyId: "admin")
        try sent.validate()
        // Relayed as the server does: a JSON value inside a Socket.IO event, serialised and parsed again.
        let text = SocketIOPacket.event(DeviceEventName.config, [sent.json]).encoded()
        let (name, args) = try SocketIOPacket.decode(text).eventNameAndArgs()
        #expect(name == "device:config")
        let received = try SignedDeviceConfig.decode(try #require(args.first))
        #expect(received == sent)
        #expect(Array(received.document.utf8) == Array(document.utf8))
        #expect(received.signedBytes == Data(document.utf8))
        #expect(received.signatureData == Data((0..<64).map { UInt8($0) }))

        // keyId is omitted when absent, and Codable agrees with `json`.
        let bare = Self.config()
        #expect(bare.json["keyId"] == nil)
        #expect(try JSONValue(encoding: bare) == bare.json)
        #expect(try JSONValue(encoding: sent) == sent.json)
        let hello = DeviceHello(deviceId: "hall", configVersion: 2)
        #expect(try JSONValue(encoding: hello) == hello.json)
        let result = DeviceConfigResult(version: 2, ok: false, errors: ["bad signature"])
        #expect(try JSONValue(encoding: result) == result.json)
        #expect(try JSONDecoder().decode(DeviceConfigResult.self, from: JSONEncoder().encode(result)) == result)
    }
}
