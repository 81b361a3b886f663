import CYUV
import Media

/// Draws a call screen into an XRGB8888 buffer: remote video letterboxed full-screen, the local
/// preview as a bottom-right inset, a status bar on top and recent chat lines bottom-left.
///
/// It only needs a pointer, a stride and a size, so the same code draws into a KMS dumb buffer
/// and into the headless canvas. Every bulk pixel operation (scale, convert, fill, shade) is a
/// libyuv call; only glyph expansion is ours (`PSFFont.draw`).
public struct Compositor {
    public let font: PSFFont
    public var layout: CompositorLayout
    /// Reused I420 scratch for scaled video, so a steady call allocates nothing per frame.
    private var scratch: [UInt8] = []

    public init(font: PSFFont, layout: CompositorLayout = CompositorLayout()) {
        self.font = font
        self.layout = layout
    }

    /// Renders one screen. `target` must be an XRGB8888 surface (4 bytes per pixel).
    public mutating func render(remote: VideoFrame?, local: VideoFrame?, overlay: Overlay, into target: PixelSurface) {
        precondition(target.bytesPerPixel == 4, "the compositor draws XRGB8888")
        let screen = ScreenRect(x: 0, y: 0, width: target.width, height: target.height)
        if let remote {
            let picture = ScreenRect.aspectFit(sourceWidth: remote.width, sourceHeight: remote.height, in: screen)
            fillOutside(picture, of: screen, in: target)
            drawVideo(remote, in: picture, on: target)
        } else {
            fill(screen, color: layout.backgroundColor, in: target)
        }
        let inset = local.map { insetRect(for: $0, screen: screen) }
        if let local, let inset {
            let border = ScreenRect(x: inset.x - 2, y: inset.y - 2, width: inset.width + 4, height: inset.height + 4)
            fill(border, color: layout.insetBorderColor, in: target)
            drawVideo(local, in: inset, on: target)
        }
        drawStatus(overlay.status, in: target)
        let chatRight = (inset?.x ?? screen.maxX) - layout.margin
        drawChat(overlay.chat.suffix(max(0, layout.chatLines)), rightEdge: chatRight, in: target)
    }

    /// Where the local preview goes: `insetFraction` of the screen width, source aspect,
    /// bottom-right with a margin.
    public func insetRect(for frame: VideoFrame, screen: ScreenRect) -> ScreenRect {
        let width = Int(Double(screen.width) * layout.insetFraction)
        let box = ScreenRect(x: 0, y: 0, width: width, height: screen.height / 2)
        let fitted = ScreenRect.aspectFit(sourceWidth: frame.width, sourceHeight: frame.height, in: box)
        return ScreenRect(x: screen.maxX - layout.margin - fitted.width, y: screen.maxY - layout.margin - fitted.height,
                          width: fitted.width, height: fitted.height)
    }

    /// The status bar's rectangle (full width, top).
    public func statusBarRect(screenWidth: Int) -> ScreenRect {
        ScreenRect(x: 0, y: 0, width: screenWidth, height: font.height + 2 * layout.padding)
    }

    // MARK: Video

    /// Scales (libyuv I420Scale, bilinear) to the rectangle's size in scratch, then converts
    /// (I420ToARGB) straight into the target. Scaling in I420 first touches 1.5 bytes per
    /// pixel instead of 4, and the conversion then writes each output pixel exactly once.
    private mutating func drawVideo(_ frame: VideoFrame, in rect: ScreenRect, on target: PixelSurface) {
        let rect = clip(rect, to: target)
        guard !rect.isEmpty else { return }
        let destination = target.address(x: rect.x, y: rect.y).assumingMemoryBound(to: UInt8.self)
        let stride = Int32(target.stride)
        if rect.width == frame.width, rect.height == frame.height {
            frame.withPlanes { p in
                _ = I420ToARGB(p.y, Int32(p.strideY), p.u, Int32(p.strideUV), p.v, Int32(p.strideUV),
                               destination, stride, Int32(rect.width), Int32(rect.height))
            }
            return
        }
        let scaled = VideoFrame.byteCount(width: rect.width, height: rect.height)
        if scratch.count < scaled { scratch = [UInt8](repeating: 0, count: scaled) }
        let strideY = rect.width, strideUV = (rect.width + 1) / 2
        let lumaSize = strideY * rect.height, chromaSize = strideUV * ((rect.height + 1) / 2)
        frame.withPlanes { p in
            scratch.withUnsafeMutableBufferPointer { buffer in
                let y = buffer.baseAddress!, u = y + lumaSize, v = u + chromaSize
                _ = I420Scale(p.y, Int32(p.strideY), p.u, Int32(p.strideUV), p.v, Int32(p.strideUV),
                              Int32(p.width), Int32(p.height),
                              y, Int32(strideY), u, Int32(strideUV), v, Int32(strideUV),
                              Int32(rect.width), Int32(rect.height), kFilterBilinear)
                _ = I420ToARGB(y, Int32(strideY), u, Int32(strideUV), v, Int32(strideUV),
                               destination, stride, Int32(rect.width), Int32(rect.height))
            }
        }
    }

