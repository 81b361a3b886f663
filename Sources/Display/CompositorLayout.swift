/// A pixel rectangle on the screen.
public struct ScreenRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var description: String { "\(width)x\(height)@\(x),\(y)" }

    /// The largest rectangle of the source's aspect ratio centred in `bounds` (letterbox or
    /// pillarbox). Sizes are rounded to even numbers so the I420 chroma planes scale evenly.
    public static func aspectFit(sourceWidth: Int, sourceHeight: Int, in bounds: ScreenRect) -> ScreenRect {
        guard sourceWidth > 0, sourceHeight > 0, !bounds.isEmpty else { return ScreenRect(x: bounds.x, y: bounds.y, width: 0, height: 0) }
        var width = bounds.width
        var height = bounds.width * sourceHeight / sourceWidth
        if height > bounds.height {
            height = bounds.height
            width = bounds.height * sourceWidth / sourceHeight
        }
        width -= width % 2
        height -= height % 2
        return ScreenRect(x: bounds.x + (bounds.width - width) / 2, y: bounds.y + (bounds.height - height) / 2,
                          width: width, height: height)
    }
}

/// What the compositor draws besides video, and where.
public struct CompositorLayout: Sendable {
    /// Local preview width as a fraction of the screen width.
    public var insetFraction: Double = 0.25
    /// Gap between the screen edge and the inset or chat text.
    public var margin: Int = 16
    /// Padding inside the text bars around the glyphs.
    public var padding: Int = 4
    /// How many of the most recent chat lines are shown.
    public var chatLines: Int = 5
    /// Multiplier applied to the video under text bars (per channel, 0x00..0xFF = 0..~1):
    /// darkening instead of an opaque fill keeps the picture visible behind the text.
    public var barShade: UInt32 = 0xFF40_4040
    public var textColor: UInt32 = 0xFFFF_FFFF
    public var backgroundColor: UInt32 = 0xFF00_0000
    public var insetBorderColor: UInt32 = 0xFFC0_C0C0

    public init() {}
}

/// The text drawn over the video.
public struct Overlay: Sendable, Equatable {
    /// One line across the top, e.g. "In call with kitchen · 00:42 · 1.2 Mbps".
    public var status: String
    /// Chat messages, oldest first; only the last `CompositorLayout.chatLines` are drawn.
    public var chat: [String]

    public init(status: String = "", chat: [String] = []) {
        self.status = status
        self.chat = chat
    }
}
