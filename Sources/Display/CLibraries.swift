// The C libraries the display is built on: libdrm (KMS scan-out), ALSA (speaker) and
// libyuv (decoded I420 to XRGB, scaling), reachable from here through their CShims modules.
import CDRM
import CALSA
import CYUV
#if canImport(Glibc)
import Glibc
#endif

public enum DisplayLibraries {
    /// Whether a DRM kernel driver answers (false in containers and CI without /dev/dri).
    public static func drmDriverAvailable() -> Bool {
        drmAvailable() != 0
    }

    /// DRM_FORMAT_XRGB8888 ('XR24', 0x34325258): the scan-out format of our dumb buffers.
    public static var xrgb8888Fourcc: UInt32 { vp_DRM_FORMAT_XRGB8888 }

    /// libdrm's name for a fourcc, e.g. "XR24" for XRGB8888 (no device needed).
    public static func drmFormatName(_ fourcc: UInt32) -> String? {
        guard let name = drmGetFormatName(fourcc) else { return nil }
        defer { free(name) }
        return String(cString: name)
    }

    /// libdrm's name for a format modifier, e.g. "LINEAR" for DRM_FORMAT_MOD_LINEAR.
    public static func drmModifierName(_ modifier: UInt64 = vp_DRM_FORMAT_MOD_LINEAR) -> String? {
        guard let name = drmGetFormatModifierName(modifier) else { return nil }
        defer { free(name) }
        return String(cString: name)
    }

    /// Scales a tightly packed ARGB (B,G,R,A bytes) image with libyuv's bilinear filter.
    public static func scaleARGB(_ source: [UInt8], width: Int, height: Int,
                                 toWidth: Int, toHeight: Int) -> [UInt8]? {
        guard width > 0, height > 0, toWidth > 0, toHeight > 0, source.count >= width * height * 4
        else { return nil }
        var output = [UInt8](repeating: 0, count: toWidth * toHeight * 4)
        let status = ARGBScale(source, Int32(width * 4), Int32(width), Int32(height),
                               &output, Int32(toWidth * 4), Int32(toWidth), Int32(toHeight),
                               kFilterBilinear)
        return status == 0 ? output : nil
    }
}
