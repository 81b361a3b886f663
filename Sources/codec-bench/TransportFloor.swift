// The transport floor (codec-bench --transport-floor): what moving one endpoint's packets costs on
// this machine with nothing else. Two endpoints in this process send each other a call's packet
// stream over loopback UDP: a video frame of bitrate/8/30 bytes every 33 ms, split into RTP
// packets of 1100 payload bytes and sent with one sendmmsg, and an 80-byte Opus-sized packet
// every 20 ms; each packet is SRTP-protected (libsrtp, AES-128-GCM as calls with browsers
// negotiate) and unprotected by a receiving thread blocked in recvmmsg. No codecs, RTCP, jitter
// buffers or hand-offs between threads: a lower bound for any endpoint's cost beyond the codecs,
// since every WebRTC endpoint encrypts and sends these packets and wakes to receive the peer's.
import CSocketBatch
import Glibc
import Media
import Peer
import Synchronization

struct TransportFloorError: Error, CustomStringConvertible { let description: String }

struct TransportFloor {
    let bitrate: Int
    let seconds: Int

    struct Result {
        /// Process CPU (user + system) per second of wall time, divided by the two endpoints.
        var cpuPerEndpoint: Double
        var packetsSentPerSecond: Double
        var packetsReceivedPerSecond: Double
    }

