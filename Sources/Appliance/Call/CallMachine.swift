// The appliance's call state machine: the seed's call flow (shared/seed/video-chat-workflow.md §4-§8:
// room:join → room:joined / room:full, user:call → incoming:call → call:accepted, ice:candidate,
// call:end → call:ended) plus what an unattended appliance needs on top: ring and set-up timeouts,
// busy decline, auto-answer, single-button mode, speed dial, one ICE restart (RFC 8445 §9) before
// hanging up, consent loss (RFC 7675), and camera/microphone closed while idle (privacy).
//
// Pure: `handle` maps (state, event) to (state, effects); every event is handled or ignored on purpose
// in every phase (the disposition says which and why). No clocks, no I/O.
import SignalingCore

/// The settings the machine needs (a slice of ApplianceConfig, so tests can build them directly).
public struct CallSettings: Sendable, Equatable {
    public var homeRoom: String
    public var autoAnswer: ApplianceConfig.AutoAnswer
    public var autoAnswerDelay: Double
    public var allowedCallers: [String]
    public var ringTimeout: Double
    public var setupTimeout: Double
    public var keepWarm: Bool
    public var speedDialRooms: [String]
    /// How long to wait for the media stack to report closed before going idle anyway.
    public var endingTimeout: Double = 3
    /// Delay before trying a full room again.
    public var rejoinDelay: Double = 30
    /// Connected but neither `room:joined` nor `room:full` after this long: ask again (a reply can
    /// be lost with a connection that is dropping), rather than wait on "Joining the room…" forever.
    public var joinReplyTimeout: Double = 8

    public init(homeRoom: String = "home", autoAnswer: ApplianceConfig.AutoAnswer = .off, autoAnswerDelay: Double = 5,
                allowedCallers: [String] = [], ringTimeout: Double = 45, setupTimeout: Double = 20,
                keepWarm: Bool = false, speedDialRooms: [String] = []) {
        self.homeRoom = homeRoom
        self.autoAnswer = autoAnswer
        self.autoAnswerDelay = autoAnswerDelay
        self.allowedCallers = allowedCallers
        self.ringTimeout = ringTimeout
        self.setupTimeout = setupTimeout
        self.keepWarm = keepWarm
        self.speedDialRooms = speedDialRooms
    }

    public init(_ config: ApplianceConfig) {
        self.init(homeRoom: config.signaling.room, autoAnswer: config.call.autoAnswer,
                  autoAnswerDelay: config.call.autoAnswerDelay, allowedCallers: config.call.allowedCallers,
                  ringTimeout: config.call.ringTimeout, setupTimeout: config.call.setupTimeout,
                  keepWarm: config.camera.keepWarm, speedDialRooms: config.speedDial.rooms)
    }
}

/// A speed-dial round trip: go to the contact room, call whoever is there, come back home.
public struct SpeedDialTrip: Sendable, Equatable {
    public enum Stage: Sendable, Equatable { case going, arrived, returning }
    public var room: String
    public var stage: Stage
    /// What to show once back home (why the trip ended), if anything.
    public var note: String?
}

/// One step's result.
public struct CallStep: Sendable, Equatable {
    public var effects: [CallEffect]
    public var disposition: CallDisposition
}

public struct CallMachine: Sendable {
    public var settings: CallSettings
    public private(set) var phase: CallPhase = .connecting
    public private(set) var signalingUp = false
    /// The room we are in (from `room:joined`); `nil` while not in one.
    public private(set) var room: String?
    /// The room we want to be in (home, or a speed-dial contact room).
    public private(set) var targetRoom: String
    public private(set) var selfID: String?
    /// The other members of the room.
    public private(set) var members: [RoomUser] = []
    /// The other party of the current call (calling, ringing, autoAnswerPending, inCall).
    public private(set) var peer: RoomUser?
    public private(set) var devicesOpen = false
    public private(set) var muted = false
    public private(set) var cameraOff = false
    public private(set) var mediaConnected = false
    public private(set) var iceRestarted = false
    public private(set) var trip: SpeedDialTrip?
    public private(set) var statusText = ""
    private var pendingOffer: SessionDescription?
    private var pendingCandidates: [IceCandidate?] = []
    private var offerSent = false
    /// We answer this call and have not sent `call:accepted` yet (later local answers are renegotiation).
    private var owesAnswer = false

