import Foundation
import Logging
import RoomServer
import SignalingCore

/// The Socket.IO v5 layer of the server (namespace `/`) and the seed's room flow on top of it.
/// One actor owns rooms and the session table, so room state never races.
public final actor SignalingHub {
    struct Client {
        let session: ServerSession
        var socketID: String?
    }

    let logger: Logger
    let devices: any DeviceStore
    /// Devices the store may hold (see `admits`).
    let maxDevices: Int
    var deviceSockets: [String: String] = [:]   // device id → socket.io id
    var socketDevices: [String: String] = [:]   // socket.io id → device id
    private let chat: any ChatStore
    private let historyLimit: Int
    private let ice: ICEServers
    private var rooms: RoomDirectory
    private var clients: [String: Client] = [:]           // engine.io sid → client
    private var socketToSession: [String: String] = [:]   // socket.io id → engine.io sid

    public init(maxMembers: Int, chat: any ChatStore, devices: any DeviceStore, ice: ICEServers, historyLimit: Int = 50,
                maxDevices: Int = 1000, logger: Logger) {
        rooms = RoomDirectory(maxMembers: maxMembers)
        self.devices = devices
        self.maxDevices = maxDevices
        self.ice = ice
        self.chat = chat
        self.historyLimit = historyLimit
        self.logger = logger
    }

    public var counts: (sessions: Int, sockets: Int) { (clients.count, socketToSession.count) }

    func register(_ session: ServerSession) {
        clients[session.sid] = Client(session: session)
    }

    func sessionClosed(_ sid: String, reason: SessionCloseReason) async {
        guard let client = clients.removeValue(forKey: sid) else { return }
        if let socketID = client.socketID {
            socketToSession[socketID] = nil
            deviceDisconnected(socketID)
            await leaveRoom(socketID)
        }
        logger.debug("session closed", metadata: ["sid": "\(sid)", "reason": "\(reason.rawValue)"])
    }

    func session(_ sid: String) -> ServerSession? { clients[sid]?.session }

    // MARK: Socket.IO packets

    func receive(_ text: String, from sid: String) async {
        guard let client = clients[sid] else { return }
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket.decode(text)
        } catch {
            logger.warning("rejected malformed socket.io packet", metadata: ["sid": "\(sid)", "reason": "\(error)"])
            return
        }
        guard packet.namespace == "/" else {
            await client.session.send([.message(SocketIOPacket(kind: .connectError, namespace: packet.namespace,
                                                               data: .object(["message": .string("Invalid namespace")])).encoded())])
            return
        }
        switch packet.kind {
        case .connect:
            guard client.socketID == nil else { return }
            let socketID = Self.makeID()
            clients[sid]?.socketID = socketID
            socketToSession[socketID] = sid
            await client.session.send([.message(SocketIOPacket(kind: .connect, data: .object(["sid": .string(socketID)])).encoded())])
        case .disconnect:
            if let socketID = client.socketID {
                clients[sid]?.socketID = nil
                socketToSession[socketID] = nil
                deviceDisconnected(socketID)
                await leaveRoom(socketID)
            }
        case .event:
            guard let socketID = client.socketID, let (name, args) = try? packet.eventNameAndArgs() else { return }
            await handleEvent(name, args, ackID: packet.ackID, from: socketID)
        case .ack:
            break // the server asks no acknowledgements of clients yet
        case .connectError, .binaryEvent, .binaryAck:
            logger.warning("refused socket.io packet a client may not send", metadata: ["sid": "\(sid)", "kind": "\(packet.kind)"])
        }
    }

    private func handleEvent(_ name: String, _ args: [JSONValue], ackID: UInt64?, from socketID: String) async {
        // Request/response events (answered through the Socket.IO acknowledgement).
        if name == "ice:servers" {
            let userName = rooms.name(of: socketID) ?? socketID
            let reply = (try? JSONValue(encoding: ice.iceServers(for: userName, now: Date()))) ?? .null
            if let ackID { await acknowledge(ackID, [reply], to: socketID) }
            return
        }
        if name == DeviceEventName.hello { await deviceHello(args, ackID: ackID, from: socketID); return }
        if name == DeviceEventName.configResult { deviceConfigResult(args, from: socketID); return }
        let event: ClientEvent?
        do {
            event = try ClientEvent.decode(name: name, args: args)
        } catch {
            logger.warning("rejected malformed event", metadata: ["from": "\(socketID)", "event": "\(name)", "reason": "\(error)"])
            return
        }
        guard let event else {
            logger.notice("ignored unknown event", metadata: ["from": "\(socketID)", "event": "\(name)"])
            return
        }
        switch event {
        case .roomJoin(let join): await joinRoom(socketID, join)
        case .leaveRoom: await leaveRoom(socketID)
        case .chat(let message): await postChat(socketID, message.text)
        case .call(let to, let offer): await relay(from: socketID, to: to, event: .incomingCall(from: socketID, offer: offer))
        case .accept(let to, let answer): await relay(from: socketID, to: to, event: .callAccepted(from: socketID, answer: answer))
        case .negotiationNeeded(let to, let offer):
            await relay(from: socketID, to: to, event: .negotiationNeeded(from: socketID, offer: offer))
        case .negotiationDone(let to, let answer):
            await relay(from: socketID, to: to, event: .negotiationFinal(from: socketID, answer: answer))
        case .iceCandidate(let to, let candidate):
            await relay(from: socketID, to: to, event: .iceCandidate(from: socketID, candidate: candidate))
        case .endCall(let to): await relay(from: socketID, to: to, event: .callEnded(from: socketID))
        }
    }

    func acknowledge(_ ackID: UInt64, _ args: [JSONValue], to socketID: String) async {
        guard let sid = socketToSession[socketID], let session = clients[sid]?.session else { return }
        await session.send([.message(SocketIOPacket(kind: .ack, ackID: ackID, data: .array(args)).encoded())])
    }

    // MARK: Rooms (the seed's flow)

    private func joinRoom(_ socketID: String, _ join: RoomJoin) async {
        switch rooms.join(connection: socketID, room: join.room, name: join.userName) {
        case .invalid(let reason):
            logger.notice("refused room:join", metadata: ["from": "\(socketID)", "reason": "\(reason)"])
        case .full(let room):
            await emit(.roomFull(RoomRef(room: room)), to: socketID)
        case .joined(let room, let users, let previous, let others):
            if let previous {
                for other in previous.remaining { await emit(.userLeft(previous.user), to: other) }
            }
            let history = (try? chat.history(room: room, limit: historyLimit)) ?? []
            await emit(.roomJoined(RoomJoined(room: room, id: socketID, users: users, messages: history)), to: socketID)
            for other in others { await emit(.userJoined(RoomUser(id: socketID, name: join.userName)), to: other) }
            logger.info("joined room", metadata: ["room": "\(room)", "user": "\(join.userName)", "members": "\(users.count)"])
        }
    }

    private func leaveRoom(_ socketID: String) async {
        guard let left = rooms.leave(connection: socketID) else { return }
        for other in left.remaining { await emit(.userLeft(left.user), to: other) }
        logger.info("left room", metadata: ["room": "\(left.room)", "user": "\(left.user.name)"])
    }

    private func postChat(_ socketID: String, _ text: String) async {
        guard let room = rooms.room(of: socketID), let name = rooms.name(of: socketID) else {
            logger.notice("refused chat:message outside a room", metadata: ["from": "\(socketID)"])
            return
        }
        let message: ChatMessage
        do {
            message = try ChatMessage.make(senderId: socketID, userName: name, text: text, now: Date())
            try chat.append(room: room, message: message)
        } catch {
            logger.warning("refused chat:message", metadata: ["from": "\(socketID)", "reason": "\(error)"])
            return
        }
        for member in rooms.members(of: room) { await emit(.chat(message), to: member.id) }
    }

    /// Relays only to a member of the sender's room; anything else is refused and logged.
    private func relay(from: String, to: String, event: ServerEvent) async {
        guard rooms.canRelay(from: from, to: to) else {
            logger.warning("refused relay outside the sender's room", metadata: ["from": "\(from)", "to": "\(to)", "event": "\(event.name)"])
            return
        }
        await emit(event, to: to)
    }

    private func emit(_ event: ServerEvent, to socketID: String) async {
        await emit(name: event.name, event.arguments(), to: socketID)
    }

    func emit(name: String, _ args: [JSONValue], to socketID: String) async {
        guard let sid = socketToSession[socketID], let session = clients[sid]?.session else { return }
        await session.send([.message(SocketIOPacket.event(name, args).encoded())])
    }

    /// Tells every client the server is going away (graceful shutdown).
    func closeAll() async {
        for client in clients.values { await client.session.close(.serverShutdown) }
    }

    static func makeID() -> String {
        var bytes = [UInt8](repeating: 0, count: 15)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-")
    }
}
