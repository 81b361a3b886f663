// Drives CallMachine: events in (signaling, buttons, media), effects out on one ordered stream, and the
// machine's timers run here (a fired timer that was cancelled or restarted meanwhile is dropped, so a
// stale timeout never reaches the machine).
import Foundation
import Logging

/// What `videophone status` and the screen show about the call.
public struct CallSnapshot: Sendable, Equatable {
    public var phase: CallPhase
    public var room: String?
    public var peerName: String?
    public var members: [String]
    public var status: String
    public var muted: Bool
    public var cameraOff: Bool
    public var devicesOpen: Bool
    public var signalingUp: Bool

    public init(phase: CallPhase, room: String?, peerName: String?, members: [String], status: String, muted: Bool,
                cameraOff: Bool, devicesOpen: Bool, signalingUp: Bool) {
        self.phase = phase
        self.room = room
        self.peerName = peerName
        self.members = members
        self.status = status
        self.muted = muted
        self.cameraOff = cameraOff
        self.devicesOpen = devicesOpen
        self.signalingUp = signalingUp
    }
}

public actor CallController {
    /// Every effect the owner must perform, in order (timers excluded: they run here).
    public nonisolated let effects: AsyncStream<CallEffect>
    private let continuation: AsyncStream<CallEffect>.Continuation
    private var machine: CallMachine
    private var timers: [CallTimer: (id: UInt64, task: Task<Void, Never>)] = [:]
    private var nextTimerID: UInt64 = 0
    private let sleep: @Sendable (Double) async throws -> Void
    private let logger: Logger
    private var started = false

    /// `sleep` waits the given seconds (injected so tests can run timers fast or by hand).
    public init(settings: CallSettings,
                logger: Logger = Logger(label: "videophone.call"),
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }) {
        machine = CallMachine(settings: settings)
        self.sleep = sleep
        self.logger = logger
        (effects, continuation) = AsyncStream.makeStream(of: CallEffect.self)
    }

    /// Emits the start-up effects (join the home room; open devices only with keep_warm).
    public func start() {
        guard !started else { return }
        started = true
        perform(machine.start())
    }

    /// Feeds one event; its effects are on ``effects`` when this returns.
    @discardableResult
    public func send(_ event: CallEvent) -> CallDisposition {
        let before = machine.phase
        let step = machine.handle(event)
        switch step.disposition {
        case .handled:
            if machine.phase != before {
                logger.info("call state", metadata: ["from": "\(before.rawValue)", "to": "\(machine.phase.rawValue)",
                                                     "event": "\(Self.name(of: event))"])
            }
        case .ignored(let why):
            logger.debug("event ignored", metadata: ["phase": "\(before.rawValue)", "event": "\(Self.name(of: event))", "why": "\(why)"])
        }
        perform(step.effects)
        return step.disposition
    }

    /// Convenience for buttons and the control socket.
    @discardableResult
    public func press(_ action: ApplianceAction) -> CallDisposition { send(.action(action)) }

    /// New settings (remote configuration): take effect from the next call; a new home room is joined
    /// at once when idle.
    public func update(settings: CallSettings) {
        let homeChanged = settings.homeRoom != machine.settings.homeRoom
        let warmChanged = settings.keepWarm != machine.settings.keepWarm
        machine.settings = settings
        if warmChanged { perform(machine.reconcileDevices()) }
        if homeChanged && (machine.phase == .idle || machine.phase == .connecting) && machine.trip == nil {
            perform(machine.moveHome())
        }
    }

    public var snapshot: CallSnapshot {
        CallSnapshot(phase: machine.phase, room: machine.room, peerName: machine.peer?.name,
                     members: machine.members.map(\.name), status: machine.statusText, muted: machine.muted,
                     cameraOff: machine.cameraOff, devicesOpen: machine.devicesOpen, signalingUp: machine.signalingUp)
    }

    public var phase: CallPhase { machine.phase }

    /// Cancels the timers and ends the effect stream.
    public func stop() {
        for (_, t) in timers { t.task.cancel() }
        timers = [:]
        continuation.finish()
    }

    private func perform(_ effects: [CallEffect]) {
        for effect in effects {
            switch effect {
            case .startTimer(let kind, let seconds): startTimer(kind, seconds)
            case .cancelTimer(let kind): timers.removeValue(forKey: kind)?.task.cancel()
            default: continuation.yield(effect)
            }
        }
    }

    private func startTimer(_ kind: CallTimer, _ seconds: Double) {
        timers[kind]?.task.cancel()
        nextTimerID &+= 1
        let id = nextTimerID
        let sleep = self.sleep
        let task = Task { [weak self] in
            do { try await sleep(seconds) } catch { return }
            await self?.fire(kind, id: id)
        }
        timers[kind] = (id, task)
    }

    private func fire(_ kind: CallTimer, id: UInt64) {
        guard timers[kind]?.id == id else { return }   // cancelled or restarted meanwhile
        timers[kind] = nil
        send(.timerFired(kind))
    }

    static func name(of event: CallEvent) -> String {
        switch event {
        case .action(let a): return "action \(a)"
        case .timerFired(let t): return "timer \(t.rawValue)"
        default:
            let s = "\(event)"
            return String(s.prefix { $0 != "(" })
        }
    }
}

extension CallMachine {
    /// Goes to the (new) home room when idle (remote configuration changed `signaling.room`).
    mutating func moveHome() -> [CallEffect] {
        guard targetRoom != settings.homeRoom else { return [] }
        return relocate(to: settings.homeRoom)
    }
}
