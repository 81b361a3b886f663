// The C libraries the media peer is built on (VP8, Opus, SRTP, DTLS via OpenSSL),
// reachable from here through their CShims modules. Calling any of these proves the
// library is linked; later issues build the codecs and transports on the same imports.
import CVPX
import COpus
import CSRTP
import COpenSSL

/// Version strings of the linked media and crypto libraries (for logs and `--version`).
public enum PeerLibraries {
    /// libvpx, e.g. "v1.12.0".
    public static func vpxVersion() -> String {
        String(cString: vpx_codec_version_str())
    }

    /// libopus, e.g. "libopus 1.3.1".
    public static func opusVersion() -> String {
        String(cString: opus_get_version_string())
    }

    /// libsrtp2, e.g. "libsrtp2 2.5.0".
    public static func srtpVersion() -> String {
        String(cString: srtp_get_version_string())
    }

    /// The system OpenSSL that is linked (not swift-nio-ssl's BoringSSL), e.g. "OpenSSL 3.0.x ...".
    public static func openSSLVersion() -> String {
        String(cString: vp_openssl_version_text())
    }
}
