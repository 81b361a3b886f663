// Format negotiation for V4L2 capture (kernel API: VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES,
// VIDIOC_S_FMT). Pure: the device's answers come in as values, so the choice is unit-tested.

/// A camera pixel format we know how to turn into I420, in our order of preference.
public enum CameraPixelFormat: Sendable, Equatable, CustomStringConvertible {
    /// Already I420 ('YU12'): copied as is.
    case i420
    /// NV12: libyuv NV12ToI420 (a plane copy and a chroma de-interleave).
    case nv12
    /// YUYV 4:2:2 packed, what most UVC webcams send uncompressed: libyuv YUY2ToI420.
    case yuyv
    /// Motion JPEG (also 'JPEG'): libyuv MJPGToI420 (libjpeg-turbo inside); the format UVC
    /// cameras need for 720p and above at full rate over USB 2.
    case mjpeg

    /// Raw formats first (no decode cost); MJPEG only wins when it offers a better size.
    public static let preference: [CameraPixelFormat] = [.i420, .nv12, .yuyv, .mjpeg]

    public init?(fourcc: UInt32) {
        switch CaptureLibraries.fourccString(fourcc) {
        case "YU12": self = .i420
        case "NV12": self = .nv12
        case "YUYV": self = .yuyv
        case "MJPG", "JPEG": self = .mjpeg
        default: return nil
        }
    }

    public var fourcc: UInt32 {
        let text: String
        switch self {
        case .i420: text = "YU12"
        case .nv12: text = "NV12"
        case .yuyv: text = "YUYV"
        case .mjpeg: text = "MJPG"
        }
        return text.utf8.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var description: String { CaptureLibraries.fourccString(fourcc) }
}

/// One format a device offers (VIDIOC_ENUM_FMT) with its frame sizes (VIDIOC_ENUM_FRAMESIZES).
public struct CameraFormatDescription: Sendable, Equatable {
    public enum Sizes: Sendable, Equatable {
        case discrete([FrameSize])
        /// Stepwise or continuous ranges: any size between min and max in steps.
        case range(min: FrameSize, max: FrameSize, stepWidth: Int, stepHeight: Int)
    }

    public var fourcc: UInt32
    public var name: String
    /// libv4l2 converts to this format in software (V4L2_FMT_FLAG_EMULATED).
    public var emulated: Bool
    public var compressed: Bool
    public var sizes: Sizes

    public init(fourcc: UInt32, name: String, emulated: Bool = false, compressed: Bool = false, sizes: Sizes) {
        self.fourcc = fourcc
        self.name = name
        self.emulated = emulated
        self.compressed = compressed
        self.sizes = sizes
    }

    /// The offered size closest to `wanted` (see `FrameSize.distance`).
    func closestSize(to wanted: FrameSize) -> FrameSize? {
        switch sizes {
        case .discrete(let list):
            return list.min { $0.distance(to: wanted) < $1.distance(to: wanted) }
        case .range(let low, let high, let stepWidth, let stepHeight):
            func snap(_ value: Int, _ low: Int, _ high: Int, _ step: Int) -> Int {
                let clamped = min(max(value, low), high)
                return step > 1 ? low + (clamped - low) / step * step : clamped
            }
            return FrameSize(width: snap(wanted.width, low.width, high.width, stepWidth),
                             height: snap(wanted.height, low.height, high.height, stepHeight))
        }
    }
}

public struct FrameSize: Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)" }

    /// How far a size is from the wanted one: exact is 0; a larger size (which we scale down
    /// without losing detail) costs its extra area, a smaller one costs four times its missing
    /// area, so we only go below the request when nothing at or above it exists.
    func distance(to wanted: FrameSize) -> Int {
        let area = width * height, wantedArea = wanted.width * wanted.height
        let aspectPenalty = abs(width * wanted.height - height * wanted.width) / max(1, wanted.height)
        return (area >= wantedArea ? area - wantedArea : 4 * (wantedArea - area)) + aspectPenalty
    }
}

/// The outcome of negotiation: what to ask the driver for and who converts it.
public struct CameraFormatChoice: Sendable, Equatable {
    public enum Converter: Sendable, Equatable {
        /// We convert the native format with libyuv.
        case libyuv(CameraPixelFormat)
        /// libv4l2 converts an unknown native format to I420 for us (the fallback).
        case libv4l2
    }

    public var fourcc: UInt32
    public var size: FrameSize
    public var converter: Converter

    public init(fourcc: UInt32, size: FrameSize, converter: Converter) {
        self.fourcc = fourcc
        self.size = size
        self.converter = converter
    }
}

public enum CameraFormatNegotiation {
    /// Picks the format and size: the best size over all formats we can convert, then the most
    /// preferred format at that size. Emulated (libv4l2) formats are used only when the device
    /// offers nothing libyuv can convert, or when `preferLibv4l2` asks for them (benchmarks).
    public static func choose(from formats: [CameraFormatDescription], wanted: FrameSize,
                              preferLibv4l2: Bool = false) -> CameraFormatChoice? {
        if !preferLibv4l2 {
            let native = formats.filter { !$0.emulated }
            var best: (score: Int, rank: Int, choice: CameraFormatChoice)?
            for format in native {
                guard let pixel = CameraPixelFormat(fourcc: format.fourcc),
                      let size = format.closestSize(to: wanted),
                      let rank = CameraPixelFormat.preference.firstIndex(of: pixel) else { continue }
                let score = size.distance(to: wanted)
                if best == nil || score < best!.score || (score == best!.score && rank < best!.rank) {
                    best = (score, rank, CameraFormatChoice(fourcc: format.fourcc, size: size, converter: .libyuv(pixel)))
                }
            }
            if let best { return best.choice }
        }
        // libv4l2 answers ENUM_FMT with emulated YU12 when it can convert the native format.
        let i420 = CameraPixelFormat.i420.fourcc
        if let emulated = formats.first(where: { $0.fourcc == i420 }), let size = emulated.closestSize(to: wanted) {
            return CameraFormatChoice(fourcc: i420, size: size, converter: .libv4l2)
        }
        return nil
    }
}
