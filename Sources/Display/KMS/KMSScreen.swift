// A bare KMS screen (kernel API: DRM KMS "dumb buffer" scan-out and page flips, via libdrm's
// drmModeGetResources / drmModeSetCrtc / drmModePageFlip / drmHandleEvent). No X, no Wayland:
// two XRGB8888 dumb buffers, draw into the hidden one, flip on vblank, wait for the event.
import CDRM
import Media
#if canImport(Glibc)
import Glibc
#endif

public struct KMSError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
    init(_ operation: String, errno code: Int32) {
        description = "\(operation): \(String(cString: strerror(code))) (errno \(code))"
    }
}

public struct KMSConfiguration: Sendable, Equatable {
    /// /dev/dri/cardN; nil takes the first card with a connected connector.
    public var card: String?
    /// A connector name such as "HDMI-A-1" or "Virtual-1"; nil takes the first connected one.
    public var connector: String?
    /// "1280x720" or "1280x720@60"; nil takes the connector's preferred mode.
    public var mode: String?

    public init(card: String? = nil, connector: String? = nil, mode: String? = nil) {
        self.card = card
        self.connector = connector
        self.mode = mode
    }
}

public struct KMSConnectorInfo: Sendable {
    public var card: String
    public var id: UInt32
    /// "HDMI-A-1", "Virtual-1", ... (type name and per-type index, as the kernel logs them).
    public var name: String
    public var connected: Bool
    public var modes: [DisplayMode]
    public var widthMillimetres: Int
    public var heightMillimetres: Int
}

/// When a flip completed, from the kernel's vblank event (CLOCK_MONOTONIC).
public struct FlipEvent: Sendable {
    public var sequence: UInt32
    public var time: MediaTime
}

public enum KMSDiscovery {
    public static func cards() -> [String] {
        (0..<8).map { "/dev/dri/card\($0)" }.filter { access($0, F_OK) == 0 }
    }

    public static func connectors(card: String) throws -> [KMSConnectorInfo] {
        let fd = open(card, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw KMSError("open \(card)", errno: errno) }
        defer { close(fd) }
        return try connectors(fd: fd, card: card).map(\.info)
    }

    static func connectors(fd: Int32, card: String) throws -> [(info: KMSConnectorInfo, modes: [drmModeModeInfo], encoder: UInt32, encoders: [UInt32])] {
        guard let resources = drmModeGetResources(fd) else { throw KMSError("\(card) is not a KMS device", errno: errno) }
        defer { drmModeFreeResources(resources) }
        var result: [(KMSConnectorInfo, [drmModeModeInfo], UInt32, [UInt32])] = []
        for index in 0..<Int(resources.pointee.count_connectors) {
            guard let connector = drmModeGetConnector(fd, resources.pointee.connectors[index]) else { continue }
            defer { drmModeFreeConnector(connector) }
            let c = connector.pointee
            let typeName = drmModeGetConnectorTypeName(c.connector_type).map { String(cString: $0) } ?? "Unknown"
            let raw = (0..<Int(c.count_modes)).map { c.modes[$0] }
            let info = KMSConnectorInfo(card: card, id: c.connector_id, name: "\(typeName)-\(c.connector_type_id)",
                                        connected: c.connection == DRM_MODE_CONNECTED, modes: raw.map(displayMode),
                                        widthMillimetres: Int(c.mmWidth), heightMillimetres: Int(c.mmHeight))
            result.append((info, raw, c.encoder_id, (0..<Int(c.count_encoders)).map { c.encoders[$0] }))
        }
        return result
    }

    static func displayMode(_ mode: drmModeModeInfo) -> DisplayMode {
        let totals = Int(mode.htotal) * Int(mode.vtotal)
        let refresh = totals > 0 ? Int(mode.clock) * 1_000_000 / totals : Int(mode.vrefresh) * 1000
        let name = withUnsafeBytes(of: mode.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return DisplayMode(width: Int(mode.hdisplay), height: Int(mode.vdisplay), refreshMillihertz: refresh,
                           preferred: mode.type & UInt32(DRM_MODE_TYPE_PREFERRED) != 0,
                           interlaced: mode.flags & UInt32(DRM_MODE_FLAG_INTERLACE) != 0, name: name)
    }
}

/// One dumb buffer: a kernel GEM object, its framebuffer id and our mapping of it.
private struct DumbBuffer {
    var handle: UInt32 = 0
    var framebuffer: UInt32 = 0
    var pitch = 0
    var size = 0
    var map: UnsafeMutableRawPointer?
}

/// Receives the page-flip event from drmHandleEvent (a C callback with a context pointer).
private final class FlipWaiter {
    var event: FlipEvent?
}

/// Not thread-safe: owned by the display loop.
public final class KMSScreen {
    public let card: String
    public let connectorName: String
    public let mode: DisplayMode
    public var width: Int { mode.width }
    public var height: Int { mode.height }

