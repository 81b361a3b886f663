import Foundation

// Helpers shared by the interop test targets: repository paths, child processes that are always
// stopped, and a private CA made with the openssl CLI.

/// Hex text to bytes, for test vectors; whitespace and other non-hex characters are ignored.
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// Paths of the checkout, found from this file so tests work from any working directory.
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The venv's python (made by scripts/setup); `VIDEOPHONE_PYTHON` overrides it.
    public static var python: String {
        ProcessInfo.processInfo.environment["VIDEOPHONE_PYTHON"] ?? path(".venv/bin/python")
    }

    /// A product built beside the test binary (e.g. `videophone`, `videophone-server`).
    public static func product(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs a product to its end: exit status, standard output, standard error (for short outputs).
    public static func run(_ product: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.product(product))
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// The release build of these products (what an appliance runs; `image/build` and
    /// `scripts/bench-media` make it in `.build-release`) when they exist and that build last ran
    /// after every source file changed (SwiftPM leaves a product that needed nothing untouched, so
    /// its own date says little); otherwise nil and callers use the debug products.
    public static func freshReleaseProducts(_ names: [String]) -> [String]? {
        let fm = FileManager.default
        func modified(_ path: String) -> Date? { (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        let paths = names.map { path(".build-release/release/\($0)") }
        guard paths.allSatisfy(fm.isExecutableFile(atPath:)), let lastBuild = modified(path(".build-release/build.db")) else { return nil }
        var sources = [path("Package.swift")]
        if let walker = fm.enumerator(atPath: path("Sources")) {
            for case let file as String in walker where file.hasSuffix(".swift") || file.hasSuffix(".h") { sources.append(path("Sources/" + file)) }
        }
        return sources.allSatisfy({ (modified($0) ?? .distantFuture) <= lastBuild }) ? paths : nil
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Process {
    /// Starts `executable` with stdout piped, and returns the first line it prints (bounded by EOF).
    public static func startReadingFirstLine(_ executable: String, _ arguments: [String]) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError("\(executable) missing: run scripts/setup")
        }
        try p.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        return (p, String(decoding: line, as: UTF8.self))
    }

    /// Sends `signal` (after SIGCONT, in case the process was frozen) and waits; SIGKILL after 5 s.
    public func stop(signal: Int32 = SIGTERM) {
        guard isRunning else { return }
        let pid = processIdentifier
        kill(pid, SIGCONT)
        kill(pid, signal)
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: watchdog)
        waitUntilExit()
        watchdog.cancel()
    }
}

/// A private CA and a server certificate for `localhost` / 127.0.0.1, made with the openssl CLI.
public struct TestCA: Sendable {
    public let dir: String
    public var caCert: String { dir + "/ca.pem" }
    public var serverCert: String { dir + "/server.pem" }
    public var serverKey: String { dir + "/server.key" }

    public static func make() throws -> TestCA {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("videophone-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ext = dir + "/ext.cnf"
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(toFile: ext, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir + "/ca.key"],
            ["req", "-x509", "-new", "-key", dir + "/ca.key", "-subj", "/CN=videophone test CA", "-days", "2", "-out", dir + "/ca.pem"],
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir + "/server.key"],
            ["req", "-new", "-key", dir + "/server.key", "-subj", "/CN=localhost", "-out", dir + "/server.csr"],
            ["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", dir + "/server.pem"],
        ]
        for args in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestSupportError("openssl \(args[0]) failed") }
        }
        return TestCA(dir: dir)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: dir) }
}
