// TURN client over UDP, RFC 8656, sans-I/O: Allocate with long-term credentials (§7.1, RFC 8489
// §9.2: 401 → REALM/NONCE → MESSAGE-INTEGRITY keyed MD5(user:realm:pass); 438 stale nonce),
// Refresh before expiry and lifetime 0 on close (§8), CreatePermission per peer IP refreshed
// every 4 min (§9), Send/Data indications (§11) and ChannelBind + ChannelData (§12) for the pair
// carrying media. The owner feeds datagrams from the server and drains `outgoing`.

struct TurnClient {
    enum State: Equatable { case allocating, allocated, failed(String), closed }
    enum Event { case allocated(relayed: STUNAddress, mapped: STUNAddress?), failed(String) }

    private enum Purpose: Equatable {
        case allocate, refresh, permission(STUNAddress), channelBind(UInt16, STUNAddress)
    }
    private struct Transaction {
        var purpose: Purpose
        var method: STUNMethod
        var attributes: [STUNAttributeValue]
        var bytes: [UInt8]
        var sends: Int
        var nextSend: Double
        var rto: Double
        var authRetries: Int
    }

    let server: STUNAddress
    let username: String
    let password: String
    private(set) var state: State = .allocating
    private var realm: String?
    private var nonce: String?
    private var key: [UInt8]?
    private(set) var relayed: STUNAddress?
    private var refreshAt = Double.infinity
    private var transactions: [STUNTransactionID: Transaction] = [:]
    /// Peer IP (port 0) → when to refresh; nil value = CreatePermission in flight.
    private var permissions: [STUNAddress: Double] = [:]
    private var channels: [STUNAddress: UInt16] = [:]
    private var channelPeers: [UInt16: STUNAddress] = [:]
    private var boundChannels: [UInt16: Double] = [:]  // channel → refresh time
    private var nextChannel: UInt16 = 0x4000
    /// Datagrams for the server.
    var outgoing: [[UInt8]] = []
    var events: [Event] = []

    static let permissionRefresh: Double = 240   // permissions last 300 s (§9)
    static let channelRefresh: Double = 540       // channels last 600 s (§12)

    init(server: STUNAddress, username: String, password: String, now: Double) {
        self.server = server
        self.username = username
        self.password = password
        // §7.1: REQUESTED-TRANSPORT 17 (UDP); the first request goes without credentials to learn
        // the realm and nonce from the 401.
        request(.allocate, .allocate, [.requestedTransport(17)], now: now)
    }

    // MARK: Outbound

    private mutating func request(_ purpose: Purpose, _ method: STUNMethod, _ attributes: [STUNAttributeValue],
                                  now: Double, authRetries: Int = 0) {
        var message = STUNMessage(.request, method)
        for a in attributes { message.append(a) }
        if let key, let realm, let nonce {
            message.append(.username(username))
            message.append(.realm(realm))
            message.append(.nonce(nonce))
            let bytes = message.encode(integrityKey: key, fingerprint: true)
            store(message.transactionID, purpose, method, attributes, bytes, now, authRetries)
        } else {
            let bytes = message.encode(fingerprint: true)
            store(message.transactionID, purpose, method, attributes, bytes, now, authRetries)
        }
    }

    private mutating func store(_ id: STUNTransactionID, _ purpose: Purpose, _ method: STUNMethod,
                                _ attributes: [STUNAttributeValue], _ bytes: [UInt8], _ now: Double, _ authRetries: Int) {
        transactions[id] = Transaction(purpose: purpose, method: method, attributes: attributes, bytes: bytes,
                                       sends: 1, nextSend: now + 0.5, rto: 0.5, authRetries: authRetries)
        outgoing.append(bytes)
    }

    /// §9.1: a permission per peer IP before the server relays anything from or to it.
    mutating func ensurePermission(for peer: STUNAddress, now: Double) {
        guard state == .allocated, permissions[peer.ipOnly] == nil else { return }
        permissions[peer.ipOnly] = now + Self.permissionRefresh
        request(.permission(peer.ipOnly), .createPermission, [.xorPeerAddress(peer)], now: now)
    }

    /// §12.1: bind a channel to the peer that carries media so each datagram costs 4 bytes of header.
    mutating func bindChannel(to peer: STUNAddress, now: Double) {
        guard state == .allocated, channels[peer] == nil, nextChannel <= 0x4FFF else { return }
        let number = nextChannel
        nextChannel += 1
        channels[peer] = number
        channelPeers[number] = peer
        request(.channelBind(number, peer), .channelBind, [.channelNumber(number), .xorPeerAddress(peer)], now: now)
    }

    /// Wraps a datagram for `peer`: ChannelData once the channel is bound (§12.5), else a Send
    /// indication (§11.1), which carries no integrity.
    func wrap(_ data: [UInt8], to peer: STUNAddress) -> [UInt8]? {
        if let number = channels[peer], boundChannels[number] != nil,
           let frame = try? TURNChannelData(channelNumber: number, data: data) {
            return frame.encode()
        }
        var message = STUNMessage(.indication, .send)
        message.append(.xorPeerAddress(peer))
        message.append(.data(data))
        return message.encode()
    }

