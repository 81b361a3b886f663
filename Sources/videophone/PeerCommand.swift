import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import Peer
import Signaling
import SignalingCore

/// `videophone peer`: our WebRTC endpoint in a room, for field checks and interop tests. Joins,
/// answers every incoming call (or calls the first other member with --call), sends Opus silence,
/// and prints JSON lines: joined, call, states, timing, stats.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Join a room as a WebRTC endpoint; answer or place a call and report what arrives.",
        discussion: """
        stdout: one JSON object per line: {"event":"joined"}, {"event":"call",...},
        {"event":"connectionState","state":...}, {"event":"timing",...} and every --stats-interval
        {"event":"stats","connectionState":...,"srtpPacketsBySSRC":{SSRC:count},"rtcpPackets":N,...}.
        """
    )

    @Option(help: "Server URL (http, https, ws or wss).") var server: String
    @Option(help: "Room to join.") var room: String
    @Option(help: "Name announced to the room.") var name: String = "videophone"
    @Flag(help: "Call the first other member instead of waiting to be called.") var call = false
    @Flag(help: "Use only TURN relay candidates (servers from the signaling server's ice:servers).")
    var relayOnly = false
    @Flag(help: "Gather loopback addresses only (tests in a network namespace).") var loopbackOnly = false
    @Option(help: "Seconds between stats lines.") var statsInterval: Double = 1
    @Option(name: .customLong("ca-file"), help: "Extra PEM CA file trusted for https/wss.") var caFile: String?
    @Option(help: "Directory holding the DTLS certificate (created once); default: in memory.")
    var stateDir: String?
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") var logLevel: String = "info"

    func run() async throws {
        guard let url = URL(string: server), url.host != nil else { throw ValidationError("invalid --server URL '\(server)'") }
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "videophone.peer")
        // The identity exists before any call: set-up never pays for key generation.
        let certificate = try stateDir.map { try DTLSCertificate.loadOrCreate(directory: $0) } ?? DTLSCertificate.generate()
        let output = JSONLineWriter()
        let client = SignalingClient(
            configuration: SocketIOConfiguration(engine: EngineIOConfiguration(url: url, extraCAFile: caFile)),
            logger: logger)
        let bridge = PeerCallBridge(client: client, output: output, logger: logger, certificate: certificate,
                                    relayOnly: relayOnly, loopbackOnly: loopbackOnly, placeCall: call)

        let events = Task { await bridge.run() }
        let membership = Task {
            for await id in client.membershipUpdates() where id != nil {
                output.write(["event": .string("joined"), "id": .string(id!)])
            }
        }
        let stats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(statsInterval))
                await bridge.reportStats()
            }
        }
        try await client.join(room: room, userName: name)
        await client.start()
        // Runs until stdin closes or the process is terminated.
        let stdinClosed = AsyncStream<Void> { continuation in
            Thread.detachNewThread {
                while readLine() != nil {}
                continuation.finish()
            }
        }
        for await _ in stdinClosed {}
        await bridge.hangUp()
        stats.cancel()
        membership.cancel()
        try? await client.leave()
        await client.stop()
        await events.value
    }
}

