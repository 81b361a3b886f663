// Verifies and applies signed remote configuration (SignalingCore's `device:config`): Ed25519
// (RFC 8032) over the document's exact UTF-8 bytes against `admin.public_keys` from the local file,
// a version strictly above the last applied one (persisted: replays and old updates are refused),
// the settings validated as a whole configuration layered over the local file before anything is
// written; a refused update changes nothing. Local-only keys (`admin.*`, `state.*`) cannot be set from
// afar. Logs never carry secret values.
import SystemCrypto
import Foundation
import Logging
import SignalingCore
import TOMLConfig

/// Signature, device and version checks, independent of storage.
public enum RemoteConfigVerifier {
    public static func verify(_ signed: SignedDeviceConfig, deviceId: String, publicKeys: [String],
                              appliedVersion: Int) throws(RemoteConfigRefusal) -> RemoteConfigDocument.Content {
        guard !deviceId.isEmpty else { throw .disabled("admin.device_id is not set") }
        guard !publicKeys.isEmpty else { throw .disabled("admin.public_keys is empty") }
        do { try signed.validate() } catch { throw .badEnvelope(error.description) }
        guard signed.deviceId == deviceId else { throw .wrongDevice(expected: deviceId, got: signed.deviceId) }
        guard let signature = signed.signatureData else { throw .badEnvelope("signature is not base64") }
        let message = signed.signedBytes
        let verified = publicKeys.contains { encoded in
            guard let raw = Data(base64Encoded: encoded),
                  let key = try? Ed25519PublicKey(rawRepresentation: raw) else { return false }
            return key.isValidSignature(signature, for: message)
        }
        guard verified else { throw .badSignature }
        let content: RemoteConfigDocument.Content
        switch RemoteConfigDocument.parse(signed.document) {
        case .success(let c): content = c
        case .failure(let refusal): throw refusal
        }
        guard content.deviceId == deviceId else { throw .wrongDevice(expected: deviceId, got: content.deviceId) }
        guard content.version == signed.version else {
            throw .badEnvelope("envelope version \(signed.version) differs from the signed version \(content.version)")
        }
        guard content.version > appliedVersion else { throw .stale(version: content.version, applied: appliedVersion) }
        return content
    }
}

/// The outcome of one `device:config`.
public struct RemoteConfigOutcome: Sendable {
    /// What to send back as `device:config:result`.
    public var result: DeviceConfigResult
    /// The new effective configuration when applied; `nil` when refused.
    public var config: ApplianceConfig?
    /// Dotted keys whose effective value changed (for applying live: room/server → rejoin, camera → restart).
    public var changedKeys: [String]
}

