/// Drives arbitrary bytes through every decoder a server's frame reaches (the Engine.IO payload splitter
/// and packet decoder, the Socket.IO packet decoder, the typed-event decoders) and checks that whatever
/// decodes survives re-encoding unchanged. Shared by the libFuzzer entry (`fuzz` with FUZZ_TARGET=signaling, which traps on
/// a violation so the fuzzer keeps the input) and the corpus-replay test, so the two cannot drift apart.
public enum DecoderExercise {
    public struct Outcome: Sendable {
        /// Socket.IO events that reached the typed decoders.
        public var events = 0
        /// Round-trip failures, described; empty when every decoded value re-encoded to itself.
        public var violations: [String] = []
    }

    public static func run(_ bytes: some Collection<UInt8>) -> Outcome {
        var outcome = Outcome()
        let text = String(decoding: bytes, as: UTF8.self)
        for case .success(let packet) in EngineIOPayload.decode(text) {
            check(packet, &outcome)
            guard case .message(let message) = packet, let sio = try? SocketIOPacket.decode(message) else { continue }
            check(sio, &outcome)
            guard let (name, args) = try? sio.eventNameAndArgs() else { continue }
            outcome.events += 1
            if let event = try? ServerEvent.decode(name: name, args: args),
               (try? ServerEvent.decode(name: event.name, args: event.arguments())) != event {
                outcome.violations.append("server event '\(name)' does not survive re-encoding")
            }
            if let event = try? ClientEvent.decode(name: name, args: args),
               (try? ClientEvent.decode(name: event.name, args: event.arguments())) != event {
                outcome.violations.append("client event '\(name)' does not survive re-encoding")
            }
        }
        // The same bytes as one websocket frame and as one Socket.IO packet.
        if let packet = try? EngineIOPacket.decode(Substring(text)) { check(packet, &outcome) }
        if let sio = try? SocketIOPacket.decode(text) { check(sio, &outcome) }
        return outcome
    }

    private static func check(_ packet: EngineIOPacket, _ outcome: inout Outcome) {
        if (try? EngineIOPacket.decode(Substring(packet.encoded()))) != packet {
            outcome.violations.append("engine.io packet does not survive re-encoding: \(packet.encoded().prefix(80))")
        }
    }

    private static func check(_ packet: SocketIOPacket, _ outcome: inout Outcome) {
        if (try? SocketIOPacket.decode(packet.encoded())) != packet {
            outcome.violations.append("socket.io packet does not survive re-encoding: \(packet.encoded().prefix(80))")
        }
    }
}
