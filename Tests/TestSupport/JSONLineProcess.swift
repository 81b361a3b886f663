import Foundation

/// A child process that speaks JSON lines: objects written to its stdin, objects read from its
/// stdout (kept in order, waitable). Its stderr goes to a file for the failure message. Always
/// stopped by `stop()` (SIGTERM, SIGKILL after 5 s).
public final class JSONLineProcess: @unchecked Sendable {
    public let process: Process
    private let input: FileHandle
    private let state = State()
    public let stderrPath: String

    /// Lines read so far and whether stdout ended, shared with the reader thread.
    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [[String: Any]] = []
        private var ended = false
        func append(_ line: [String: Any]) { lock.withLock { lines.append(line) } }
        func end() { lock.withLock { ended = true } }
        var snapshot: [[String: Any]] { lock.withLock { lines } }
        var finished: Bool { lock.withLock { ended } }
    }

    public init(_ executable: String, _ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError("\(executable) missing: run scripts/setup")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe(), inPipe = Pipe()
        stderrPath = NSTemporaryDirectory() + "jsonline-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        p.standardOutput = out
        p.standardInput = inPipe
        p.standardError = FileHandle(forWritingAtPath: stderrPath)
        try p.run()
        process = p
        input = inPipe.fileHandleForWriting
        let reader = out.fileHandleForReading
        let state = self.state
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<nl]
                    buffer = Data(buffer[(nl + 1)...])
                    if let obj = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
                        state.append(obj)
                    }
                }
            }
            state.end()
        }
    }

    /// Writes one JSON object as a line.
    public func send(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
        try? input.write(contentsOf: data + Data("\n".utf8))
    }

    /// All lines so far.
    public var received: [[String: Any]] { state.snapshot }

    /// Waits for the first line (from the start) matching `predicate`; nil after `timeout` or EOF.
    public func waitFor(_ timeout: Double, _ predicate: ([String: Any]) -> Bool) async -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let hit = received.first(where: predicate) { return hit }
            if state.finished { return received.first(where: predicate) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return received.first(where: predicate)
    }

    /// The last line matching `predicate` that arrives after now (e.g. a fresh stats line).
    public func next(_ timeout: Double, _ predicate: ([String: Any]) -> Bool) async -> [String: Any]? {
        let start = received.count
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let hit = received.dropFirst(start).last(where: predicate) { return hit }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    public var stderrTail: String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    public func stop() {
        try? input.close()
        process.stop()
        try? FileManager.default.removeItem(atPath: stderrPath)
    }
}
