import Foundation
import TestSupport
import Testing

/// `videophone signal` as a person uses it: JSON lines in, JSON lines out, against python-socketio.
@Suite("videophone signal CLI", .serialized)
struct SignalCommandTests {
    @Test("joins, prints events as JSON lines, emits JSON lines from stdin")
    func bridge() async throws {
        let server = FixtureServer()
        try server.start()
        defer { server.stop() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.product("videophone"))
        p.arguments = ["signal", "--server", server.url.absoluteString, "--room", "cli", "--name", "tool"]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        try p.run()
        let input = [
            #"{"event":"chat:message","data":{"text":"from the cli"}}"#,
            #"{"event":"test:echo","data":{"n":1},"ack":true}"#,
            "this is not json",
        ]
        stdin.fileHandleForWriting.write(Data((input.joined(separator: "\n") + "\n").utf8))
        // Read lines until the three answers are in (bounded by a deadline).
        var lines: [String] = []
        var buffer = Data()
        let deadline = Date().addingTimeInterval(15)
        let handle = stdout.fileHandleForReading
        while Date() < deadline, !(lines.contains { $0.contains(#""ack":"test:echo""#) } && lines.contains { $0.contains("from the cli") }
                                    && lines.contains { $0.contains(#""error""#) }) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[..<nl], as: UTF8.self))
                buffer.removeSubrange(...nl)
            }
        }
        try stdin.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(lines.contains { $0.contains(#""event":"room:joined""#) })
        #expect(lines.contains { $0.contains(#""event":"chat:message""#) && $0.contains("from the cli") })
        #expect(lines.contains { $0 == #"{"ack":"test:echo","data":[[{"n":1}]]}"# })
        #expect(lines.contains { $0.contains(#""error""#) && $0.contains("this is not json") })
        #expect(lines.first == #"{"state":"connecting"}"#)
        for line in lines { #expect(line.hasPrefix("{") && line.hasSuffix("}")) }
    }
}