    /// Candidates buffered while ringing beyond this are dropped (a flood must not grow memory).
    static let maxPendingCandidates = 64

    public init(settings: CallSettings) {
        self.settings = settings
        targetRoom = settings.homeRoom
    }

    /// The first effects: be in the home room; open devices now only with `keep_warm`.
    public mutating func start() -> [CallEffect] {
        var e: [CallEffect] = [.joinRoom(targetRoom)]
        if settings.keepWarm { devicesOpen = true; e.append(.openDevices) }
        e.append(status("Connecting to the server…"))
        return e
    }

    public var isInCall: Bool { [.calling, .ringing, .autoAnswerPending, .inCall].contains(phase) }

    // MARK: Events

    public mutating func handle(_ event: CallEvent) -> CallStep {
        switch event {
        case .signalingConnected: return signalingConnected()
        case .signalingLost: return signalingLost()
        case .roomJoined(let j): return roomJoined(j)
        case .roomFull(let r): return roomFull(r)
        case .memberJoined(let u): return memberJoined(u)
        case .memberLeft(let u): return memberLeft(u)
        case .incomingCall(let from, let offer): return incomingCall(from, offer)
        case .callAccepted(let from, let answer):
            guard phase == .calling, from == peer?.id else { return ignored("call:accepted not for a call we placed") }
            phase = .inCall
            return handled([.cancelTimer(.ring), .media(.setRemoteAnswer(answer)),
                            .startTimer(.setup, seconds: settings.setupTimeout), status("Connecting to \(peerName)…")])
        case .callEnded(let from):
            guard from == peer?.id else { return ignored("call:end not from the current peer") }
            switch phase {
            case .calling: return handled(hangUp(notify: false, "\(peerName) did not take the call"))
            case .ringing, .autoAnswerPending: return handled(stopRinging(notify: false, "Missed call from \(peerName)"))
            case .inCall: return handled(hangUp(notify: false, "\(peerName) hung up"))
            case .connecting, .idle, .ending: return ignored("no call in progress")
            }
        case .remoteCandidate(let from, let c):
            guard from == peer?.id else { return ignored("candidate not from the current peer") }
            switch phase {
            case .ringing, .autoAnswerPending:
                guard pendingCandidates.count < Self.maxPendingCandidates else { return ignored("too many early candidates") }
                pendingCandidates.append(c)
                return handled([])
            case .calling, .inCall: return handled([.media(.addRemoteCandidate(c))])
            case .connecting, .idle, .ending: return ignored("no call in progress")
            }
        case .renegotiationOffer(let from, let offer):
            guard phase == .inCall, from == peer?.id else { return ignored("renegotiation outside the current call") }
            return handled([.media(.applyRemoteOffer(offer))])
        case .renegotiationAnswer(let from, let answer):
            guard phase == .inCall, from == peer?.id else { return ignored("renegotiation outside the current call") }
            return handled([.media(.setRemoteAnswer(answer))])
        case .chat(let m): return handled([.showChat([m])])
        case .action(let a): return action(a)
        case .timerFired(let t): return timerFired(t)
        case .localDescription(let d): return localDescription(d)
        case .localCandidate(let c):
            guard phase == .calling || phase == .inCall, let peer else { return ignored("no call to send candidates to") }
            return handled([.emit(.iceCandidate(to: peer.id, candidate: c))])
        case .iceConnected:
            guard phase == .inCall else { return ignored("no call in progress") }
            mediaConnected = true
            return handled([.cancelTimer(.setup), status("In a call with \(peerName)")])
        case .iceFailed:
            guard phase == .inCall else { return ignored("no call in progress") }
            guard !iceRestarted else { return handled(hangUp(notify: true, "The call was lost")) }
            iceRestarted = true
            mediaConnected = false
            return handled([.media(.restartIce), .startTimer(.setup, seconds: settings.setupTimeout),
                            status("Reconnecting the call…")])
        case .peerGone:
            guard phase == .inCall else { return ignored("no call in progress") }
            return handled(hangUp(notify: true, "The connection to \(peerName) was lost"))
        case .mediaClosed:
            guard phase == .ending else { return ignored("media closed outside ending") }
            return handled(finishEnding())
        case .mediaFailed:
            guard phase == .calling || phase == .inCall else { return ignored("no call in progress") }
            return handled(hangUp(notify: true, "The call could not be started"))
        }
    }

