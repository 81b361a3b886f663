import Appliance
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real AF_UNIX datagram socket standing in for systemd's notification socket.
final class NotifySocket: @unchecked Sendable {  // immutable after init; recv is thread-safe
    let fd: Int32
    let path: String

    init(abstract: Bool = false) throws {
        let name = "vp-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        path = abstract ? "@" + name : FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
        // Never block a test forever; but long enough for a watchdog task to get a thread while
        // other suites' blocking waits hold the two-core machine's cooperative pool (it once took
        // over 2 s in a filtered run).
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }
}

/// Runs blocking work (recv, waitpid, usleep) on a Dispatch thread: blocking a Swift-concurrency pool
/// thread (2 on this machine) would starve the tasks other tests run in parallel, such as the watchdog.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func sendsDatagrams(abstract: Bool) throws {
        let s = try NotifySocket(abstract: abstract)
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": s.path])
        #expect(n.isEnabled)
        #expect(n.notify(.ready, .status("In the room\nkitchen")))
        #expect(s.receive() == "READY=1\nSTATUS=In the room kitchen")
        #expect(n.notify(.watchdog))
        #expect(s.receive() == "WATCHDOG=1")
        #expect(n.notify(.stopping))
        #expect(s.receive() == "STOPPING=1")
    }

    @Test func withoutSystemdEverythingIsANoOp() {
        let n = SystemdNotifier(environment: [:])
        #expect(!n.isEnabled && n.watchdogInterval == nil)
        #expect(!n.notify(.ready))
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/socket"]).notify(.ready))
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() async throws {
        let s = try NotifySocket()
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": s.path, "WATCHDOG_USEC": "200000"])
        #expect(n.watchdogInterval == .milliseconds(100))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        let task = Task { await n.runWatchdog() }
        let first = try await offPool { s.receive() }
        let second = try await offPool { s.receive() }
        #expect(first == "WATCHDOG=1" && second == "WATCHDOG=1")
        task.cancel()
        await task.value
    }
}

@Suite struct VideophonedNotifyTests {
    /// The daemon under a fake systemd: READY=1 with a status once configured, STOPPING=1 on SIGTERM, exit 0.
    @Test func daemonReportsReadyAndStopping() async throws {
        try await offPool { try Self.readyAndStopping() }
    }

    static func readyAndStopping() throws {
        let s = try NotifySocket()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vp-state-\(UUID().uuidString)").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.product("videophoned"))
        p.arguments = ["--config", Repo.path("config/videophone.toml"), "--state-dir", state, "--control-socket", ""]
        p.environment = ["NOTIFY_SOCKET": s.path, "WATCHDOG_USEC": "100000"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.stop() }
        let ready = s.receive()
        #expect(ready?.hasPrefix("READY=1\nSTATUS=") == true, "\(String(describing: ready))")
        // Status changes (STATUS=...) may come between; the watchdog must come.
        var next = s.receive()
        while let m = next, m.hasPrefix("STATUS=") { next = s.receive() }
        #expect(next == "WATCHDOG=1")
        kill(p.processIdentifier, SIGTERM)
        var last: String?
        while let m = s.receive() {
            last = m
            if m == "STOPPING=1" { break }
        }
        #expect(last == "STOPPING=1")
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