/// Wires the signaling contract (the seed's events) to one PeerConnection at a time.
actor PeerCallBridge {
    let client: SignalingClient
    let output: JSONLineWriter
    let logger: Logger
    let certificate: DTLSCertificate
    let relayOnly: Bool
    let loopbackOnly: Bool
    let placeCall: Bool
    let group = MultiThreadedEventLoopGroup.singleton
    var peer: PeerConnection?
    var remoteID: String?
    var sender: Task<Void, Never>?
    var members: [String] = []

    init(client: SignalingClient, output: JSONLineWriter, logger: Logger, certificate: DTLSCertificate,
         relayOnly: Bool, loopbackOnly: Bool, placeCall: Bool) {
        self.client = client
        self.output = output
        self.logger = logger
        self.certificate = certificate
        self.relayOnly = relayOnly
        self.loopbackOnly = loopbackOnly
        self.placeCall = placeCall
    }

    func run() async {
        for await event in client.events {
            guard case .server(let e) = event else { continue }
            do { try await handle(e) } catch {
                logger.error("\(e.name): \(error)")
                output.write(["event": .string("error"), "message": .string("\(e.name): \(error)")])
            }
        }
    }

    func handle(_ event: ServerEvent) async throws {
        switch event {
        case .roomJoined(let joined):
            members = joined.users.map(\.id).filter { $0 != joined.id }
            if placeCall, peer == nil, let other = members.first { try await startCall(to: other) }
        case .userJoined(let user):
            members.append(user.id)
            if placeCall, peer == nil { try await startCall(to: user.id) }
        case .userLeft(let user):
            members.removeAll { $0 == user.id }
            if user.id == remoteID { await hangUp(notify: false) }
        case .incomingCall(let from, let offer):
            guard peer == nil else {
                try await client.send(.endCall(to: from))  // busy
                return
            }
            output.write(["event": .string("call"), "direction": .string("incoming"), "from": .string(from)])
            let pc = try await makePeer(remote: from)
            try await pc.setRemoteDescription(type: .offer, sdp: offer.sdp)
            let answer = try await pc.createAnswer()
            try await client.send(.accept(to: from, answer: SessionDescription(type: .answer, sdp: answer)))
        case .callAccepted(let from, let answer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .answer, sdp: answer.sdp)
        case .negotiationNeeded(let from, let offer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .offer, sdp: offer.sdp)
            let answer = try await pc.createAnswer()
            try await client.send(.negotiationDone(to: from, answer: SessionDescription(type: .answer, sdp: answer)))
        case .negotiationFinal(let from, let answer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .answer, sdp: answer.sdp)
        case .iceCandidate(let from, let candidate):
            guard from == remoteID, let pc = peer else { return }
            if let text = candidate?.candidate, !text.isEmpty {
                pc.addRemoteCandidate(try IceCandidateLine.parse(text))
            } else {
                pc.addRemoteCandidate(nil)
            }
        case .callEnded(let from):
            if from == remoteID { await hangUp(notify: false) }
        case .roomFull, .chat:
            break
        }
    }

    func startCall(to other: String) async throws {
        output.write(["event": .string("call"), "direction": .string("outgoing"), "to": .string(other)])
        let pc = try await makePeer(remote: other)
        let offer = try await pc.createOffer()
        try await client.send(.call(to: other, offer: SessionDescription(type: .offer, sdp: offer)))
    }

    func makePeer(remote: String) async throws -> PeerConnection {
        var ice = IceConfiguration()
        ice.loopbackOnly = loopbackOnly
        ice.relayOnly = relayOnly
        // ICE servers come from the signaling server (TURN credentials are short-lived).
        if let reply = try? await client.request("ice:servers", [], timeout: .seconds(3)),
           case .object(let body)? = reply.first, case .array(let servers)? = body["iceServers"] {
            for case .object(let server) in servers {
                var urls: [String] = []
                switch server["urls"] {
                case .string(let u)?: urls = [u]
                case .array(let list)?: urls = list.compactMap { if case .string(let u) = $0 { u } else { nil } }
                default: break
                }
                let username: String? = if case .string(let u)? = server["username"] { u } else { nil }
                let credential: String? = if case .string(let c)? = server["credential"] { c } else { nil }
                for reason in ice.addServer(urls: urls, username: username, credential: credential) {
                    logger.notice("ICE server skipped: \(reason)")
                }
            }
        }
        if relayOnly, ice.turnServers.isEmpty { throw PeerConnectionError("--relay-only but the server offers no TURN server") }
        let pc = PeerConnection(configuration: PeerConnectionConfiguration(ice: ice, certificate: certificate, logger: logger),
                                eventLoop: group.next())
        let client = self.client, output = self.output
        pc.onLocalCandidate = { candidate in
            let wire = candidate.map { IceCandidate(candidate: $0.serialize(), sdpMid: "0", sdpMLineIndex: 0) }
            Task { try? await client.send(.iceCandidate(to: remote, candidate: wire)) }
        }
        pc.onConnectionStateChange = { [weak self] state in
            output.write(["event": .string("connectionState"), "state": .string(state.rawValue)])
            if state == .connected { Task { await self?.connected() } }
        }
        pc.onIceConnectionStateChange = { state in
            output.write(["event": .string("iceConnectionState"), "state": .string(state.rawValue)])
        }
        peer = pc
        remoteID = remote
        return pc
    }

    func connected() async {
        guard let pc = peer else { return }
        let stats = await pc.stats()
        var timing: [String: JSONValue] = ["event": .string("timing")]
        if let ms = stats.iceConnectedAfterMs { timing["remote_description_to_ice_connected_ms"] = .number(ms.rounded()) }
        if let ms = stats.dtlsConnectedAfterMs { timing["remote_description_to_dtls_connected_ms"] = .number(ms.rounded()) }
        output.write(timing)
        // Opus silence (RFC 7587; a 20 ms CELT frame of digital silence) until part 2 sends real media.
        let media = await pc.negotiatedMedia()
        guard sender == nil, let audio = media.first(where: { $0.kind == .audio && $0.localSends }),
              let pt = audio.payloadType else { return }
        let ssrc = pc.localAudioSSRC
        sender = Task {
            var seq = UInt16.random(in: 0...UInt16.max)
            var timestamp = UInt32.random(in: 0...UInt32.max)
            while !Task.isCancelled {
                var packet: [UInt8] = [0x80, UInt8(pt & 0x7F), UInt8(seq >> 8), UInt8(seq & 0xFF)]
                packet += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
                packet += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
                packet += [0xF8, 0xFF, 0xFE]
                pc.sendRTP(packet)
                seq &+= 1
                timestamp &+= 960
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func reportStats() async {
        guard let pc = peer else { return }
        let s = await pc.stats()
        var bySSRC: [String: JSONValue] = [:]
        for (ssrc, count) in s.srtpPacketsBySSRC { bySSRC[String(ssrc)] = .number(Double(count)) }
        var line: [String: JSONValue] = [
            "event": .string("stats"),
            "connectionState": .string(pc.connectionState.rawValue),
            "srtpPacketsBySSRC": .object(bySSRC),
            "rtcpPackets": .number(Double(s.rtcpPacketsReceived)),
            "rtpSent": .number(Double(s.rtpPacketsSent)),
            "srtpErrors": .number(Double(s.srtpErrors)),
        ]
        if let profile = s.srtpProfile { line["srtpProfile"] = .string(profile.rawValue) }
        if let pair = s.selectedPair {
            // "relay 127.0.0.1:49200 ↔ host 127.0.0.1:40000": the local candidate type comes first.
            line["selectedPair"] = .object(["description": .string(pair),
                                            "localType": .string(String(pair.split(separator: " ").first ?? ""))])
        }
        output.write(line)
    }

    func hangUp(notify: Bool = true) async {
        sender?.cancel()
        sender = nil
        if notify, let remoteID { try? await client.send(.endCall(to: remoteID)) }
        peer?.close()
        peer = nil
        remoteID = nil
        output.write(["event": .string("ended")])
    }
}
