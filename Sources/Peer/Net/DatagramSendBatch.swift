// The datagrams one UDP socket sends in one turn of the event loop, handed to the kernel with one
// sendmmsg(2) at the end of the turn. The memory is allocated once per socket: a datagram costs a
// copy into it and no allocation. The socket's descriptor here is a duplicate of the one NIO's
// channel reads from, so it stays valid whatever the channel does, until `close`.
import CSocketBatch
import Glibc
import NIOCore

/// Loop-confined: UDPSocket keeps it in a NIOLoopBoundBox.
final class DatagramSendBatch {
    /// Datagrams per sendmmsg, and the bytes they may hold: a 1280x720 keyframe's packets in one
    /// burst fit. A datagram over that size goes alone (the kernel refuses it when over 65,507).
    static let capacity = 64
    static let bytes = 96 * 1024

    private let descriptor: CInt
    /// Takes what the kernel's send buffer had no room for (EAGAIN): NIO queues it and writes it
    /// when the socket is writable again. Rare: a datagram socket's buffer holds about 90 packets.
    private let channel: any Channel
    private var closed = false

    private let data: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<vp_mmsghdr>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private var count = 0
    private var used = 0

    /// The destination is nearly always the same (the selected pair's remote, or the TURN server):
    /// it is converted once, not for every datagram.
    private var lastDestination: STUNAddress?
    private var lastStorage = sockaddr_storage()
    private var lastLength: socklen_t = 0

    init(descriptor: CInt, channel: any Channel) {
        self.descriptor = descriptor
        self.channel = channel
        data = .allocate(byteCount: Self.bytes, alignment: 16)
        iovecs = .allocate(capacity: Self.capacity)
        messages = .allocate(capacity: Self.capacity)
        addresses = .allocate(capacity: Self.capacity)
    }

    deinit {
        if !closed { _ = Glibc.close(descriptor) }
        data.deallocate()
        iovecs.deallocate()
        messages.deallocate()
        addresses.deallocate()
    }

    /// Queues a datagram. True when it is the first since the last flush: the caller then
    /// schedules one flush for the end of this turn.
    func append(_ bytes: [UInt8], to destination: STUNAddress) -> Bool {
        guard !closed, !bytes.isEmpty, convert(destination) else { return false }
        let first = count == 0
        if bytes.count > Self.bytes {
            flush()  // what was queued before it leaves before it
            bytes.withUnsafeBytes { payload in
                _ = withUnsafePointer(to: &lastStorage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, payload.baseAddress, payload.count, 0, $0, lastLength)
                    }
                }
            }
            return false
        }
        if count == Self.capacity || used + bytes.count > Self.bytes { flush() }
        let slot = data + used
        bytes.withUnsafeBytes { slot.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        iovecs[count] = iovec(iov_base: slot, iov_len: bytes.count)
        addresses[count] = lastStorage
        messages[count] = vp_mmsghdr(
            msg_hdr: msghdr(msg_name: UnsafeMutableRawPointer(addresses + count), msg_namelen: lastLength,
                            msg_iov: iovecs + count, msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0),
            msg_len: 0)
        count += 1
        used += bytes.count
        return first
    }

    /// Sends everything queued. A datagram the kernel refuses (EMSGSIZE and the like) is dropped
    /// alone, as UDP would; the ones after it still go.
    func flush() {
        var start = 0
        while start < count {
            let sent = vp_sendmmsg(descriptor, messages + start, UInt32(count - start), 0)
            if sent > 0 {
                start += Int(sent)
                continue
            }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK {
                handToChannel(from: start)
                break
            }
            start += 1
        }
        count = 0
        used = 0
    }

    /// Drops what is queued; nothing is sent after this.
    func close() {
        guard !closed else { return }
        closed = true
        count = 0
        used = 0
        _ = Glibc.close(descriptor)
    }

    /// Makes `lastStorage` hold `destination`; false when it is no address a socket can send to.
    private func convert(_ destination: STUNAddress) -> Bool {
        if destination == lastDestination { return true }
        guard let address = destination.socketAddress else { return false }
        var storage = sockaddr_storage()
        let length = address.withSockAddr { pointer, length in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length)) }
            return socklen_t(length)
        }
        (lastDestination, lastStorage, lastLength) = (destination, storage, length)
        return true
    }

    private func handToChannel(from start: Int) {
        for index in start..<count {
            let payload = UnsafeRawBufferPointer(start: iovecs[index].iov_base, count: iovecs[index].iov_len)
            channel.write(AddressedEnvelope(remoteAddress: Self.socketAddress(addresses[index]),
                                            data: channel.allocator.buffer(bytes: payload)),
                          promise: nil)
        }
        channel.flush()
    }

    /// NIO's form of a queued datagram's destination (only for the EAGAIN case).
    private static func socketAddress(_ storage: sockaddr_storage) -> SocketAddress {
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: storage) { raw in
            family == AF_INET
                ? SocketAddress(raw.load(as: sockaddr_in.self))
                : SocketAddress(raw.load(as: sockaddr_in6.self))
        }
    }
}