    /// §8: Refresh with LIFETIME 0 deletes the allocation; sent once, unanswered is fine.
    mutating func close(now: Double) {
        if state == .allocated { request(.refresh, .refresh, [.lifetime(0)], now: now) }
        state = .closed
        transactions.removeAll()
    }

    // MARK: Inbound

    /// Handles a datagram from the server. Returns (peer, data) for relayed application or ICE
    /// traffic (Data indication §11.4, ChannelData §12.6); nil for TURN's own responses.
    mutating func receive(_ bytes: [UInt8], now: Double) -> (STUNAddress, [UInt8])? {
        guard let first = bytes.first else { return nil }
        if PacketKind.classify(firstByte: first) == .turnChannelData {
            guard let frame = try? TURNChannelData.decode(bytes), let peer = channelPeers[frame.channelNumber] else {
                return nil
            }
            return (peer, frame.data)
        }
        guard let message = try? STUNMessage.decode(bytes) else { return nil }
        if message.messageClass == .indication {
            guard message.method == .data, let peer = message.xorPeerAddresses.first, let data = message.data,
                  permissions[peer.ipOnly] != nil else { return nil }
            return (peer, data)
        }
        guard message.messageClass != .request,
              let tx = transactions.removeValue(forKey: message.transactionID) else { return nil }
        // Responses to authenticated requests must carry valid integrity (RFC 8489 §9.2.5),
        // except 401/438 which tell us the credentials or nonce are stale.
        let code = message.errorCode?.code
        if let key, code != 401, code != 438, message.hasIntegrity, !message.validateIntegrity(key: key) {
            transactions[message.transactionID] = tx  // forged: keep waiting for the real answer
            return nil
        }
        if message.messageClass == .errorResponse {
            handleError(message, tx, now: now)
        } else {
            handleSuccess(message, tx, now: now)
        }
        return nil
    }

    private mutating func handleError(_ message: STUNMessage, _ tx: Transaction, now: Double) {
        let code = message.errorCode?.code ?? 0
        if (code == 401 || code == 438), tx.authRetries < 2, let nonce = message.nonce {
            if code == 401 {
                guard let realm = message.realm ?? realm else { return fail("401 without REALM") }
                self.realm = realm
                key = STUNMessage.longTermKey(username: username, realm: realm, password: password)
            }
            self.nonce = nonce
            request(tx.purpose, tx.method, tx.attributes, now: now, authRetries: tx.authRetries + 1)
            return
        }
        switch tx.purpose {
        case .allocate: fail("Allocate failed: \(message.errorCode?.description ?? "error")")
        case .refresh: if state == .allocated { fail("Refresh failed: \(message.errorCode?.description ?? "")") }
        case .permission(let ip): permissions[ip] = nil
        case .channelBind(let n, let peer):
            channels[peer] = nil
            channelPeers[n] = nil
        }
    }

    private mutating func handleSuccess(_ message: STUNMessage, _ tx: Transaction, now: Double) {
        switch tx.purpose {
        case .allocate:
            guard state == .allocating else { return }
            guard let relayed = message.xorRelayedAddresses.first else { return fail("Allocate success without XOR-RELAYED-ADDRESS") }
            self.relayed = relayed
            state = .allocated
            let lifetime = Double(message.lifetime ?? 600)
            refreshAt = now + max(lifetime - 60, lifetime / 2)
            events.append(.allocated(relayed: relayed, mapped: message.xorMappedAddress))
        case .refresh:
            let lifetime = Double(message.lifetime ?? 600)
            refreshAt = now + max(lifetime - 60, lifetime / 2)
        case .permission(let ip):
            permissions[ip] = now + Self.permissionRefresh
        case .channelBind(let n, _):
            boundChannels[n] = now + Self.channelRefresh
        }
    }

    private mutating func fail(_ why: String) {
        state = .failed(why)
        transactions.removeAll()
        events.append(.failed(why))
    }

    // MARK: Timers

    var nextTimeout: Double? {
        guard state != .closed else { return nil }
        var t = transactions.values.map(\.nextSend).min() ?? .infinity
        if state == .allocated {
            t = min(t, refreshAt)
            t = min(t, permissions.values.min() ?? .infinity)
            t = min(t, boundChannels.values.min() ?? .infinity)
        }
        return t.isFinite ? t : nil
    }

    mutating func handleTimeout(now: Double) {
        for (id, var tx) in transactions where tx.nextSend <= now {
            if tx.sends >= 5 {
                transactions[id] = nil
                if tx.purpose == .allocate { fail("Allocate timed out") }
                continue
            }
            tx.sends += 1
            tx.rto *= 2
            tx.nextSend = now + tx.rto
            outgoing.append(tx.bytes)
            transactions[id] = tx
        }
        guard state == .allocated else { return }
        if refreshAt <= now {
            refreshAt = .infinity
            request(.refresh, .refresh, [.lifetime(600)], now: now)
        }
        for (ip, due) in permissions where due <= now {
            permissions[ip] = now + Self.permissionRefresh
            request(.permission(ip), .createPermission, [.xorPeerAddress(ip)], now: now)
        }
        for (n, due) in boundChannels where due <= now {
            boundChannels[n] = now + Self.channelRefresh
            if let peer = channelPeers[n] {
                request(.channelBind(n, peer), .channelBind, [.channelNumber(n), .xorPeerAddress(peer)], now: now)
            }
        }
    }
}
