// The C libraries capture is built on: V4L2 (camera), ALSA (microphone) and libyuv
// (camera formats to I420/ARGB), reachable from here through their CShims modules.
import CV4L2
import CALSA
import CYUV
#if canImport(Glibc)
import Glibc
#endif

public enum CaptureLibraries {
    /// The four ASCII characters of a little-endian fourcc, e.g. 0x56595559 -> "YUYV".
    public static func fourccString(_ code: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * UInt32($0))) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// V4L2_PIX_FMT_YUYV (0x56595559), the format most UVC webcams deliver uncompressed.
    public static var yuyvFourcc: UInt32 { vp_V4L2_PIX_FMT_YUYV }

    /// Runs VIDIOC_QUERYCAP through libv4l2 on an invalid descriptor: libv4l2 passes an fd it
    /// does not manage straight to the kernel, so this returns errno (EBADF) without printing
    /// anything. Proves libv4l2 links and the variadic-ioctl wrapper works, with no camera.
    public static func v4l2QueryCapErrno(fd: Int32 = -1) -> Int32 {
        var caps = v4l2_capability()
        errno = 0
        let result = vp_v4l2_ioctl(fd, vp_VIDIOC_QUERYCAP, &caps)
        return result == -1 ? errno : 0
    }

    /// libasound's runtime version, e.g. "1.2.8".
    public static func alsaVersion() -> String {
        String(cString: snd_asoundlib_version())
    }

    /// Converts an I420 frame (tightly packed planes) to libyuv "ARGB", which is B,G,R,A in
    /// memory order. Returns nil if the planes are too small or libyuv reports an error.
    public static func i420ToARGB(y: [UInt8], u: [UInt8], v: [UInt8], width: Int, height: Int) -> [UInt8]? {
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        guard width > 0, height > 0, y.count >= width * height,
              u.count >= chromaWidth * chromaHeight, v.count >= chromaWidth * chromaHeight
        else { return nil }
        var argb = [UInt8](repeating: 0, count: width * height * 4)
        let status = I420ToARGB(y, Int32(width), u, Int32(chromaWidth), v, Int32(chromaWidth),
                                &argb, Int32(width * 4), Int32(width), Int32(height))
        return status == 0 ? argb : nil
    }
}
