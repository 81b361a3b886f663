import ArgumentParser
import Foundation

/// `videophone demo`: the main job on a development machine — a local videophone-server and two
/// videophoned appliances with synthetic devices and headless screens call each other (see
/// scripts/demo.py, which drives them over their control sockets). The binaries are the ones
/// built beside this one; the driver is found in the checkout this binary was built from.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Two local appliances call each other; PNG snapshots of both screens are written.")

    @Option(help: "Seconds of call.") var seconds: Double = 6
    @Option(help: "Directory for the snapshots (default: demo-output in the checkout).") var out: String?

    func run() throws {
        // Sources/videophone/DemoCommand.swift → the checkout's root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let driver = root.appendingPathComponent("scripts/demo.py").path
        guard FileManager.default.fileExists(atPath: driver) else {
            throw ValidationError("videophone demo runs from a source checkout: \(driver) not found")
        }
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().path
        for product in ["videophoned", "videophone-server"]
        where !FileManager.default.isExecutableFile(atPath: binDir + "/" + product) {
            throw ValidationError("\(product) is not built beside this binary in \(binDir): run `swift build`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", driver, binDir, "--seconds", String(seconds)] + (out.map { ["--out", $0] } ?? [])
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }
}
