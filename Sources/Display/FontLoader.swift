import CZlib
import Media
#if canImport(Glibc)
import Glibc
#endif

/// Finds and reads Linux console fonts (Debian `console-setup-linux`, usually gzipped).
public enum FontLoader {
    public enum LoadError: Error, Equatable {
        case unreadable(String)
        case notFound([String])
    }

    /// Where Debian installs console fonts, unless `VIDEOPHONE_FONT_DIR` names another directory
    /// (a guest or board image that keeps the fonts elsewhere).
    public static var consoleFontDirectory: String {
        getenv("VIDEOPHONE_FONT_DIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/consolefonts"
    }

    /// Terminus first: clear at video-call distances and it covers Latin, Greek and Cyrillic.
    public static let preferredFonts = ["Uni2-Terminus16", "Lat15-Terminus16", "Uni2-Fixed16", "Lat15-Fixed16", "default8x16"]

    /// Reads a PSF font file, gzipped or not (zlib's gzread passes plain files through).
    public static func load(path: String) throws -> PSFFont {
        try PSFFont(data: readPossiblyGzipped(path: path))
    }

    /// Loads `name` (e.g. "Uni2-Terminus32x16") from the console font directory, trying the
    /// `.psf.gz` and `.psf` spellings; with no name, the first of `preferredFonts` present.
    public static func consoleFont(named name: String? = nil, directory: String = consoleFontDirectory) throws -> PSFFont {
        var tried: [String] = []
        for candidate in name.map({ [$0] }) ?? preferredFonts {
            for suffix in [".psf.gz", ".psf", ""] {
                let path = "\(directory)/\(candidate)\(suffix)"
                tried.append(path)
                if let font = try? load(path: path) { return font }
            }
        }
        throw LoadError.notFound(tried)
    }

    private static func readPossiblyGzipped(path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw LoadError.unreadable(path) }
        defer { gzclose(file) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            guard read >= 0 else { throw LoadError.unreadable(path) }
            if read == 0 { return data }
            data += chunk[0..<Int(read)]
        }
    }
}