    // MARK: Signaling

    private mutating func signalingConnected() -> CallStep {
        signalingUp = true
        guard phase == .connecting else { return handled([]) }
        // SignalingClient re-sends room:join for the room it was told to be in.
        return handled([.startTimer(.rejoin, seconds: settings.joinReplyTimeout), status("Joining the room…")])
    }

    private mutating func signalingLost() -> CallStep {
        signalingUp = false
        room = nil
        selfID = nil
        members = []
        switch phase {
        case .connecting, .idle:
            phase = .connecting
            return handled([.cancelTimer(.rejoin), status("Cannot reach the server — retrying")])
        case .calling, .ringing, .autoAnswerPending, .inCall, .ending:
            // The media call goes on (peer to peer); timers bound a call that is not yet connected.
            return handled([])
        }
    }

    private mutating func roomJoined(_ j: RoomJoined) -> CallStep {
        signalingUp = true
        room = j.room
        selfID = j.id
        members = j.users.filter { $0.id != j.id }
        var e: [CallEffect] = [.cancelTimer(.rejoin)]
        if !j.messages.isEmpty { e.append(.showChat(j.messages)) }
        if let p = peer, !members.contains(where: { $0.id == p.id }),
           let same = members.first(where: { $0.name == p.name }) {
            peer = same   // the peer reconnected under a new socket id
        }
        switch phase {
        case .connecting:
            phase = .idle
            e += arrived()
        case .idle:
            e += arrived()
        case .calling, .ringing, .autoAnswerPending, .inCall, .ending:
            break   // back in the room after a reconnection; the call is unaffected
        }
        return handled(e)
    }

    /// In a room and idle: finish a speed-dial leg or show who is here.
    private mutating func arrived() -> [CallEffect] {
        if var t = trip {
            switch t.stage {
            case .going where room == t.room:
                t.stage = .arrived
                trip = t
                if let other = members.first { return placeCall(to: other) }
                return returnHome(note: "Nobody is in \(t.room) right now")
            case .returning where room == settings.homeRoom:
                trip = nil
                return [status(t.note ?? idleText)]
            default:
                break
            }
        }
        return [status(idleText)]
    }

    private mutating func roomFull(_ r: String) -> CallStep {
        room = nil
        if phase == .idle { phase = .connecting }
        if phase == .connecting, let t = trip, t.stage == .going, t.room == r {
            return handled(returnHome(note: "\(r) is full right now"))
        }
        let e: [CallEffect] = [.startTimer(.rejoin, seconds: settings.rejoinDelay)]
        return handled(phase == .connecting ? e + [status("The room is full")] : e)
    }

    private mutating func memberJoined(_ u: RoomUser) -> CallStep {
        guard u.id != selfID else { return ignored("our own join") }
        members.removeAll { $0.id == u.id }
        members.append(u)
        if let p = peer, p.id != u.id, p.name == u.name, !members.contains(where: { $0.id == p.id }) {
            peer = u   // the peer reconnected (e.g. signaling restarted) under a new socket id
        }
        return handled(phase == .idle ? [status(idleText)] : [])
    }

    private mutating func memberLeft(_ u: RoomUser) -> CallStep {
        members.removeAll { $0.id == u.id }
        guard let p = peer, p.id == u.id else { return handled(phase == .idle ? [status(idleText)] : []) }
        switch phase {
        case .calling: return handled(hangUp(notify: false, "\(p.name) left"))
        case .ringing, .autoAnswerPending: return handled(stopRinging(notify: false, "\(p.name) left"))
        case .inCall:
            // Connected media outlives the peer's signaling (it may be reconnecting): consent freshness
            // decides. A call still setting up cannot finish without signaling.
            return mediaConnected ? handled([]) : handled(hangUp(notify: false, "\(p.name) left"))
        case .connecting, .idle, .ending: return handled([])
        }
    }

