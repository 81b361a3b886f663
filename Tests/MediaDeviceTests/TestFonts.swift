import Display
import Media

/// The system console font every test draws with (Debian console-setup-linux).
enum TestFonts {
    static let terminus16: PSFFont = {
        do { return try FontLoader.consoleFont(named: "Uni2-Terminus16") } catch {
            fatalError("console font missing (install console-setup-linux): \(error)")
        }
    }()
}
