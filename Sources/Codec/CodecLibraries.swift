// The codec layer: VP8 (libvpx) and Opus (libopus) behind small Swift types.
import CVPX
import COpus

/// Version strings of the codec libraries this layer wraps.
public enum CodecLibraries {
    public static func vpxVersion() -> String { String(cString: vpx_codec_version_str()) }
    public static func opusVersion() -> String { String(cString: opus_get_version_string()) }
}
