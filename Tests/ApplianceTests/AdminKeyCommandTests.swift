import Appliance
import Foundation
import SignalingCore
import TOMLConfig
import TestSupport
import Testing

/// `videophone keygen` and `videophone sign-config`, run as the administrator runs them, and what
/// they print checked by the appliance's own verifier.
@Suite("videophone keygen and sign-config")
struct AdminKeyCommandTests {
    func videophone(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try Repo.run("videophone", arguments)
    }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "vp-admin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a key made by keygen signs an update the appliance accepts; the key file is 0600 and never overwritten")
    func keygenThenSign() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyFile = dir + "/admin.key"
        let made = try videophone(["keygen", "--private-key-file", keyFile])
        #expect(made.status == 0, "\(made.err)")
        let publicKey = made.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: publicKey)?.count == 32)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let secret = try String(contentsOfFile: keyFile, encoding: .utf8)
        #expect(!made.out.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))

        let again = try videophone(["keygen", "--private-key-file", keyFile])
        #expect(again.status != 0)
        #expect(again.err.contains("cannot create \(keyFile)"))
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == secret)

        let settingsFile = dir + "/update.toml"
        try "[call]\nauto_answer = \"after\"\n".write(toFile: settingsFile, atomically: true, encoding: .utf8)
        let signed = try videophone(["sign-config", "--private-key-file", keyFile, "--device-id", "kitchen-1",
                                     "--version", "3", "--key-id", "ops", "--settings-file", settingsFile,
                                     "--set", "signaling.room = \"family\""])
        #expect(signed.status == 0, "\(signed.err)")
        #expect(!signed.out.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
        let update = try JSONDecoder().decode(SignedDeviceConfig.self, from: Data(signed.out.utf8))
        #expect(update.keyId == "ops")
        let content = try RemoteConfigVerifier.verify(update, deviceId: "kitchen-1", publicKeys: [publicKey], appliedVersion: 2)
        #expect(content.version == 3)
        #expect(content.settings == ["call.auto_answer": .string("after"), "signaling.room": .string("family")])
        // The appliance's checks still hold: another device, a replayed version, another key.
        #expect(throws: RemoteConfigRefusal.self) {
            try RemoteConfigVerifier.verify(update, deviceId: "grandma-1", publicKeys: [publicKey], appliedVersion: 2)
        }
        #expect(throws: RemoteConfigRefusal.self) {
            try RemoteConfigVerifier.verify(update, deviceId: "kitchen-1", publicKeys: [publicKey], appliedVersion: 3)
        }
        let other = RemoteConfigDocument.generateKeyPair().publicKey
        #expect(throws: RemoteConfigRefusal.self) {
            try RemoteConfigVerifier.verify(update, deviceId: "kitchen-1", publicKeys: [other], appliedVersion: 2)
        }
    }

    @Test("sign-config refuses a bad key file, bad TOML, no settings and a bad version, each with a reason")
    func refusals() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyFile = dir + "/admin.key"
        #expect(try videophone(["keygen", "--private-key-file", keyFile]).status == 0)
        let notAKey = dir + "/not-a-key"
        try "hello\n".write(toFile: notAKey, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--private-key-file", notAKey, "--set", "call.auto_answer = \"after\""], "does not hold a private key"),
            (["--private-key-file", dir + "/missing", "--set", "call.auto_answer = \"after\""], "cannot read"),
            (["--private-key-file", keyFile, "--set", "call.auto_answer = "], "--set: line 1"),
            (["--private-key-file", keyFile], "give --settings-file or --set"),
        ]
        for (arguments, reason) in cases {
            let run = try videophone(["sign-config", "--device-id", "kitchen-1", "--version", "1"] + arguments)
            #expect(run.status != 0)
            #expect(run.err.contains(reason), "\(arguments): \(run.err)")
            #expect(run.out.isEmpty)
        }
        let badVersion = try videophone(["sign-config", "--private-key-file", keyFile, "--device-id", "kitchen-1",
                                         "--version", "0", "--set", "call.auto_answer = \"after\""])
        #expect(badVersion.status != 0)
        #expect(badVersion.err.contains("--version must be between 1 and"))
    }
}
