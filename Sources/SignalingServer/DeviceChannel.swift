import Foundation
import Logging
import RoomServer
import SignalingCore

/// The device channel (remote configuration): devices announce themselves with `device:hello`,
/// an administrator posts signed configuration documents, the hub delivers the latest one to the
/// device when it is or becomes connected, and records what the device answers. The server never
/// sees the signing key and does not verify signatures: the appliance does, so a compromised server
/// cannot configure a device.
extension SignalingHub {
    /// What the admin API reports per device.
    public struct DeviceStatus: Codable, Sendable, Equatable {
        public var deviceId: String
        public var online: Bool
        public var latestVersion: Int?
        public var reportedVersion: Int?
        public var lastResult: DeviceConfigResult?
        public var lastSeen: Int64?
    }

    public enum ConfigPostResult: Sendable, Equatable {
        case stored(delivered: Bool)
        case stale(current: Int)
        case failed(String)
    }

    func deviceHello(_ args: [JSONValue], ackID: UInt64?, from socketID: String) async {
        let hello: DeviceHello
        do {
            hello = try DeviceHello.decode(args.first ?? .null)
        } catch {
            logger.warning("refused device:hello", metadata: ["from": "\(socketID)", "reason": "\(error)"])
            if let ackID { await acknowledge(ackID, [.object(["ok": .bool(false), "error": .string(error.description)])], to: socketID) }
            return
        }
        guard admits(hello.deviceId) else {
            logger.warning("refused device:hello: device limit reached", metadata: ["device": "\(hello.deviceId)", "limit": "\(maxDevices)"])
            if let ackID {
                await acknowledge(ackID, [.object(["ok": .bool(false), "error": .string("device limit reached")])], to: socketID)
            }
            return
        }
        if let previous = deviceSockets[hello.deviceId], previous != socketID {
            logger.notice("device reconnected on a new socket", metadata: ["device": "\(hello.deviceId)"])
            socketDevices[previous] = nil
        }
        deviceSockets[hello.deviceId] = socketID
        socketDevices[socketID] = hello.deviceId
        var latest: SignedDeviceConfig?
        do {
            try devices.recordHello(hello, now: Date())
            latest = try devices.latestConfig(deviceId: hello.deviceId)
        } catch {
            logger.error("device store failed", metadata: ["device": "\(hello.deviceId)", "reason": "\(error)"])
        }
        if let ackID {
            await acknowledge(ackID, [.object(["ok": .bool(true),
                                               "latestVersion": latest.map { .number(Double($0.version)) } ?? .null])], to: socketID)
        }
        logger.info("device online", metadata: ["device": "\(hello.deviceId)", "configVersion": "\(hello.configVersion)"])
        if let latest, latest.version > hello.configVersion {
            await emit(name: DeviceEventName.config, [latest.json], to: socketID)
        }
    }

    /// Any client can say `device:hello`, and the store keeps every device it hears of: past `maxDevices`
    /// only devices already known (stored config or status) are admitted, so a client cannot fill the store.
    private func admits(_ deviceId: String) -> Bool {
        if deviceSockets[deviceId] != nil { return true }
        guard let all = try? devices.devices() else { return false }
        return all.count < maxDevices || all.contains { $0.deviceId == deviceId }
    }

    func deviceConfigResult(_ args: [JSONValue], from socketID: String) {
        guard let deviceId = socketDevices[socketID] else {
            logger.warning("refused device:config:result from a socket that sent no device:hello", metadata: ["from": "\(socketID)"])
            return
        }
        do {
            let result = try DeviceConfigResult.decode(args.first ?? .null)
            try devices.recordResult(deviceId: deviceId, result: result, now: Date())
            logger.info("device config result", metadata: ["device": "\(deviceId)", "version": "\(result.version)",
                                                           "ok": "\(result.ok)", "errors": "\(result.errors.count)"])
        } catch {
            logger.warning("refused device:config:result", metadata: ["device": "\(deviceId)", "reason": "\(error)"])
        }
    }

    func deviceDisconnected(_ socketID: String) {
        guard let deviceId = socketDevices.removeValue(forKey: socketID) else { return }
        if deviceSockets[deviceId] == socketID { deviceSockets[deviceId] = nil }
        logger.info("device offline", metadata: ["device": "\(deviceId)"])
    }

    /// Stores an administrator's signed configuration and delivers it if the device is connected.
    public func postConfig(_ config: SignedDeviceConfig) async -> ConfigPostResult {
        do {
            try devices.storeConfig(config, now: Date())
        } catch DeviceStoreError.staleVersion(let current) {
            return .stale(current: current)
        } catch {
            logger.error("device store failed", metadata: ["device": "\(config.deviceId)", "reason": "\(error)"])
            return .failed("\(error)")
        }
        logger.info("device config stored", metadata: ["device": "\(config.deviceId)", "version": "\(config.version)"])
        guard let socketID = deviceSockets[config.deviceId] else { return .stored(delivered: false) }
        await emit(name: DeviceEventName.config, [config.json], to: socketID)
        return .stored(delivered: true)
    }

    public func deviceStatuses() throws -> [DeviceStatus] {
        try devices.devices().map {
            DeviceStatus(deviceId: $0.deviceId, online: deviceSockets[$0.deviceId] != nil, latestVersion: $0.latestVersion,
                         reportedVersion: $0.reportedVersion, lastResult: $0.lastResult, lastSeen: $0.lastSeen)
        }
    }
}
