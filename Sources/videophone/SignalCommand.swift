import ArgumentParser
import Foundation
import Logging
import Signaling
import SignalingCore

/// `videophone signal`: the field tool for a signaling deployment. Joins a room, prints every
/// event as one JSON line on stdout, and emits the JSON lines read from stdin.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Join a room and bridge signaling events to JSON lines.",
        discussion: """
        stdout: one JSON object per line: {"event":NAME,"data":PAYLOAD} for server events,
        {"state":TEXT} for connection changes, {"ack":ID,"data":[...]} for acknowledgements,
        {"error":TEXT} for rejected input or payloads.
        stdin: {"event":NAME,"data":PAYLOAD} emits NAME with one argument; add "ack":true to wait
        for the server's acknowledgement. End of input leaves the room and exits.
        """
    )

    @Option(help: "Server URL (http, https, ws or wss).") var server: String
    @Option(help: "Room to join.") var room: String
    @Option(help: "Name announced to the room.") var name: String
    @Option(help: "websocket, polling, or polling,websocket (polling first, then upgrade).")
    var transports: String = "polling,websocket"
    @Option(name: .customLong("ca-file"), help: "Extra PEM CA file trusted for https/wss.") var caFile: String?
    @Option(help: "Give up after this many reconnection attempts (default: never).") var reconnectAttempts: Int?
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") var logLevel: String = "notice"

    func run() async throws {
        guard let url = URL(string: server), url.host != nil else { throw ValidationError("invalid --server URL '\(server)'") }
        guard let mode = EngineIOConfiguration.Transports(rawValue: transports) else {
            throw ValidationError("--transports must be one of: websocket, polling, polling,websocket")
        }
        signal(SIGPIPE, SIG_IGN)  // a closed stdout is reported as a write error, handled below
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "videophone.signal")
        let engine = EngineIOConfiguration(url: url, transports: mode, extraCAFile: caFile)
        let client = SignalingClient(configuration: SocketIOConfiguration(engine: engine, reconnectionAttempts: reconnectAttempts),
                                     logger: logger)
        let output = JSONLineWriter()

        let states = Task {
            for await state in client.stateUpdates() { output.write(["state": .string(state.description)]) }
        }
        let events = Task {
            for await event in client.events {
                switch event {
                case .server(let e): output.write(["event": .string(e.name), "data": e.arguments().first ?? .null])
                case .unknown(let name, let args): output.write(["event": .string(name), "data": args.first ?? .null, "unknown": .bool(true)])
                case .malformed(let error): output.write(["error": .string(error.description)])
                case .connected, .disconnected: break // reported through the state lines
                }
            }
        }
        try await client.join(room: room, userName: name)
        await client.start()

        // stdin → emits. readLine blocks, so it runs off the cooperative pool.
        let lines = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
        }
        for await line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            // Input typed before we are in the room waits for it rather than failing.
            for await id in client.membershipUpdates() where id != nil { break }
            await emit(line: line, client: client, output: output)
        }
        try? await client.leave()
        await client.stop()
        states.cancel()
        await events.value
    }

    private func emit(line: String, client: SignalingClient, output: JSONLineWriter) async {
        guard case .object(let command)? = try? JSONValue.parse(Substring(line)),
              case .string(let name)? = command["event"], !name.isEmpty else {
            output.write(["error": .string("input is not {\"event\":NAME,\"data\":...}: \(line.prefix(120))")])
            return
        }
        let args: [JSONValue] = command["data"].map { [$0] } ?? []
        do {
            if command["ack"] == .bool(true) {
                let reply = try await client.request(name, args)
                output.write(["ack": .string(name), "data": .array(reply)])
            } else {
                try await client.socket.emit(name, args)
            }
        } catch {
            output.write(["error": .string("\(name): \(error)")])
        }
    }
}

/// Writes whole JSON lines to stdout; one writer at a time so lines never interleave.
final class JSONLineWriter: Sendable {
    private let lock = NSLock()
    func write(_ object: [String: JSONValue]) {
        let line = JSONValue.object(object).serialized() + "\n"
        lock.lock()
        defer { lock.unlock() }
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(line.utf8))
        } catch {
            // Whoever read our output has gone (e.g. `| head`): nothing left to do.
            Foundation.exit(0)
        }
    }
}
