// The sd_notify(3) protocol without libsystemd: newline-separated `VAR=value` assignments in one
// datagram to the AF_UNIX SOCK_DGRAM socket named by $NOTIFY_SOCKET (a path, or `@name` for the Linux
// abstract namespace). Used by videophoned.service (Type=notify, WatchdogSec): READY=1 once idle in
// the room, STATUS= for `systemctl status`, WATCHDOG=1 at half of $WATCHDOG_USEC, STOPPING=1 on exit.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SystemdNotifier: Sendable {
    /// The socket address; `nil` when not started by systemd with notification access (all calls no-ops).
    public let socketPath: String?
    /// How often to send WATCHDOG=1 (half of WatchdogSec), or `nil` without a watchdog.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        // WATCHDOG_PID, when set, names the process the watchdog is for.
        let forUs = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if forUs, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    public var isEnabled: Bool { socketPath != nil }

    public enum Message: Sendable, Equatable {
        case ready
        case status(String)
        case watchdog
        case stopping
        case reloading

        var line: String {
            switch self {
            case .ready: return "READY=1"
            // One line per assignment: a newline in the status text would start a new assignment.
            case .status(let s): return "STATUS=" + s.replacingOccurrences(of: "\n", with: " ")
            case .watchdog: return "WATCHDOG=1"
            case .stopping: return "STOPPING=1"
            case .reloading: return "RELOADING=1"
            }
        }
    }

    /// Sends the messages in one datagram. Returns false when not under systemd or the send failed
    /// (a notification is never worth failing the daemon for).
    @discardableResult
    public func notify(_ messages: Message...) -> Bool { notify(messages) }

    @discardableResult
    public func notify(_ messages: [Message]) -> Bool {
        guard let socketPath, !messages.isEmpty else { return false }
        let payload = messages.map(\.line).joined(separator: "\n")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }   // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes[0] == 0 ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = payload.utf8CString.withUnsafeBufferPointer { buffer in
            withUnsafePointer(to: &address) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, buffer.baseAddress, buffer.count - 1, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        return sent == payload.utf8.count
    }

    /// Sends WATCHDOG=1 every ``watchdogInterval`` until cancelled; `alive` lets the caller withhold
    /// the ping when its own loop is stuck (then systemd restarts the daemon).
    public func runWatchdog(alive: @escaping @Sendable () async -> Bool = { true }) async {
        guard let interval = watchdogInterval, isEnabled else { return }
        while !Task.isCancelled {
            if await alive() { notify(.watchdog) }
            do { try await ContinuousClock().sleep(until: .now + interval) } catch { return }
        }
    }
}
