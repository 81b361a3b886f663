import Foundation
import Logging
import Signaling
import SignalingCore
import Testing

/// Collects what a client delivers, so tests can wait for "an event like this" with a deadline.
actor Recorder<Element: Sendable> {
    private(set) var items: [Element] = []
    private var task: Task<Void, Never>?

    init() {}

    func consume(_ stream: AsyncStream<Element>) {
        task = Task { for await item in stream { self.items.append(item) } }
    }

    /// Waits until an element matches (searching from `after`), or fails the test at the deadline.
    @discardableResult
    func wait(for what: String, timeout: Duration = .seconds(10), after: Int = 0,
              sourceLocation: SourceLocation = #_sourceLocation,
              _ match: @Sendable (Element) -> Bool) async throws -> Element {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = items.dropFirst(after).first(where: match) { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what); saw \(items.count) items: \(items.suffix(6))", sourceLocation: sourceLocation)
        throw FixtureError("timed out waiting for \(what)")
    }

    var count: Int { items.count }
}

/// One room member for tests: a SignalingClient plus recorders of its events and states.
struct Member {
    let client: SignalingClient
    let events = Recorder<SignalingEvent>()
    let states = Recorder<ConnectionState>()

    static func join(_ server: FixtureServer, room: String, name: String, transports: EngineIOConfiguration.Transports,
                     caFile: String? = nil, maxInbound: Int = 1_000_000, auth: JSONValue? = nil,
                     waitForJoin: Bool = true) async throws -> Member {
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["VIDEOPHONE_TEST_LOG"] == nil ? .critical : .debug
        let engine = EngineIOConfiguration(url: server.url, transports: transports, extraCAFile: caFile,
                                           maxInboundPayload: maxInbound, connectTimeout: .seconds(5))
        // Short backoff keeps restart tests quick; the shape (exponential, jitter) is the default's.
        let config = SocketIOConfiguration(engine: engine, auth: auth,
                                           backoff: Backoff(initial: .milliseconds(200), maximum: .seconds(1)),
                                           ackTimeout: .seconds(5))
        let member = Member(client: SignalingClient(configuration: config, logger: logger))
        await member.events.consume(member.client.events)
        await member.states.consume(member.client.stateUpdates())
        try await member.client.join(room: room, userName: name)
        await member.client.start()
        if waitForJoin {
            try await member.events.wait(for: "\(name) room:joined") {
                if case .server(.roomJoined) = $0 { return true } else { return false }
            }
        }
        return member
    }

    var id: String { client.selfID ?? "" }

    func stop() async { await client.stop() }
}

extension EngineIOConfiguration.Transports: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}

/// Stops every member a test made, whether the test passed or threw.
actor Cleanup {
    private var members: [Member] = []
    func add(_ m: Member) -> Member { members.append(m); return m }
    func run() async { for m in members { await m.stop() }; members.removeAll() }
}

/// Starts `server`, runs the body, and stops all members and the server afterwards.
func withFixture(_ server: FixtureServer, _ body: (FixtureServer, Cleanup) async throws -> Void) async throws {
    try server.start()
    let cleanup = Cleanup()
    do {
        try await body(server, cleanup)
    } catch {
        await cleanup.run()
        server.stop()
        throw error
    }
    await cleanup.run()
    server.stop()
}

func isEvent(_ e: SignalingEvent, _ name: String) -> Bool {
    if case .server(let s) = e { return s.name == name }
    return false
}