    private let fd: Int32
    private let crtcID: UInt32
    private var connectorID: UInt32
    private var modeInfo: drmModeModeInfo
    private var buffers: [DumbBuffer] = []
    private var front = 0
    private var savedCRTC: UnsafeMutablePointer<drmModeCrtc>?
    private let waiter = FlipWaiter()

    private struct Selection {
        var card: String, fd: Int32, connectorName: String, connectorID: UInt32
        var mode: DisplayMode, modeInfo: drmModeModeInfo, crtcID: UInt32
    }

    public init(configuration: KMSConfiguration = KMSConfiguration()) throws {
        let cards = configuration.card.map { [$0] } ?? KMSDiscovery.cards()
        guard !cards.isEmpty else { throw KMSError("no DRM card (/dev/dri/card*)") }
        var lastError: Error = KMSError("no connected connector")
        var found: Selection?
        for card in cards {
            do {
                found = try Self.select(card: card, configuration: configuration)
                break
            } catch {
                lastError = error
            }
        }
        guard let found else { throw lastError }
        card = found.card
        fd = found.fd
        connectorName = found.connectorName
        connectorID = found.connectorID
        mode = found.mode
        modeInfo = found.modeInfo
        crtcID = found.crtcID
        try setUp()  // on failure deinit releases what was made
    }

