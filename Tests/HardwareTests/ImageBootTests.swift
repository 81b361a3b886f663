import Foundation
import Testing
import TestSupport

// The appliance image (image/build --variant test) booted under QEMU/TCG by image/test: videophoned
// ready under systemd (Type=notify), the devices it opened, a read-only root, a power cut and a
// reboot with the journal intact and clean filesystems. image/test does the work and writes
// artifacts/image/result.json; this test runs it and turns each of its checks into an expectation.
//
// Skipped, with the reason, when the image has not been built (it needs root and mmdebstrap:
// `sudo image/build --variant test`) or qemu-system-x86_64 is missing, or VIDEOPHONE_SKIP_VM=1.

enum ImageBoot {
    static let imageDir = Repo.path(".build-image/amd64-test")
    static let artifacts = Repo.path("artifacts/image")

    static var qemu: String? {
        ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the test cannot run here, or nil when it can.
    static var skipReason: String? {
        if ProcessInfo.processInfo.environment["VIDEOPHONE_SKIP_VM"] == "1" { return "VIDEOPHONE_SKIP_VM=1" }
        if qemu == nil { return "qemu-system-x86_64 is not installed (Debian qemu-system-x86)" }
        for file in ["disk.img", "initrd.img", "cmdline"] where !FileManager.default.fileExists(atPath: imageDir + "/" + file) {
            return "no test image in \(imageDir): build it with `sudo image/build --variant test`"
        }
        return nil
    }
}

@Suite(.serialized) struct ImageBootTests {
    @Test(.enabled(if: ImageBoot.skipReason == nil, Comment(rawValue: ImageBoot.skipReason ?? "")), .timeLimit(.minutes(15)))
    func imageBootsIntoTheDaemonAndSurvivesAPowerCut() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repo.path("image/test"), "--image", ImageBoot.imageDir, "--artifacts", ImageBoot.artifacts]
        process.currentDirectoryURL = Repo.root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in output.split(separator: "\n") where line.hasPrefix("image:") { print(line) }
        try #require(process.terminationStatus != 77, "image/test skipped: \(output)")

        let data = try Data(contentsOf: URL(fileURLWithPath: ImageBoot.artifacts + "/result.json"))
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let checks = try #require(result["checks"] as? [[String: Any]], "result.json has no checks")
        #expect(!checks.isEmpty)
        for check in checks {
            let name = check["check"] as? String ?? "?"
            #expect((check["ok"] as? Bool) == true, "\(name): \(check["detail"] ?? "")")
        }
        // The figures the image note reports; boot-to-ready under TCG must stay well inside the timeout.
        let figures = result["figures"] as? [String: Any] ?? [:]
        if let ready = figures["boot1_ready_guest_monotonic_s"] as? Double { #expect(ready < 120, "boot to ready \(ready) s") }
        #expect(process.terminationStatus == 0, "image/test exit \(process.terminationStatus); console logs in \(ImageBoot.artifacts)")
    }
}
