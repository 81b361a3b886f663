// The control socket (issue #7 item 10): a Unix stream socket (unix(7)) speaking ControlProtocol's
// JSON lines. Mode 0660 and the configured group: only root and that group reach it. Each client
// gets a thread of its own (there are one or two at a time: home automation, `videophone press`,
// tests), so a slow client never holds up another or the daemon's tasks.
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

public final class ControlSocketServer: @unchecked Sendable {
    public let path: String
    private let group: String
    private let handler: @Sendable (String) async -> String
    private let logger: Logger
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var clients: Set<Int32> = []

    /// `handler` answers one request line with one reply line (no newline).
    public init(path: String, group: String, logger: Logger, handler: @escaping @Sendable (String) async -> String) {
        self.path = path
        self.group = group
        self.logger = logger
        self.handler = handler
    }

    /// Binds (replacing a stale socket file), restricts access and starts accepting.
    public func start() throws {
        guard var address = unixSocketAddress(path) else {
            throw ScreenError("control.socket path longer than \(MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1) bytes")
        }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ScreenError("control socket: socket() failed: \(String(cString: strerror(errno)))") }
        // umask-independent: the file never exists with wider permissions than 0660.
        let old = umask(0o117)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard bound == 0, listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ScreenError("control socket \(path): \(reason)")
        }
        chmod(path, 0o660)
        if !group.isEmpty {
            if let g = getgrnam(group) { _ = chown(path, uid_t.max, g.pointee.gr_gid) } else {
                logger.warning("control.group not found; socket left to root's group", metadata: ["group": "\(group)"])
            }
        }
        lock.withLock { listenFD = fd }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "control-accept"
        thread.start()
        logger.info("control socket ready", metadata: ["path": "\(path)"])
    }

    public func stop() {
        let (fd, open) = lock.withLock { () -> (Int32, Set<Int32>) in
            defer { listenFD = -1; clients = [] }
            return (listenFD, clients)
        }
        // shutdown(2) wakes the threads blocked in accept(2) and read(2); they close their fds.
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
        for c in open { shutdown(c, Int32(SHUT_RDWR)) }
        unlink(path)
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let accepted = lock.withLock { () -> Bool in
                guard listenFD >= 0 else { return false }
                clients.insert(client)
                return true
            }
            guard accepted else { close(client); return }
            let thread = Thread { [self] in serve(client) }
            thread.name = "control-client"
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            lock.withLock { _ = clients.remove(fd) }
            close(fd)
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            buffer.append(contentsOf: chunk[0..<n])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                guard write(fd, reply(to: line) + "\n") else { return }
            }
            if buffer.count > ControlRequest.maxLineBytes {
                _ = write(fd, ControlReply.error(ControlError("request longer than \(ControlRequest.maxLineBytes) bytes")) + "\n")
                return
            }
        }
    }

    /// Runs the async handler from this (non-pool) thread and waits for its answer.
    private func reply(to line: String) -> String {
        let box = ReplyBox()
        let semaphore = DispatchSemaphore(value: 0)
        let handler = self.handler
        Task {
            box.set(await handler(line))
            semaphore.signal()
        }
        semaphore.wait()
        return box.get()
    }

    private func write(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            bytes = bytes.dropFirst(n)
        }
        return true
    }
}

private final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ v: String) { lock.withLock { value = v } }
    func get() -> String { lock.withLock { value } }
}
