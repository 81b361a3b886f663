import Foundation
import Testing
import TestSupport

/// Issue #7: `videophone demo --seconds 15` (the README's main command runs it) exits 0 and
/// leaves PNG snapshots in which each appliance shows the other's moving pattern; the figures it
/// prints (press → first remote picture, RSS in the call, start-up to idle) go into the note.
@Suite("videophone demo")
struct DemoCommandTests {
    @Test func demoCallsForFifteenSecondsAndWritesSnapshots() async throws {
        try await offPool { try Self.run() }
    }

    static func run() throws {
        let out = "/tmp/vp-demo-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.product("videophone"))
        p.arguments = ["demo", "--seconds", "15", "--out", out]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        for line in text.split(separator: "\n") where line.hasPrefix("demo:") || line.contains("RSS") || line.contains("snapshot") {
            print("demo figures: \(line)")
        }
        #expect(p.terminationStatus == 0, "demo exited \(p.terminationStatus):\n\(text.suffix(3000))")
        let snapshots = (try? FileManager.default.subpathsOfDirectory(atPath: out))?.filter { $0.hasSuffix(".png") } ?? []
        #expect(snapshots.count >= 2, "snapshots in \(out): \(snapshots)")
        #expect(text.contains("demo: OK"))
    }
}
