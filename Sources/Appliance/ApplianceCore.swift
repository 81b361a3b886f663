// Glue between the parts the daemon wires together: SignalingClient's events routed to the call
// controller or to remote configuration, and what an applied configuration change must restart.
import Signaling
import SignalingCore

/// Where a signaling event goes.
public enum ApplianceInput: Sendable, Equatable {
    case call(CallEvent)
    /// A `device:config` payload for ``RemoteConfigManager/receive(_:)-(JSONValue)``; answer with
    /// `device:config:result` (``DeviceConfigResult/json``).
    case deviceConfig(JSONValue)
    /// Nothing for the appliance (logged by the client already).
    case none

    public static func route(_ event: SignalingEvent) -> ApplianceInput {
        switch event {
        case .connected: return .call(.signalingConnected)
        case .disconnected: return .call(.signalingLost)
        case .server(let e): return .call(CallEvent.from(e))
        case .unknown(let name, let args) where name == DeviceEventName.config: return .deviceConfig(args.first ?? .null)
        case .unknown, .malformed: return .none
        }
    }
}

/// What must happen for changed settings to take effect (issue #7 item 8: "applied live where possible").
public enum ConfigImpact: String, Sendable, Equatable, CaseIterable {
    /// New server URL or CA: reconnect signaling (then rejoin).
    case reconnectSignaling
    /// New room or name: `SignalingClient.join` again (CallController.update joins a new home room when idle).
    case rejoinRoom
    /// Call behaviour: `CallController.update(settings:)`; takes effect at once.
    case callSettings
    /// Camera device or format: reopen the camera (at once if open, else on the next call).
    case restartCamera
    case restartAudio
    case restartScreen
    case restartButtons
    /// New ICE servers: used from the next call.
    case iceServers
    case restartControlSocket
    case logLevel
    /// Local-only settings (state, admin) never change remotely; listed for completeness.
    case none

    /// The impacts of a set of changed dotted keys (``RemoteConfigOutcome/changedKeys``).
    public static func of(_ keys: [String]) -> Set<ConfigImpact> {
        var out: Set<ConfigImpact> = []
        for key in keys {
            switch key {
            case "signaling.url", "signaling.ca_file": out.insert(.reconnectSignaling)
            case "signaling.room", "signaling.name": out.insert(.rejoinRoom)
            case _ where key.hasPrefix("call.") || key == "speed_dial.rooms": out.insert(.callSettings)
            // The next call's media settings: nothing to restart.
            case "camera.keep_warm", "camera.max_bitrate", "camera.adapt_resolution": out.insert(.callSettings)
            case _ where key.hasPrefix("camera."): out.insert(.restartCamera)
            case _ where key.hasPrefix("microphone.") || key.hasPrefix("speaker."): out.insert(.restartAudio)
            case _ where key.hasPrefix("screen."): out.insert(.restartScreen)
            case _ where key.hasPrefix("buttons."): out.insert(.restartButtons)
            case _ where key.hasPrefix("ice."): out.insert(.iceServers)
            case _ where key.hasPrefix("control."): out.insert(.restartControlSocket)
            case "log.level": out.insert(.logLevel)
            default: out.insert(.none)
            }
        }
        return out
    }
}