    private mutating func incomingCall(_ from: String, _ offer: SessionDescription) -> CallStep {
        switch phase {
        case .idle:
            return handled(ring(from: from, offer: offer))
        case .calling where from == peer?.id:
            // Both pressed call (glare): the side with the smaller socket id answers, the other keeps its offer.
            guard let me = selfID, me > from else { return ignored("glare: our offer stands") }
            phase = .inCall
            resetCallFlags(answering: true)
            return handled([.cancelTimer(.ring), .media(.stop), .media(.start(.answerer(offer: offer))),
                            .startTimer(.setup, seconds: settings.setupTimeout), status("Connecting to \(peerName)…")])
        case .ringing where from == peer?.id, .autoAnswerPending where from == peer?.id:
            pendingOffer = offer   // the caller offered again; answer the latest
            pendingCandidates = []
            return handled([])
        case .inCall where from == peer?.id:
            // The peer started over (e.g. reloaded): answer the new offer in place of the old call.
            resetCallFlags(answering: true)
            return handled([.media(.stop), .media(.start(.answerer(offer: offer))),
                            .startTimer(.setup, seconds: settings.setupTimeout), status("Reconnecting the call…")])
        case .connecting, .calling, .ringing, .autoAnswerPending, .inCall, .ending:
            return handled([.emit(.endCall(to: from))])   // busy (or not in a room): decline
        }
    }

    // MARK: Local actions

    private mutating func action(_ a: ApplianceAction) -> CallStep {
        switch a {
        case .call:
            switch phase {
            case .idle:
                guard let other = members.first else { return handled([status("Nobody else is in the room")]) }
                return handled(placeCall(to: other))
            case .ringing, .autoAnswerPending: return handled(answer())
            case .connecting: return handled([status(connectingText)])
            case .calling, .inCall, .ending: return ignored("already in a call")
            }
        case .accept:
            guard phase == .ringing || phase == .autoAnswerPending else { return ignored("no incoming call") }
            return handled(answer())
        case .end:
            switch phase {
            case .calling, .inCall: return handled(hangUp(notify: true, "Call ended"))
            case .ringing, .autoAnswerPending: return handled(stopRinging(notify: true, "Call declined"))
            case .idle where trip != nil: return handled(returnHome(note: nil))
            case .idle, .connecting, .ending: return ignored("no call to end")
            }
        case .mute:
            muted.toggle()
            let e: [CallEffect] = devicesOpen ? [.setMicrophoneMuted(muted)] : []
            return handled(e + [status(muted ? "Microphone off" : "Microphone on")])
        case .cameraToggle:
            cameraOff.toggle()
            let e: [CallEffect] = devicesOpen ? [.setCameraEnabled(!cameraOff)] : []
            return handled(e + [status(cameraOff ? "Camera off" : "Camera on")])
        case .speedDial(let n):
            guard settings.speedDialRooms.indices.contains(n - 1) else {
                return handled([status("Speed dial \(n) is not set up")])
            }
            let target = settings.speedDialRooms[n - 1]
            switch phase {
            case .idle:
                if room == target {
                    guard let other = members.first else { return handled([status("Nobody is in \(target) right now")]) }
                    return handled(placeCall(to: other))
                }
                trip = SpeedDialTrip(room: target, stage: .going, note: nil)
                return handled(moveTo(target) + [status("Going to \(target)…")])
            case .connecting: return handled([status(connectingText)])
            case .calling, .ringing, .autoAnswerPending, .inCall, .ending: return ignored("busy with a call")
            }
        case .single:
            switch phase {
            case .idle, .connecting: return action(.call)
            case .ringing, .autoAnswerPending: return action(.accept)
            case .calling, .inCall: return action(.end)
            case .ending: return ignored("the call is ending")
            }
        }
    }

    // MARK: Timers and media