    /// What the threads share: the stop flag and packet counts.
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let sent = Atomic<Int>(0)
        let received = Atomic<Int>(0)
    }

    static let payloadBytes = 1100
    /// RTP header (12) and the header extension block (12).
    static let headerBytes = 24
    static let audioPayloadBytes = 80

    func run() throws -> Result {
        try SRTPSession.initializeLibrary()
        let a = try UDPEndpoint()
        let b = try UDPEndpoint()
        let keyA = (0..<28).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let keyB = (0..<28).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 3) }
        let shared = Shared()
        let frameBytes = max(1, bitrate / 8 / 30)
        let start = MediaTime.now() + 100_000_000
        let end = start + UInt64(seconds) * 1_000_000_000 + 1_000_000_000
        // The first second warms up (streams created, caches filled); the rest is measured.
        let measureFrom = start + 1_000_000_000
        var threads: [pthread_t] = []
        for (from, to, key) in [(a, b, keyA), (b, a, keyB)] {
            let destination = to.address
            let fd = from.fd
            threads.append(try startThread {
                Self.send(fd: fd, to: destination, key: key, frameBytes: frameBytes, start: start, end: end, shared: shared)
            })
            let receiveFD = to.fd
            threads.append(try startThread {
                Self.receive(fd: receiveFD, key: key, shared: shared)
            })
        }
        MediaTime.sleep(until: measureFrom)
        let cpuBefore = ProcessUsage.current().cpuSeconds
        let sentBefore = shared.sent.load(ordering: .relaxed), receivedBefore = shared.received.load(ordering: .relaxed)
        MediaTime.sleep(until: end)
        let cpuAfter = ProcessUsage.current().cpuSeconds
        let sentAfter = shared.sent.load(ordering: .relaxed), receivedAfter = shared.received.load(ordering: .relaxed)
        shared.stop.store(true, ordering: .relaxed)
        for thread in threads { pthread_join(thread, nil) }
        a.close()
        b.close()
        let wall = Double(seconds)
        return Result(cpuPerEndpoint: (cpuAfter - cpuBefore) / wall / 2,
                      packetsSentPerSecond: Double(sentAfter - sentBefore) / wall / 2,
                      packetsReceivedPerSecond: Double(receivedAfter - receivedBefore) / wall / 2)
    }

    /// One endpoint's media clock: a frame's packets every 33 ms in one sendmmsg, audio every 20 ms.
    private static func send(fd: Int32, to destination: sockaddr_in, key: [UInt8], frameBytes: Int,
                             start: MediaTime, end: MediaTime, shared: Shared) {
        guard let srtp = try? SRTPSession(profile: .aeadAES128GCM, masterKeyAndSalt: key, direction: .outbound) else { return }
        let slot = 1500
        let slots = 64
        let buffers = UnsafeMutableRawBufferPointer.allocate(byteCount: slot * slots, alignment: 16)
        defer { buffers.deallocate() }
        for i in 0..<buffers.count { buffers[i] = UInt8(truncatingIfNeeded: i &* 31) }
        var iovecs = [iovec](repeating: iovec(), count: slots)
        var messages = [vp_mmsghdr](repeating: vp_mmsghdr(), count: slots)
        var address = destination
        var videoSequence: UInt16 = 0, audioSequence: UInt16 = 0, transportSequence: UInt16 = 0
        var nextVideo = start, nextAudio = start
        let framePeriod = MediaClock.framePeriodNanoseconds(framesPerSecond: 30)
        withUnsafeMutablePointer(to: &address) { name in
            iovecs.withUnsafeMutableBufferPointer { iov in
                messages.withUnsafeMutableBufferPointer { msgs in
                    // Writes one RTP packet (12-byte header, 8 bytes of header extensions as
                    // abs-send-time and transport-wide sequence numbers take, payload) into slot
                    // `index`, protects it and points message `index` at it.
                    func packet(_ index: Int, ssrc: UInt32, payloadType: UInt8, sequence: UInt16, timestamp: UInt32,
                                payload: Int) -> Bool {
                        let base = buffers.baseAddress! + index * slot
                        let bytes = UnsafeMutableRawBufferPointer(start: base, count: slot)
                        bytes[0] = 0x90  // V=2, X=1
                        bytes[1] = payloadType
                        bytes.storeBytes(of: sequence.bigEndian, toByteOffset: 2, as: UInt16.self)
                        bytes.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
                        bytes.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
                        // RFC 8285 one-byte extensions: abs-send-time (id 2, 3 bytes), transport-wide
                        // sequence number (id 3, 2 bytes), padding.
                        bytes.storeBytes(of: UInt32(0xBEDE_0002).bigEndian, toByteOffset: 12, as: UInt32.self)
                        bytes.storeBytes(of: UInt32(0x2201_0203).bigEndian, toByteOffset: 16, as: UInt32.self)
                        bytes.storeBytes(of: (UInt32(0x31) << 24 | UInt32(transportSequence) << 8).bigEndian, toByteOffset: 20,
                                         as: UInt32.self)
                        transportSequence &+= 1
                        guard let length = try? srtp.protectRTP(bytes, length: headerBytes + payload) else { return false }
                        iov[index] = iovec(iov_base: base, iov_len: length)
                        msgs[index].msg_hdr = msghdr(msg_name: UnsafeMutableRawPointer(name),
                                                     msg_namelen: socklen_t(MemoryLayout<sockaddr_in>.size),
                                                     msg_iov: iov.baseAddress! + index, msg_iovlen: 1,
                                                     msg_control: nil, msg_controllen: 0, msg_flags: 0)
                        return true
                    }
                    while true {
                        let now = MediaTime.now()
                        if now >= end { return }
                        if now >= nextAudio {
                            let timestamp = UInt32(truncatingIfNeeded: nextAudio.ticks(rate: 48_000))
                            if packet(0, ssrc: 2, payloadType: 111, sequence: audioSequence, timestamp: timestamp,
                                      payload: audioPayloadBytes), vp_sendmmsg(fd, msgs.baseAddress, 1, 0) == 1 {
                                shared.sent.add(1, ordering: .relaxed)
                            }
                            audioSequence &+= 1
                            nextAudio = nextAudio + MediaClock.audioFrameNanoseconds
                        }
                        if now >= nextVideo {
                            let count = min(slots, (frameBytes + payloadBytes - 1) / payloadBytes)
                            let timestamp = UInt32(truncatingIfNeeded: nextVideo.ticks(rate: 90_000))
                            var ready = 0
                            for index in 0..<count {
                                let payload = index < count - 1 ? payloadBytes : frameBytes - payloadBytes * (count - 1)
                                if packet(ready, ssrc: 1, payloadType: 96, sequence: videoSequence, timestamp: timestamp,
                                          payload: payload) { ready += 1 }
                                videoSequence &+= 1
                            }
                            let n = vp_sendmmsg(fd, msgs.baseAddress, UInt32(ready), 0)
                            if n > 0 { shared.sent.add(Int(n), ordering: .relaxed) }
                            nextVideo = nextVideo + framePeriod
                        }
                        MediaTime.sleep(until: min(nextAudio, nextVideo, end))
                    }
                }
            }
        }
    }

    /// One endpoint's receiving side: blocks in recvmmsg (up to 32 datagrams a call) and unprotects each.
    private static func receive(fd: Int32, key: [UInt8], shared: Shared) {
        guard let srtp = try? SRTPSession(profile: .aeadAES128GCM, masterKeyAndSalt: key, direction: .inbound) else { return }
        let slot = 2048
        let slots = 32
        let buffers = UnsafeMutableRawBufferPointer.allocate(byteCount: slot * slots, alignment: 16)
        defer { buffers.deallocate() }
        var iovecs = (0..<slots).map { iovec(iov_base: buffers.baseAddress! + $0 * slot, iov_len: slot) }
        var messages = [vp_mmsghdr](repeating: vp_mmsghdr(), count: slots)
        iovecs.withUnsafeMutableBufferPointer { iov in
            messages.withUnsafeMutableBufferPointer { msgs in
                for i in 0..<slots {  // the kernel writes only msg_len and msg_flags back
                    msgs[i].msg_hdr = msghdr(msg_name: nil, msg_namelen: 0, msg_iov: iov.baseAddress! + i, msg_iovlen: 1,
                                             msg_control: nil, msg_controllen: 0, msg_flags: 0)
                }
                while !shared.stop.load(ordering: .relaxed) {
                    let n = vp_recvmmsg(fd, msgs.baseAddress, UInt32(slots), VP_MSG_WAITFORONE, nil)
                    guard n > 0 else { continue }  // the 200 ms receive timeout: look at `stop`
                    var good = 0
                    for i in 0..<Int(n) {
                        let bytes = UnsafeMutableRawBufferPointer(start: buffers.baseAddress! + i * slot, count: slot)
                        if (try? srtp.unprotectRTP(bytes, length: Int(msgs[i].msg_len))) != nil { good += 1 }
                    }
                    shared.received.add(good, ordering: .relaxed)
                }
            }
        }
    }
}

/// A UDP socket on 127.0.0.1 with an ephemeral port and a 200 ms receive timeout.
struct UDPEndpoint: Sendable {
    let fd: Int32
    let address: sockaddr_in

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TransportFloorError(description: "socket: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard bound else { Glibc.close(fd); throw TransportFloorError(description: "bind 127.0.0.1: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        address = local
    }

    func close() { Glibc.close(fd) }
}

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Runs `body` on a new thread of its own (joinable).
func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    var thread = pthread_t()
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw TransportFloorError(description: "pthread_create: \(status)")
    }
    return thread
}