public actor RemoteConfigManager {
    public private(set) var layers: ConfigLayers
    public private(set) var appliedVersion: Int
    public let store: RemoteConfigStore
    private let logger: Logger

    /// `layers.remote` should be what `store` holds (see ``ConfigLoader``).
    public init(layers: ConfigLayers, store: RemoteConfigStore, logger: Logger = Logger(label: "videophone.remote-config")) {
        self.layers = layers
        self.store = store
        self.appliedVersion = store.appliedVersion()
        self.logger = logger
    }

    /// The effective configuration now.
    public var config: ApplianceConfig { layers.decode().config }

    /// Who we are on the device channel (`device:hello`), or `nil` when remote configuration is off.
    public var hello: DeviceHello? {
        let c = local.config
        guard !c.admin.deviceId.isEmpty else { return nil }
        return DeviceHello(deviceId: c.admin.deviceId, configVersion: appliedVersion)
    }

    /// Handles a `device:config` payload as it arrived (decoding errors are refusals too).
    public func receive(_ payload: JSONValue) -> RemoteConfigOutcome {
        let signed: SignedDeviceConfig
        do {
            signed = try payload.decode(SignedDeviceConfig.self, event: DeviceEventName.config)
        } catch {
            return refuse(version: Self.version(in: payload), .badEnvelope(error.description))
        }
        return receive(signed)
    }

    public func receive(_ signed: SignedDeviceConfig) -> RemoteConfigOutcome {
        let local = self.local.config
        let content: RemoteConfigDocument.Content
        do {
            content = try RemoteConfigVerifier.verify(signed, deviceId: local.admin.deviceId,
                                                      publicKeys: local.admin.publicKeys, appliedVersion: appliedVersion)
        } catch {
            return refuse(version: signed.version, error)
        }

        var problems: [String] = []
        let known = Set(ApplianceConfig().values.keys)
        for key in content.settings.keys.sorted() {
            if ConfigLayers.localOnlyPrefixes.contains(where: key.hasPrefix) {
                problems.append("\(key): can only be set in the local configuration file")
            } else if !known.contains(key) {
                problems.append("\(key): unknown key")
            }
        }
        var candidate = layers
        candidate.remote = content.settings
        let decoded = candidate.decode()
        problems += decoded.problems.map(\.description)
        guard problems.isEmpty else { return refuse(version: signed.version, .invalidSettings(problems)) }

        do {
            try store.save(settings: content.settings, version: content.version, deviceId: content.deviceId)
        } catch {
            return refuse(version: signed.version, error)
        }
        let before = config.values
        layers = candidate
        appliedVersion = content.version
        let after = decoded.config.values
        let changed = after.keys.filter { before[$0] != after[$0] }.sorted()
        logger.notice("applied remote configuration", metadata: [
            "version": "\(content.version)",
            "changed": "\(changed.map { ApplianceConfig.secretKeys.contains($0) ? "\($0)=<redacted>" : "\($0)=\(after[$0]!)" })",
        ])
        return RemoteConfigOutcome(result: DeviceConfigResult(version: content.version, ok: true),
                                   config: decoded.config, changedKeys: changed)
    }

    private var local: ConfigDecoding { ConfigLayers(file: layers.file, flags: layers.flags).decode() }

    private func refuse(version: Int, _ refusal: RemoteConfigRefusal) -> RemoteConfigOutcome {
        logger.warning("refused remote configuration", metadata: ["version": "\(version)", "reason": "\(refusal)"])
        let errors = refusal.reasons.prefix(DeviceRules.maxResultErrors).map { String($0.prefix(DeviceRules.maxResultErrorLength)) }
        let v = (0...DeviceRules.maxVersion).contains(version) ? version : 0
        return RemoteConfigOutcome(result: DeviceConfigResult(version: v, ok: false, errors: Array(errors)),
                                   config: nil, changedKeys: [])
    }

    private static func version(in payload: JSONValue) -> Int {
        if case .number(let n)? = payload["version"], n.rounded() == n, n >= 0, n <= Double(DeviceRules.maxVersion) { return Int(n) }
        return 0
    }
}

/// Loads the effective configuration at start-up: the file, the persisted remote layer (dropped with
/// a warning if it no longer fits the file), and the command-line flags.
public enum ConfigLoader {
    public struct Loaded: Sendable {
        public var layers: ConfigLayers
        public var decoding: ConfigDecoding
        public var remoteVersion: Int
        /// Why the persisted remote layer was not used, if it was not.
        public var remoteProblem: String?
    }

    public static func load(path: String?, flags: [String: TOMLValue]) -> Result<Loaded, ConfigProblem> {
        let file: [String: TOMLValue]
        switch ConfigLayers.readFile(path ?? ApplianceConfig.defaultPath, required: path != nil) {
        case .success(let v): file = v
        case .failure(let p): return .failure(p)
        }
        return .success(load(file: file, flags: flags))
    }

    /// The same from an already-read file layer.
    public static func load(file: [String: TOMLValue], flags: [String: TOMLValue]) -> Loaded {
        var layers = ConfigLayers(file: file, flags: flags)
        let local = layers.decode()
        let store = RemoteConfigStore(directory: local.config.state.dir)
        let (remote, version, problem) = store.load()
        var remoteProblem = problem
        if !remote.isEmpty {
            var candidate = layers
            candidate.remote = remote
            let d = candidate.decode()
            if d.isValid { layers = candidate } else {
                remoteProblem = "remote configuration v\(version) no longer fits the local file: "
                    + d.problems.map(\.description).joined(separator: "; ")
            }
        }
        return Loaded(layers: layers, decoding: layers.decode(), remoteVersion: version, remoteProblem: remoteProblem)
    }
}
