// The administrator's side of signed remote configuration: make an Ed25519 key pair, and sign
// settings for one device. videophone-server only relays what this prints (it never holds the
// private key); the appliance checks the signature against `admin.public_keys`, its device id and
// that the version is above the one it applied (RemoteConfigManager.verify).
import Appliance
import ArgumentParser
import Foundation
import SignalingCore
import SystemCrypto
import TOMLConfig
#if canImport(Glibc)
import Glibc
#endif

/// A failure worth one line on standard error (ArgumentParser prints `Error: ` and the description).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an administrator key pair for signed remote configuration.",
        discussion: """
            The private key (base64) goes to --private-key-file, created readable by you alone; an \
            existing file is never overwritten. The public key (base64) is printed: put it in the \
            appliance's admin.public_keys (or image/build --admin-key).
            """)

    @Option(name: .customLong("private-key-file"), help: "Where to write the private key (mode 0600, must not exist).")
    var privateKeyFile: String

    func run() throws {
        let key = Ed25519PrivateKey()
        // O_EXCL: never replace a key that may already sign devices; 0600 from the first byte.
        let fd = open(privateKeyFile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CommandFailure("cannot create \(privateKeyFile): \(String(cString: strerror(errno)))")
        }
        let text = Array((Data(key.rawRepresentation).base64EncodedString() + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let closed = close(fd)
        guard written == text.count, closed == 0 else {
            unlink(privateKeyFile)
            throw CommandFailure("cannot write \(privateKeyFile): \(String(cString: strerror(errno)))")
        }
        print(Data(key.publicKey.rawRepresentation).base64EncodedString())
    }
}

struct SignConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-config",
        abstract: "Sign settings for one appliance; prints the body for POST /api/devices/{id}/config.",
        discussion: """
            Settings are TOML, as in videophone.toml: a file (--settings-file), and/or single lines \
            (--set 'call.auto_answer = "after"'). The version must be above the one the appliance \
            applied last, or it refuses the update as a replay.
            """)

    @Option(name: .customLong("private-key-file"), help: "The private key from `videophone keygen`.")
    var privateKeyFile: String
    @Option(name: .customLong("device-id"), help: "The appliance's admin.device_id.")
    var deviceId: String
    @Option(help: "The update's version (a whole number above the appliance's current one).")
    var version: Int
    @Option(name: .customLong("key-id"), help: "A label for the key (shown in the appliance's log).")
    var keyId: String?
    @Option(name: .customLong("settings-file"), help: "A TOML file of settings.")
    var settingsFile: String?
    @Option(name: .customLong("set"), help: "One setting as a TOML line (repeatable).")
    var set: [String] = []

    func validate() throws {
        guard settingsFile != nil || !set.isEmpty else { throw ValidationError("give --settings-file or --set") }
        guard version >= 1, version <= DeviceRules.maxVersion else {
            throw ValidationError("--version must be between 1 and \(DeviceRules.maxVersion)")
        }
    }

    func run() throws {
        let key = try Self.readPrivateKey(privateKeyFile)
        // The file and the --set lines are separate documents: a line after the file's last
        // [table] would otherwise land in that table. --set wins over the file.
        var settings: [String: TOMLValue] = [:]
        if let settingsFile {
            let text = try Self.readText(settingsFile)
            do { settings = try TOMLDocument(parsing: text).values } catch {
                throw CommandFailure("\(settingsFile): \(error)")
            }
        }
        do {
            settings.merge(try TOMLDocument(parsing: set.joined(separator: "\n")).values) { _, line in line }
        } catch {
            throw CommandFailure("--set: \(error)")
        }
        guard !settings.isEmpty else { throw CommandFailure("settings: none given") }
        let signed = try RemoteConfigDocument.sign(deviceId: deviceId, version: version, settings: settings,
                                                   key: key, keyId: keyId)
        do { try signed.validate() } catch { throw CommandFailure("the signed update would be refused: \(error)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(signed), as: UTF8.self))
    }

    static func readText(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// The key file's base64 seed; the key itself never appears in an error.
    static func readPrivateKey(_ path: String) throws -> Ed25519PrivateKey {
        let text = try readText(path)
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let key = try? Ed25519PrivateKey(rawRepresentation: raw) else {
            throw CommandFailure("\(path) does not hold a private key from `videophone keygen` (32 bytes, base64)")
        }
        return key
    }
}