    private mutating func timerFired(_ t: CallTimer) -> CallStep {
        switch t {
        case .ring:
            switch phase {
            case .calling: return handled(hangUp(notify: true, "\(peerName) did not answer"))
            case .ringing, .autoAnswerPending: return handled(stopRinging(notify: true, "Missed call from \(peerName)"))
            case .connecting, .idle, .inCall, .ending: return ignored("stale ring timer")
            }
        case .setup:
            guard phase == .inCall, !mediaConnected else { return ignored("stale set-up timer") }
            return handled(hangUp(notify: true, "The call could not be connected"))
        case .autoAnswer:
            guard phase == .autoAnswerPending else { return ignored("stale auto-answer timer") }
            return handled([.beep] + answer())
        case .ending:
            guard phase == .ending else { return ignored("stale ending timer") }
            return handled(finishEnding())
        case .rejoin:
            guard room == nil, signalingUp else { return ignored("already in a room or offline") }
            // Asked again until a reply comes: room:full restarts this timer with its own delay.
            return handled([.joinRoom(targetRoom), .startTimer(.rejoin, seconds: settings.joinReplyTimeout)])
        }
    }

    private mutating func localDescription(_ d: SessionDescription) -> CallStep {
        guard let peer else { return ignored("no call in progress") }
        switch (phase, d.type) {
        case (.calling, .offer) where !offerSent:
            offerSent = true
            return handled([.emit(.call(to: peer.id, offer: d))])
        case (.inCall, .offer):
            return handled([.emit(.negotiationNeeded(to: peer.id, offer: d))])   // our ICE restart
        case (.inCall, .answer):
            guard owesAnswer else { return handled([.emit(.negotiationDone(to: peer.id, answer: d))]) }
            owesAnswer = false
            return handled([.emit(.accept(to: peer.id, answer: d))])
        default:
            return ignored("local \(d.type.rawValue) does not fit phase \(phase.rawValue)")
        }
    }

    // MARK: Building blocks

    private mutating func placeCall(to other: RoomUser) -> [CallEffect] {
        peer = other
        phase = .calling
        resetCallFlags()
        return openDevices() + [.media(.start(.offerer))] + mediaToggles()
            + [.startTimer(.ring, seconds: settings.ringTimeout), status("Calling \(other.name)…")]
    }

    private mutating func ring(from: String, offer: SessionDescription) -> [CallEffect] {
        let name = members.first { $0.id == from }?.name ?? "Someone"
        peer = RoomUser(id: from, name: name)
        pendingOffer = offer
        pendingCandidates = []
        let allowed = settings.allowedCallers.isEmpty
            || settings.allowedCallers.contains { $0.caseInsensitiveCompare(name) == .orderedSame }
        switch settings.autoAnswer {
        case .immediate where allowed:
            phase = .ringing
            return [.beep] + answer()
        case .after where allowed:
            phase = .autoAnswerPending
            let delay = ConfigReader.format(settings.autoAnswerDelay)
            return [.ringTone(true), .startTimer(.ring, seconds: settings.ringTimeout),
                    .startTimer(.autoAnswer, seconds: settings.autoAnswerDelay),
                    status("Incoming call from \(name) — answering in \(delay) s")]
        default:
            phase = .ringing
            return [.ringTone(true), .startTimer(.ring, seconds: settings.ringTimeout), status("Incoming call from \(name)")]
        }
    }

    private mutating func answer() -> [CallEffect] {
        guard let offer = pendingOffer else { return stopRinging(notify: true, "The call could not be answered") }
        phase = .inCall
        resetCallFlags(answering: true)
        let early = pendingCandidates.map { CallEffect.media(.addRemoteCandidate($0)) }
        pendingOffer = nil
        pendingCandidates = []
        return [.ringTone(false), .cancelTimer(.ring), .cancelTimer(.autoAnswer)] + openDevices()
            + [.media(.start(.answerer(offer: offer)))] + early + mediaToggles()
            + [.startTimer(.setup, seconds: settings.setupTimeout), status("Connecting to \(peerName)…")]
    }