    // MARK: Text

    private func drawStatus(_ status: String, in target: PixelSurface) {
        guard !status.isEmpty else { return }
        let bar = statusBarRect(screenWidth: target.width)
        shade(bar, in: target)
        let fitting = truncated(status, toWidth: target.width - 2 * layout.margin)
        font.draw(fitting, into: target, x: layout.margin, y: bar.y + layout.padding, value: layout.textColor)
    }

    /// Bottom-up from above the bottom margin, each line on its own shaded bar sized to the text.
    private func drawChat(_ lines: ArraySlice<String>, rightEdge: Int, in target: PixelSurface) {
        let lineHeight = font.height + 2 * layout.padding
        var y = target.height - layout.margin - lineHeight
        let maxTextWidth = rightEdge - layout.margin - 2 * layout.padding
        for line in lines.reversed() {
            guard y >= statusBarRect(screenWidth: target.width).maxY else { break }
            let text = truncated(line, toWidth: maxTextWidth)
            let bar = ScreenRect(x: layout.margin, y: y, width: font.textWidth(text) + 2 * layout.padding, height: lineHeight)
            shade(bar, in: target)
            font.draw(text, into: target, x: bar.x + layout.padding, y: y + layout.padding, value: layout.textColor)
            y -= lineHeight + 2
        }
    }

    /// Cuts text that would not fit, marking the cut with "…" when the font has it, else "...".
    private func truncated(_ text: String, toWidth width: Int) -> String {
        let fits = max(0, width / font.width)
        let scalars = Array(text.unicodeScalars)
        guard scalars.count > fits else { return text }
        let ellipsis = font.glyphIndex(for: "…") != font.glyphIndex(for: "?") ? "…" : "..."
        let keep = max(0, fits - ellipsis.unicodeScalars.count)
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars.prefix(keep))
        return String(result) + ellipsis
    }

    // MARK: Fills (libyuv)

    private func fill(_ rect: ScreenRect, color: UInt32, in target: PixelSurface) {
        let rect = clip(rect, to: target)
        guard !rect.isEmpty else { return }
        _ = ARGBRect(target.base.assumingMemoryBound(to: UInt8.self), Int32(target.stride),
                     Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height), color)
    }

    /// Only the bars around the picture are cleared: the picture itself is overwritten anyway,
    /// which saves a full-screen write per frame at 1080p.
    private func fillOutside(_ picture: ScreenRect, of screen: ScreenRect, in target: PixelSurface) {
        let color = layout.backgroundColor
        fill(ScreenRect(x: 0, y: 0, width: screen.width, height: picture.y), color: color, in: target)
        fill(ScreenRect(x: 0, y: picture.maxY, width: screen.width, height: screen.maxY - picture.maxY), color: color, in: target)
        fill(ScreenRect(x: 0, y: picture.y, width: picture.x, height: picture.height), color: color, in: target)
        fill(ScreenRect(x: picture.maxX, y: picture.y, width: screen.maxX - picture.maxX, height: picture.height),
             color: color, in: target)
    }

    /// Darkens a rectangle in place (translucent bar) with libyuv's per-channel multiply.
    private func shade(_ rect: ScreenRect, in target: PixelSurface) {
        let rect = clip(rect, to: target)
        guard !rect.isEmpty else { return }
        let start = target.address(x: rect.x, y: rect.y).assumingMemoryBound(to: UInt8.self)
        _ = ARGBShade(start, Int32(target.stride), start, Int32(target.stride),
                      Int32(rect.width), Int32(rect.height), layout.barShade)
    }

    private func clip(_ rect: ScreenRect, to target: PixelSurface) -> ScreenRect {
        let x = max(0, rect.x), y = max(0, rect.y)
        return ScreenRect(x: x, y: y, width: min(rect.maxX, target.width) - x, height: min(rect.maxY, target.height) - y)
    }
}
