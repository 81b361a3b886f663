// Persistence of the applied remote configuration under `state.dir`: `remote-config.toml` (the remote
// layer, TOML) and `remote-config.version` (the last applied version, the replay counter). Each file is
// replaced atomically (POSIX rename(2) over a temporary written with write(2) + fsync(2), then fsync of
// the directory so the rename itself survives power loss): after a crash either the old or the new file
// is there, never a torn one. The TOML is written before the version, so a crash in between leaves the
// new settings with the old counter, and the server's re-delivery of the same version re-applies them.
import Foundation
import TOMLConfig
#if canImport(Glibc)
import Glibc
#endif

public struct RemoteConfigStore: Sendable {
    public let directory: String
    public var settingsPath: String { directory + "/remote-config.toml" }
    public var versionPath: String { directory + "/remote-config.version" }
    /// The settings file before the last update (kept for the administrator to compare or restore).
    public var previousPath: String { directory + "/remote-config.toml.previous" }

    public init(directory: String) { self.directory = directory }

    /// The last applied version, 0 if none (or unreadable: logged by the caller through `loadProblems`).
    public func appliedVersion() -> Int {
        guard let data = FileManager.default.contents(atPath: versionPath),
              let text = String(data: data, encoding: .utf8),
              let v = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), v >= 0 else { return 0 }
        return v
    }

    /// The remote layer, or an empty one when none was applied. A file that does not parse is
    /// reported and ignored (never half-used).
    public func load() -> (settings: [String: TOMLValue], version: Int, problem: String?) {
        let version = appliedVersion()
        guard FileManager.default.fileExists(atPath: settingsPath) else { return ([:], version, nil) }
        switch ConfigLayers.readFile(settingsPath, required: true) {
        case .success(let values): return (values, version, nil)
        case .failure(let p): return ([:], version, p.description)
        }
    }

    /// Persists a new remote layer and its version.
    public func save(settings: [String: TOMLValue], version: Int, deviceId: String) throws(RemoteConfigRefusal) {
        let header = "# Remote configuration version \(version) for device \(deviceId), applied by videophoned.\n"
            + "# Written atomically; do not edit (the next signed update replaces it).\n"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            throw .storage("cannot create \(directory): \(error.localizedDescription)")
        }
        if let current = FileManager.default.contents(atPath: settingsPath) {
            try AtomicFile.write(current, to: previousPath)
        }
        try AtomicFile.write(Data(TOMLWriter.render(settings, header: header).utf8), to: settingsPath)
        try AtomicFile.write(Data("\(version)\n".utf8), to: versionPath)
    }
}

/// Crash-safe whole-file replacement (write temporary, fsync, rename, fsync directory).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o640) throws(RemoteConfigRefusal) {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .storage("cannot create \(temp): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard written else { let e = errnoText(); close(fd); throw .storage("cannot write \(temp): \(e)") }
        guard fsync(fd) == 0 else { let e = errnoText(); close(fd); throw .storage("cannot fsync \(temp): \(e)") }
        guard close(fd) == 0 else { throw .storage("cannot close \(temp): \(errnoText())") }
        guard rename(temp, path) == 0 else { throw .storage("cannot rename \(temp) to \(path): \(errnoText())") }
        ok = true
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw .storage("cannot open \(dir): \(errnoText())") }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw .storage("cannot fsync \(dir): \(errnoText())") }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
