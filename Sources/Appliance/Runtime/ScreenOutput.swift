// What the appliance shows: the remote picture, the local preview, the status line and the chat,
// composed by Display's Compositor onto a DRM/KMS screen (page flips, kernel DRM API) or a headless
// screen in memory that can be saved as PNG. Frames arrive at camera rate from several tasks; the
// screen keeps only the newest of each and redraws at a fixed pace, so a slow screen never slows media.
import Display
import Foundation
import Logging
import Media

public actor ScreenOutput {
    public enum Kind: Sendable, Equatable {
        case headless(width: Int, height: Int)
        case kms(card: String)
    }

    private var compositor: Compositor
    private var headless: HeadlessScreen?
    private var kms: KMSScreen?
    private var remote: VideoFrame?
    private var local: VideoFrame?
    private var status = ""
    private var chat: [String] = []
    private var dirty = true
    private var pacer: Task<Void, Never>?
    private let logger: Logger
    /// Frames drawn since start (for status and tests).
    public private(set) var framesDrawn = 0
    public private(set) var remoteFramesShown = 0

    /// Opens the screen. A KMS screen that cannot be opened falls back to headless (logged): the
    /// phone still works (sound and buttons) and the reason is in the journal.
    public init(kind: Kind, logger: Logger) throws {
        self.logger = logger
        compositor = Compositor(font: try FontLoader.consoleFont())
        switch kind {
        case .headless(let w, let h):
            headless = HeadlessScreen(width: w, height: h)
        case .kms(let card):
            do {
                kms = try KMSScreen(configuration: KMSConfiguration(card: card))
            } catch {
                logger.error("cannot open the screen; running headless", metadata: ["device": "\(card)", "reason": "\(error)"])
                headless = HeadlessScreen(width: 800, height: 480)
            }
        }
    }

    /// Redraws whenever something changed, at most `fps` times a second. Headless screens are only
    /// drawn on demand (snapshots) unless `alwaysDraw`: nobody looks at them.
    public func startPacing(fps: Int = 15) {
        guard pacer == nil, kms != nil else { return }
        let period = Duration.milliseconds(1000 / max(1, fps))
        pacer = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                await self?.drawIfDirty()
            }
        }
    }

    public func stop() {
        pacer?.cancel()
        pacer = nil
    }

    public func show(remote frame: VideoFrame) {
        remote = frame
        remoteFramesShown += 1
        dirty = true
    }

    public func show(local frame: VideoFrame?) {
        local = frame
        dirty = true
    }

    /// Forgets the remote picture (call ended): the screen goes back to the idle look.
    public func clearRemote() {
        remote = nil
        dirty = true
    }

    public func setStatus(_ text: String) {
        status = text
        dirty = true
    }

    public func addChat(_ lines: [String]) {
        chat.append(contentsOf: lines)
        if chat.count > 50 { chat.removeFirst(chat.count - 50) }
        dirty = true
    }

    public var currentStatus: String { status }
    public var chatLines: [String] { chat }
    public var hasRemotePicture: Bool { remote != nil }

    private func drawIfDirty() {
        guard dirty else { return }
        draw()
    }

    private func draw() {
        dirty = false
        framesDrawn += 1
        let overlay = Overlay(status: status, chat: Array(chat.suffix(compositor.layout.chatLines)))
        if var screen = headless {
            headless = nil   // no copy-on-write of the canvas while drawing
            screen.render(with: &compositor, remote: remote, local: local, overlay: overlay)
            headless = screen
        } else if let kms {
            do { _ = try kms.show(with: &compositor, remote: remote, local: local, overlay: overlay) } catch {
                logger.warning("screen update failed", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// Measures the headless canvas as drawn last.
    public func analyse() -> ScreenAnalysis? {
        guard let screen = headless else { return nil }
        var colours = Set<UInt16>()
        let x0 = screen.width / 10, x1 = screen.width * 6 / 10, y0 = screen.height / 4, y1 = screen.height * 7 / 10
        for y in stride(from: y0, to: y1, by: 4) {
            for x in stride(from: x0, to: x1, by: 4) {
                let p = screen.pixel(x: x, y: y)
                colours.insert(UInt16(p.red >> 3) << 10 | UInt16(p.green >> 3) << 5 | UInt16(p.blue >> 3))
            }
        }
        let bar = compositor.statusBarRect(screenWidth: screen.width)
        let text = compositor.layout.textColor
        let textRGB = RGB(red: UInt8((text >> 16) & 0xFF), green: UInt8((text >> 8) & 0xFF), blue: UInt8(text & 0xFF))
        var ink = 0
        for y in bar.y..<min(bar.maxY, screen.height) {
            for x in bar.x..<min(bar.maxX, screen.width) where screen.pixel(x: x, y: y).isClose(to: textRGB, tolerance: 16) {
                ink += 1
            }
        }
        return ScreenAnalysis(remoteRegionColours: colours.count, statusInk: ink)
    }

    /// Draws now and writes the screen as a PNG (headless screens only).
    public func snapshot(to path: String) throws {
        draw()
        guard let headless else { throw ScreenError("snapshots are taken of headless screens only") }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try headless.snapshot(to: path)
    }
}

/// What a snapshot shows, measured on the pixels (tests and the demo read it instead of decoding PNGs).
public struct ScreenAnalysis: Sendable, Equatable {
    /// Distinct colours (5 bits a channel) in the middle of the remote picture's area: 1 for a black
    /// screen, several for the synthetic camera's bars.
    public var remoteRegionColours: Int
    /// Pixels of text colour in the status bar (the bar is translucent over the picture, so only
    /// the text's own colour counts).
    public var statusInk: Int
}

public struct ScreenError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
