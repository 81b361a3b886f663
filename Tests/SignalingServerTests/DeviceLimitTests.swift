import Foundation
import Logging
import RoomServer
import SignalingCore
@testable import SignalingServer
import Testing

/// The hub in-process, fed Engine.IO messages as a client would send them.
@Suite("device channel limits")
struct DeviceLimitTests {
    /// Connects a fake client session and returns a function that sends one Socket.IO packet (no Engine.IO
    /// prefix) and returns what the server queued for that client in reply (an Engine.IO polling payload).
    static func client(_ hub: SignalingHub) async -> @Sendable (String) async -> String {
        let sid = SignalingHub.makeID()
        let session = ServerSession(sid: sid, transport: "polling", configuration: EngineIOServerConfiguration(),
                                    logger: Logger(label: "test"),
                                    onMessage: { text in await hub.receive(text, from: sid) },
                                    onClose: { reason in await hub.sessionClosed(sid, reason: reason) })
        await hub.register(session)
        return { packet in
            await hub.receive(packet, from: sid)
            // Bounded: a reply that never comes fails the test instead of hanging it.
            let closer = Task { try await Task.sleep(for: .seconds(5)); await session.close(.protocolError) }
            defer { closer.cancel() }
            return (try? await session.poll()) ?? ""
        }
    }

    @Test("past maxDevices only known devices are admitted, so hellos cannot fill the store")
    func limit() async throws {
        let store = InMemoryDeviceStore()
        let hub = SignalingHub(maxMembers: 2, chat: InMemoryChatStore(), devices: store, ice: ICEServers(config: .init()),
                               maxDevices: 2, logger: Logger(label: "test"))
        for (i, id) in ["a", "b", "c"].enumerated() {
            let send = await Self.client(hub)
            _ = await send("0")
            let reply = await send(#"2\#(i)["device:hello",{"deviceId":"\#(id)","configVersion":0}]"#)
            if id == "c" {
                #expect(reply.contains("device limit reached"), "\(reply)")
            } else {
                #expect(reply.contains(#""ok":true"#), "\(reply)")
            }
        }
        #expect(try store.devices().map(\.deviceId) == ["a", "b"])
        // A known device is still admitted at the limit (e.g. after a reboot).
        let send = await Self.client(hub)
        _ = await send("0")
        #expect(await send(#"27["device:hello",{"deviceId":"a","configVersion":1}]"#).contains(#""ok":true"#))
    }
}
