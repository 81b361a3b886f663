import Logging
import NIOCore
import NIOWebSocket
import SignalingCore
import WSClient

/// The websocket transport (engine.io-protocol v4 "WebSocket"): one Engine.IO packet per frame,
/// text packets in text frames, binary messages in binary frames without the type prefix.
final actor WebSocketTransport: EngineIOTransport {
    nonisolated let name = "websocket"
    nonisolated let events: AsyncStream<TransportEvent>
    private let continuation: AsyncStream<TransportEvent>.Continuation
    private let configuration: EngineIOConfiguration
    private let sid: String?
    private let logger: Logger
    private var writer: WebSocketOutboundWriter?
    private var runTask: Task<Void, Never>?
    private var closed = false

    init(configuration: EngineIOConfiguration, sid: String?, logger: Logger) {
        self.configuration = configuration
        self.sid = sid
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: TransportEvent.self)
    }

    /// Opens the websocket; returns once the HTTP upgrade has succeeded.
    func connect() async throws(SignalingError) {
        let (ready, readyContinuation) = AsyncThrowingStream.makeStream(of: WebSocketOutboundWriter.self)
        let events = continuation
        let maxSize = configuration.maxInboundPayload
        let client = WebSocketClient(
            url: configuration.endpoint(transport: "websocket", sid: sid),
            configuration: .init(maxFrameSize: maxSize, closeTimeout: .seconds(2)),
            tlsConfiguration: configuration.isSecure ? configuration.tlsConfiguration() : nil,
            logger: logger
        ) { inbound, outbound, _ in
            readyContinuation.yield(outbound)
            readyContinuation.finish()
            do {
                for try await message in inbound.messages(maxSize: maxSize) {
                    switch message {
                    case .text(let text):
                        switch Result(catching: { () throws(SignalingDecodeError) in try EngineIOPacket.decode(Substring(text)) }) {
                        case .success(let packet): events.yield(.packet(packet))
                        case .failure(let error): events.yield(.malformed(error))
                        }
                    case .binary(let buffer):
                        events.yield(.packet(.binaryMessage(Array(buffer.readableBytesView))))
                    }
                }
                events.yield(.closed(.transportClosed("websocket closed by server")))
            } catch {
                events.yield(.closed(.protocolViolation("websocket: \(error)")))
            }
        }
        runTask = Task {
            do {
                let closeFrame = try await client.run()
                if let closeFrame, closeFrame.closeCode == .messageTooLarge {
                    events.yield(.closed(.payloadTooLarge(bytes: maxSize + 1, limit: maxSize)))
                }
                readyContinuation.finish(throwing: SignalingError.transportClosed("websocket closed during upgrade"))
            } catch {
                readyContinuation.finish(throwing: error)
                events.yield(.closed(SignalingError.classify(error)))
            }
            events.finish()
        }
        let timeout = configuration.connectTimeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            readyContinuation.finish(throwing: SignalingError.timeout("websocket connect"))
        }
        defer { timer.cancel() }
        do {
            var iterator = ready.makeAsyncIterator()
            guard let writer = try await iterator.next() else { throw SignalingError.transportClosed("websocket closed during upgrade") }
            self.writer = writer
        } catch {
            runTask?.cancel()
            throw SignalingError.classify(error)
        }
    }

    func send(_ packets: [EngineIOPacket]) async throws(SignalingError) {
        guard let writer, !closed else { throw .transportClosed("websocket not open") }
        for packet in packets {
            do {
                if case .binaryMessage(let bytes) = packet {
                    try await writer.write(.binary(ByteBuffer(bytes: bytes)))
                } else {
                    try await writer.write(.text(packet.encoded()))
                }
            } catch {
                throw SignalingError.classify(error)
            }
        }
    }

    func close() async {
        guard !closed else { return }
        closed = true
        if let writer {
            try? await writer.write(.text(EngineIOPacket.close.encoded()))
            try? await writer.close(.normalClosure, reason: nil)
        }
        runTask?.cancel()
        continuation.yield(.closed(.closedByClient))
        continuation.finish()
    }
}