    private static func select(card: String, configuration: KMSConfiguration) throws -> Selection {
        let fd = open(card, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw KMSError("open \(card)", errno: errno) }
        do {
            let all = try KMSDiscovery.connectors(fd: fd, card: card)
            guard let chosen = all.first(where: { $0.info.connected && !$0.modes.isEmpty
                && (configuration.connector == nil || $0.info.name == configuration.connector) }) else {
                let have = all.map { "\($0.info.name)\($0.info.connected ? "" : " (disconnected)")" }.joined(separator: ", ")
                throw KMSError("\(card): no connected connector\(configuration.connector.map { " named \($0)" } ?? "") (have \(have))")
            }
            var request: DisplayModeRequest?
            if let text = configuration.mode {
                guard let parsed = DisplayModeRequest(text) else { throw KMSError("bad mode '\(text)': use WxH or WxH@Hz") }
                request = parsed
            }
            let modes = chosen.info.modes
            guard let mode = DisplayModeChoice.choose(from: modes, request: request),
                  let index = modes.firstIndex(of: mode) else { throw KMSError("\(chosen.info.name) has no usable mode") }
            let crtc = try findCRTC(fd: fd, encoder: chosen.encoder, encoders: chosen.encoders)
            return Selection(card: card, fd: fd, connectorName: chosen.info.name, connectorID: chosen.info.id,
                             mode: mode, modeInfo: chosen.modes[index], crtcID: crtc)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { tearDown() }

    /// The CRTC already driving the connector's encoder, else the first one an encoder can use.
    private static func findCRTC(fd: Int32, encoder current: UInt32, encoders: [UInt32]) throws -> UInt32 {
        guard let resources = drmModeGetResources(fd) else { throw KMSError("drmModeGetResources", errno: errno) }
        defer { drmModeFreeResources(resources) }
        let crtcs = (0..<Int(resources.pointee.count_crtcs)).map { resources.pointee.crtcs[$0] }
        if current != 0, let encoder = drmModeGetEncoder(fd, current) {
            defer { drmModeFreeEncoder(encoder) }
            if encoder.pointee.crtc_id != 0 { return encoder.pointee.crtc_id }
        }
        for id in encoders {
            guard let encoder = drmModeGetEncoder(fd, id) else { continue }
            defer { drmModeFreeEncoder(encoder) }
            for (bit, crtc) in crtcs.enumerated() where encoder.pointee.possible_crtcs & (1 << UInt32(bit)) != 0 {
                return crtc
            }
        }
        throw KMSError("no CRTC can drive this connector")
    }

    private func setUp() throws {
        savedCRTC = drmModeGetCrtc(fd, crtcID)
        for _ in 0..<2 { buffers.append(try makeBuffer()) }
        for buffer in buffers { if let map = buffer.map { memset(map, 0, buffer.size) } }
        front = 0
        let status = drmModeSetCrtc(fd, crtcID, buffers[0].framebuffer, 0, 0, &connectorID, 1, &modeInfo)
        guard status == 0 else { throw KMSError("drmModeSetCrtc \(mode) on \(connectorName)", errno: -status == 0 ? errno : -status) }
    }

    private func makeBuffer() throws -> DumbBuffer {
        var create = drm_mode_create_dumb()
        create.width = UInt32(mode.width)
        create.height = UInt32(mode.height)
        create.bpp = 32
        guard drmIoctl(fd, vp_DRM_IOCTL_MODE_CREATE_DUMB, &create) == 0 else { throw KMSError("CREATE_DUMB", errno: errno) }
        var buffer = DumbBuffer(handle: create.handle, pitch: Int(create.pitch), size: Int(create.size))
        guard drmModeAddFB(fd, create.width, create.height, 24, 32, create.pitch, create.handle, &buffer.framebuffer) == 0 else {
            let code = errno
            destroy(buffer)
            throw KMSError("drmModeAddFB", errno: code)
        }
        var map = drm_mode_map_dumb()
        map.handle = create.handle
        guard drmIoctl(fd, vp_DRM_IOCTL_MODE_MAP_DUMB, &map) == 0,
              let pointer = mmap(nil, buffer.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(map.offset)),
              pointer != MAP_FAILED else {
            let code = errno
            destroy(buffer)
            throw KMSError("MAP_DUMB/mmap", errno: code)
        }
        buffer.map = pointer
        return buffer
    }

    private func destroy(_ buffer: DumbBuffer) {
        if let map = buffer.map { munmap(map, buffer.size) }
        if buffer.framebuffer != 0 { drmModeRmFB(fd, buffer.framebuffer) }
        var destroy = drm_mode_destroy_dumb(handle: buffer.handle)
        _ = drmIoctl(fd, vp_DRM_IOCTL_MODE_DESTROY_DUMB, &destroy)
    }

    private func tearDown() {
        if let saved = savedCRTC {
            // Give the screen back as we found it (e.g. the console), if there was something on it.
            if saved.pointee.buffer_id != 0 {
                var mode = saved.pointee.mode
                _ = drmModeSetCrtc(fd, saved.pointee.crtc_id, saved.pointee.buffer_id, saved.pointee.x, saved.pointee.y,
                                   &connectorID, 1, &mode)
            }
            drmModeFreeCrtc(saved)
            savedCRTC = nil
        }
        for buffer in buffers { destroy(buffer) }
        buffers.removeAll()
        close(fd)
    }

    /// The buffer being scanned out now (e.g. to read back what is shown).
    public func withFrontSurface<R>(_ body: (PixelSurface) throws -> R) rethrows -> R {
        try body(surface(buffers[front]))
    }

    private func surface(_ buffer: DumbBuffer) -> PixelSurface {
        PixelSurface(base: buffer.map!, width: mode.width, height: mode.height, stride: buffer.pitch, bytesPerPixel: 4)
    }

    /// Draws into the hidden buffer, flips to it on the next vblank and waits (up to
    /// `timeoutMilliseconds`) for the kernel's flip event. The drawing never tears: the
    /// buffer being scanned out is not touched.
    @discardableResult
    public func present(timeoutMilliseconds: Int32 = 1000, _ draw: (PixelSurface) throws -> Void) throws -> FlipEvent {
        let back = 1 - front
        try draw(surface(buffers[back]))
        waiter.event = nil
        let context = Unmanaged.passUnretained(waiter).toOpaque()
        let status = drmModePageFlip(fd, crtcID, buffers[back].framebuffer, UInt32(vp_DRM_MODE_PAGE_FLIP_EVENT), context)
        guard status == 0 else { throw KMSError("drmModePageFlip", errno: -status) }
        front = back
        var events = drmEventContext()
        events.version = 2
        events.page_flip_handler = { _, sequence, seconds, microseconds, data in
            guard let data else { return }
            let waiter = Unmanaged<FlipWaiter>.fromOpaque(data).takeUnretainedValue()
            waiter.event = FlipEvent(sequence: sequence,
                                     time: MediaTime(nanoseconds: UInt64(seconds) * 1_000_000_000 + UInt64(microseconds) * 1000))
        }
        let deadline = MediaTime.now() + UInt64(timeoutMilliseconds) * 1_000_000
        while waiter.event == nil {
            let left = Int64(deadline.nanoseconds) - Int64(MediaTime.now().nanoseconds)
            guard left > 0 else { throw KMSError("no page-flip event within \(timeoutMilliseconds) ms") }
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, Int32(left / 1_000_000) + 1)
            if ready < 0 && errno != EINTR { throw KMSError("poll", errno: errno) }
            if ready > 0 { _ = drmHandleEvent(fd, &events) }
        }
        return waiter.event!
    }

    /// Composes one call screen and shows it.
    @discardableResult
    public func show(with compositor: inout Compositor, remote: VideoFrame?, local: VideoFrame?,
                     overlay: Overlay) throws -> FlipEvent {
        try present { compositor.render(remote: remote, local: local, overlay: overlay, into: $0) }
    }
}
