// KMS display modes and the choice among a connector's modes (kernel API: drm_mode_modeinfo,
// DRM_MODE_TYPE_PREFERRED). Pure, so the choice is unit-tested without a card.

public struct DisplayMode: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    /// Refresh in millihertz, from the pixel clock and totals (59940 for 59.94 Hz).
    public var refreshMillihertz: Int
    public var preferred: Bool
    public var interlaced: Bool
    /// The driver's name for it, e.g. "1920x1080".
    public var name: String

    public init(width: Int, height: Int, refreshMillihertz: Int, preferred: Bool = false, interlaced: Bool = false,
                name: String? = nil) {
        self.width = width
        self.height = height
        self.refreshMillihertz = refreshMillihertz
        self.preferred = preferred
        self.interlaced = interlaced
        self.name = name ?? "\(width)x\(height)"
    }

    public var refreshHertz: Double { Double(refreshMillihertz) / 1000 }

    public var description: String {
        let rate = (Double(refreshMillihertz) / 10).rounded() / 100
        return "\(width)x\(height)\(interlaced ? "i" : "")@\(rate)\(preferred ? " (preferred)" : "")"
    }
}

/// A configured mode: "1280x720" or "1280x720@60".
public struct DisplayModeRequest: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var refreshHertz: Double?

    public init(width: Int, height: Int, refreshHertz: Double? = nil) {
        self.width = width
        self.height = height
        self.refreshHertz = refreshHertz
    }

    /// Parses "WxH" or "WxH@R"; nil for anything else (the caller reports it).
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let size = parts.first else { return nil }
        let dimensions = size.split(separator: "x")
        guard dimensions.count == 2, let width = Int(dimensions[0]), let height = Int(dimensions[1]),
              width > 0, height > 0, width <= 16384, height <= 16384 else { return nil }
        self.width = width
        self.height = height
        if parts.count == 2 {
            guard let rate = Double(parts[1]), rate > 0, rate < 1000 else { return nil }
            refreshHertz = rate
        }
    }
}

public enum DisplayModeChoice {
    /// The configured mode when the connector has it (closest refresh when several match, and
    /// progressive over interlaced); otherwise, or with no request, the preferred mode, then
    /// the largest progressive one.
    public static func choose(from modes: [DisplayMode], request: DisplayModeRequest? = nil) -> DisplayMode? {
        if let request {
            let sized = modes.filter { $0.width == request.width && $0.height == request.height }
            let best = sized.min { a, b in
                if a.interlaced != b.interlaced { return !a.interlaced }
                let target = (request.refreshHertz ?? 60) * 1000
                return abs(Double(a.refreshMillihertz) - target) < abs(Double(b.refreshMillihertz) - target)
            }
            if let best { return best }
        }
        if let preferred = modes.first(where: { $0.preferred }) { return preferred }
        return modes.filter { !$0.interlaced }.max { a, b in
            (a.width * a.height, a.refreshMillihertz) < (b.width * b.height, b.refreshMillihertz)
        } ?? modes.first
    }
}