    /// Ends a call that has media (calling, inCall): tell the peer, close media and devices.
    private mutating func hangUp(notify: Bool, _ reason: String) -> [CallEffect] {
        var e: [CallEffect] = []
        if notify, let peer { e.append(.emit(.endCall(to: peer.id))) }
        e += [.cancelTimer(.ring), .cancelTimer(.setup), .media(.stop)] + closeDevices()
        e += [.startTimer(.ending, seconds: settings.endingTimeout), status(reason)]
        clearCall()
        phase = .ending
        if muted { muted = false; e.append(.setMicrophoneMuted(false)) }
        return e
    }

    /// Ends an unanswered incoming call (no media was started).
    private mutating func stopRinging(notify: Bool, _ reason: String) -> [CallEffect] {
        var e: [CallEffect] = []
        if notify, let peer { e.append(.emit(.endCall(to: peer.id))) }
        e += [.ringTone(false), .cancelTimer(.ring), .cancelTimer(.autoAnswer), status(reason)]
        clearCall()
        phase = room == nil ? .connecting : .idle
        return e
    }

    private mutating func finishEnding() -> [CallEffect] {
        phase = room == nil ? .connecting : .idle
        var e: [CallEffect] = [.cancelTimer(.ending)]
        if let t = trip, t.stage == .arrived { e += returnHome(note: statusText) }
        return e
    }

    private mutating func returnHome(note: String?) -> [CallEffect] {
        trip = SpeedDialTrip(room: settings.homeRoom, stage: .returning, note: note)
        return moveTo(settings.homeRoom) + (note.map { [status($0)] } ?? [])
    }

    /// Opens or closes the devices after `keep_warm` changed (remote configuration).
    mutating func reconcileDevices() -> [CallEffect] {
        let wanted = settings.keepWarm || phase == .calling || phase == .inCall
        if wanted && !devicesOpen { devicesOpen = true; return [.openDevices] }
        if !wanted && devicesOpen { devicesOpen = false; return [.closeDevices] }
        return []
    }

    /// Moves to another room outside a speed-dial trip (a new home room from remote configuration).
    mutating func relocate(to target: String) -> [CallEffect] {
        moveTo(target) + [status("Going to \(target)…")]
    }

    private mutating func moveTo(_ target: String) -> [CallEffect] {
        targetRoom = target
        room = nil
        members = []
        phase = .connecting
        return [.joinRoom(target)]
    }

    private mutating func openDevices() -> [CallEffect] {
        guard !devicesOpen else { return [] }
        devicesOpen = true
        return [.openDevices]
    }

    private mutating func closeDevices() -> [CallEffect] {
        guard devicesOpen, !settings.keepWarm else { return [] }
        devicesOpen = false
        return [.closeDevices]
    }

    private func mediaToggles() -> [CallEffect] {
        (muted ? [.setMicrophoneMuted(true)] : []) + (cameraOff ? [.setCameraEnabled(false)] : [])
    }

    private mutating func resetCallFlags(answering: Bool = false) {
        offerSent = false
        owesAnswer = answering
        mediaConnected = false
        iceRestarted = false
    }

    private mutating func clearCall() {
        peer = nil
        pendingOffer = nil
        pendingCandidates = []
        resetCallFlags()
    }

    private var peerName: String { peer?.name ?? "the other side" }

    private var idleText: String {
        switch members.count {
        case 0: return "Nobody else is in the room"
        case 1: return "\(members[0].name) is here — press Call"
        default: return members.map(\.name).joined(separator: ", ") + " are here — press Call"
        }
    }

    private var connectingText: String {
        signalingUp ? "Still joining the room — try again in a moment" : "Cannot reach the server — retrying"
    }

    private mutating func status(_ text: String) -> CallEffect {
        statusText = text
        return .status(text)
    }

}

// Free functions, not methods: their arguments often mutate the machine (status text), which a
// method call on `self` would overlap with.
private func handled(_ e: [CallEffect]) -> CallStep { CallStep(effects: e, disposition: .handled) }
private func ignored(_ why: String) -> CallStep { CallStep(effects: [], disposition: .ignored(why)) }
