import Appliance
import SignalingCore
import Testing

/// Drives a CallMachine and tracks what its effects leave running (timers, ring tone).
struct Harness {
    var m: CallMachine
    var timers: Set<CallTimer> = []
    var ringing = false
    var log: [CallEffect] = []

    static let me = "m-self"
    static let bob = RoomUser(id: "b-bob", name: "Bob")
    static let carol = RoomUser(id: "z-carol", name: "Carol")
    static let grandma = RoomUser(id: "g-gran", name: "Grandma")
    static let offer = SessionDescription(type: .offer, sdp: "v=0 offer")
    static let answer = SessionDescription(type: .answer, sdp: "v=0 answer")
    static let candidate = IceCandidate(candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0)

    init(_ settings: CallSettings = CallSettings()) {
        m = CallMachine(settings: settings)
        apply(m.start())
    }

    @discardableResult
    mutating func send(_ e: CallEvent) -> CallStep {
        if case .timerFired(let t) = e { timers.remove(t) }
        let step = m.handle(e)
        apply(step.effects)
        return step
    }

    mutating func apply(_ effects: [CallEffect]) {
        for e in effects {
            switch e {
            case .startTimer(let t, _): timers.insert(t)
            case .cancelTimer(let t): timers.remove(t)
            case .ringTone(let on): ringing = on
            default: break
            }
        }
        log += effects
    }

    static func joined(_ room: String = "home", _ users: [RoomUser] = [bob], messages: [ChatMessage] = []) -> CallEvent {
        .roomJoined(RoomJoined(room: room, id: me, users: [RoomUser(id: me, name: "Kitchen")] + users, messages: messages))
    }

    /// Reaches `phase` through real events.
    static func reach(_ phase: CallPhase, settings: CallSettings = CallSettings(speedDialRooms: ["grandma"])) -> Harness {
        var s = settings
        if phase == .autoAnswerPending { s.autoAnswer = .after }
        var h = Harness(s)
        if phase == .connecting { return h }
        h.send(.signalingConnected)
        h.send(joined())
        switch phase {
        case .connecting, .idle: break
        case .calling: h.send(.action(.call)); h.send(.localDescription(offer))
        case .ringing, .autoAnswerPending: h.send(.incomingCall(from: bob.id, offer: offer))
        case .inCall, .ending:
            h.send(.action(.call)); h.send(.localDescription(offer))
            h.send(.callAccepted(from: bob.id, answer: answer)); h.send(.iceConnected)
            if phase == .ending { h.send(.action(.end)) }
        }
        precondition(h.m.phase == phase, "reach(\(phase)) got \(h.m.phase)")
        h.log = []
        return h
    }

    var statuses: [String] { log.compactMap { if case .status(let s) = $0 { return s } else { return nil } } }
    var emitted: [ClientEvent] { log.compactMap { if case .emit(let e) = $0 { return e } else { return nil } } }
}

/// Every CallEvent case, by name; the switch has no default so a new case must be added here (and to
/// the exhaustive table below).
func kind(_ e: CallEvent) -> String {
    switch e {
    case .signalingConnected: return "signalingConnected"
    case .signalingLost: return "signalingLost"
    case .roomJoined: return "roomJoined"
    case .roomFull: return "roomFull"
    case .memberJoined: return "memberJoined"
    case .memberLeft: return "memberLeft"
    case .incomingCall: return "incomingCall"
    case .callAccepted: return "callAccepted"
    case .callEnded: return "callEnded"
    case .remoteCandidate: return "remoteCandidate"
    case .renegotiationOffer: return "renegotiationOffer"
    case .renegotiationAnswer: return "renegotiationAnswer"
    case .chat: return "chat"
    case .action: return "action"
    case .timerFired: return "timerFired"
    case .localDescription: return "localDescription"
    case .localCandidate: return "localCandidate"
    case .iceConnected: return "iceConnected"
    case .iceFailed: return "iceFailed"
    case .peerGone: return "peerGone"
    case .mediaClosed: return "mediaClosed"
    case .mediaFailed: return "mediaFailed"
    }
}

@Suite struct CallMachineExhaustiveTests {
    typealias H = Harness
    static let letters: [CallPhase: Character] = [.connecting: "C", .idle: "I", .calling: "L", .ringing: "R",
                                                  .autoAnswerPending: "A", .inCall: "N", .ending: "E"]

    /// Each event (with variants: from the peer or a stranger) and the phase it must lead to from each
    /// phase, in CallPhase.allCases order: connecting, idle, calling, ringing, autoAnswerPending, inCall, ending.
    static let table: [(String, CallEvent, String)] = [
        ("signaling connected", .signalingConnected, "CILRANE"),
        ("signaling lost: the call goes on", .signalingLost, "CCLRANE"),
        ("room joined", H.joined(), "IILRANE"),
        ("room full", .roomFull(room: "home"), "CCLRANE"),
        ("member joined", .memberJoined(H.carol), "CILRANE"),
        ("peer left (connected media stays)", .memberLeft(H.bob), "CIEIINE"),
        ("stranger left", .memberLeft(H.carol), "CILRANE"),
        ("incoming from the peer (glare, re-offer, restart)", .incomingCall(from: H.bob.id, offer: H.offer), "CRNRANE"),
        ("incoming from a stranger (busy elsewhere)", .incomingCall(from: H.carol.id, offer: H.offer), "CRLRANE"),
        ("accepted by the peer", .callAccepted(from: H.bob.id, answer: H.answer), "CINRANE"),
        ("accepted by a stranger", .callAccepted(from: H.carol.id, answer: H.answer), "CILRANE"),
        ("ended by the peer", .callEnded(from: H.bob.id), "CIEIIEE"),
        ("ended by a stranger", .callEnded(from: H.carol.id), "CILRANE"),
        ("remote candidate", .remoteCandidate(from: H.bob.id, candidate: H.candidate), "CILRANE"),
        ("remote end of candidates", .remoteCandidate(from: H.bob.id, candidate: nil), "CILRANE"),
        ("stranger's candidate", .remoteCandidate(from: H.carol.id, candidate: H.candidate), "CILRANE"),
        ("renegotiation offer", .renegotiationOffer(from: H.bob.id, offer: H.offer), "CILRANE"),
        ("renegotiation answer", .renegotiationAnswer(from: H.bob.id, answer: H.answer), "CILRANE"),
        ("chat", .chat(ChatMessage(id: "1", userName: "Bob", senderId: H.bob.id, text: "hi", timestamp: "1")), "CILRANE"),
        ("press call", .action(.call), "CLLNNNE"),
        ("press accept", .action(.accept), "CILNNNE"),
        ("press end", .action(.end), "CIEIIEE"),
        ("press mute", .action(.mute), "CILRANE"),
        ("press camera", .action(.cameraToggle), "CILRANE"),
        ("press speed dial 1", .action(.speedDial(1)), "CCLRANE"),
        ("press unset speed dial", .action(.speedDial(9)), "CILRANE"),
        ("press the single button", .action(.single), "CLENNEE"),
        ("ring timeout", .timerFired(.ring), "CIEIINE"),
        ("set-up timeout (media connected)", .timerFired(.setup), "CILRANE"),
        ("auto-answer timer", .timerFired(.autoAnswer), "CILRNNE"),
        ("ending timer", .timerFired(.ending), "CILRANI"),
        ("rejoin timer", .timerFired(.rejoin), "CILRANE"),
        ("local offer", .localDescription(H.offer), "CILRANE"),
        ("local answer", .localDescription(H.answer), "CILRANE"),
        ("local candidate", .localCandidate(H.candidate), "CILRANE"),
        ("local end of candidates", .localCandidate(nil), "CILRANE"),
        ("ICE connected", .iceConnected, "CILRANE"),
        ("ICE failed (first: restart)", .iceFailed, "CILRANE"),
        ("consent lost", .peerGone, "CILRAEE"),
        ("media closed", .mediaClosed, "CILRANI"),
        ("media failed", .mediaFailed("camera busy"), "CIERAEE"),
    ]

    @Test func tableCoversEveryEventKind() {
        let all: Set<String> = ["signalingConnected", "signalingLost", "roomJoined", "roomFull", "memberJoined", "memberLeft",
                                "incomingCall", "callAccepted", "callEnded", "remoteCandidate", "renegotiationOffer",
                                "renegotiationAnswer", "chat", "action", "timerFired", "localDescription", "localCandidate",
                                "iceConnected", "iceFailed", "peerGone", "mediaClosed", "mediaFailed"]
        #expect(Set(Self.table.map { kind($0.1) }) == all)
        let actions = Self.table.compactMap { if case .action(let a) = $0.1 { return "\(a)".prefix { $0 != "(" } } else { return nil } }
        #expect(Set(actions) == ["call", "accept", "end", "mute", "cameraToggle", "speedDial", "single"])
        let timers = Self.table.compactMap { if case .timerFired(let t) = $0.1 { return t } else { return nil } }
        #expect(Set(timers) == Set(CallTimer.allCases))
    }

    @Test(arguments: CallPhase.allCases)
    func everyEventInPhase(_ phase: CallPhase) {
        let column = CallPhase.allCases.firstIndex(of: phase)!
        for (label, event, expected) in Self.table {
            var h = H.reach(phase)
            let before = h.m.phase
            let step = h.send(event)
            let want = Array(expected)[column]
            #expect(Self.letters[h.m.phase] == want, "\(phase) + \(label): got \(h.m.phase)")
            if case .ignored(let why) = step.disposition {
                #expect(step.effects.isEmpty && h.m.phase == before, "\(phase) + \(label): ignored but acted")
                #expect(!why.isEmpty)
            }
            Self.checkInvariants(h, "\(phase) + \(label)", event: event)
        }
    }

    /// Keep-warm variant: devices stay open in every phase, never closed.
    @Test(arguments: CallPhase.allCases)
    func keepWarmNeverClosesDevices(_ phase: CallPhase) {
        for (label, event, _) in Self.table {
            var h = H.reach(phase, settings: CallSettings(keepWarm: true, speedDialRooms: ["grandma"]))
            h.send(event)
            #expect(h.m.devicesOpen, "\(phase) + \(label)")
            #expect(!h.log.contains(.closeDevices), "\(phase) + \(label)")
        }
    }

    static func checkInvariants(_ h: H, _ context: String, event: CallEvent) {
        let inCallPhases: Set<CallPhase> = [.calling, .ringing, .autoAnswerPending, .inCall]
        #expect((h.m.peer != nil) == inCallPhases.contains(h.m.phase), "\(context): peer \(String(describing: h.m.peer))")
        // Privacy: camera and microphone open only while placing or in a call.
        #expect(h.m.devicesOpen == [.calling, .inCall].contains(h.m.phase), "\(context): devicesOpen \(h.m.devicesOpen)")
        #expect(h.ringing == [.ringing, .autoAnswerPending].contains(h.m.phase), "\(context): ring tone \(h.ringing)")
        let allowed: [CallTimer: Set<CallPhase>] = [.ring: [.calling, .ringing, .autoAnswerPending], .setup: [.inCall],
                                                    .autoAnswer: [.autoAnswerPending], .ending: [.ending],
                                                    .rejoin: Set(CallPhase.allCases)]
        for t in h.timers { #expect(allowed[t]!.contains(h.m.phase), "\(context): timer \(t) left running") }
        var known: Set<String> = [H.bob.id, H.carol.id]
        if case .incomingCall(let from, _) = event { known.insert(from) }
        for e in h.emitted {
            switch e {
            case .call(let to, _), .accept(let to, _), .negotiationNeeded(let to, _), .negotiationDone(let to, _),
                 .iceCandidate(let to, _), .endCall(let to):
                #expect(known.contains(to), "\(context): sent to \(to)")
            case .roomJoin, .chat, .leaveRoom: break
            }
        }
    }
}

@Suite struct CallScenarioTests {
    typealias H = Harness

    @Test func startsClosedAndJoinsHome() {
        let h = H(CallSettings(homeRoom: "kitchen"))
        #expect(h.log.contains(.joinRoom("kitchen")))
        #expect(!h.m.devicesOpen && !h.log.contains(.openDevices))
        #expect(h.m.phase == .connecting)
    }

    @Test func statusTextsInPlainWords() {
        var h = H()
        h.send(.signalingLost)
        #expect(h.statuses.last == "Cannot reach the server — retrying")
        h.send(.action(.call))
        #expect(h.statuses.last == "Cannot reach the server — retrying")
        h.send(.signalingConnected)
        h.send(H.joined("home", []))
        #expect(h.statuses.last == "Nobody else is in the room")
        h.send(.action(.call))
        #expect(h.statuses.last == "Nobody else is in the room")
        #expect(h.m.phase == .idle && !h.m.devicesOpen)
        h.send(.memberJoined(H.bob))
        #expect(h.statuses.last == "Bob is here — press Call")
        var full = H()
        full.send(.signalingConnected)
        full.send(.roomFull(room: "home"))
        #expect(full.statuses.last == "The room is full")
        #expect(full.timers.contains(.rejoin))
        full.send(.timerFired(.rejoin))
        #expect(full.log.contains(.joinRoom("home")))
    }

    /// A `room:joined` that never comes (lost with a dropping connection) does not leave the
    /// appliance on "Joining the room…" forever: the join is asked again until a reply arrives.
    @Test func unansweredJoinIsAskedAgain() {
        var h = H()
        h.send(.signalingConnected)
        #expect(h.timers.contains(.rejoin))
        let joinsBefore = h.log.filter { $0 == .joinRoom("home") }.count
        h.send(.timerFired(.rejoin))
        h.send(.timerFired(.rejoin))
        #expect(h.log.filter { $0 == .joinRoom("home") }.count == joinsBefore + 2)
        #expect(h.timers.contains(.rejoin))
        h.send(H.joined("home", [H.bob]))
        #expect(h.m.phase == .idle && !h.timers.contains(.rejoin))
        // Once in the room a stale timer changes nothing.
        let step = h.send(.timerFired(.rejoin))
        #expect(step.effects.isEmpty)
    }

    @Test func outgoingCallFlow() {
        var h = H.reach(.idle)
        h.send(.action(.call))
        #expect(h.log.prefix(2) == [.openDevices, .media(.start(.offerer))])
        #expect(h.statuses.last == "Calling Bob…")
        h.send(.localDescription(H.offer))
        #expect(h.emitted == [.call(to: H.bob.id, offer: H.offer)])
        h.send(.localCandidate(H.candidate))
        #expect(h.emitted.last == .iceCandidate(to: H.bob.id, candidate: H.candidate))
        h.send(.callAccepted(from: H.bob.id, answer: H.answer))
        #expect(h.log.contains(.media(.setRemoteAnswer(H.answer))))
        h.send(.iceConnected)
        #expect(h.statuses.last == "In a call with Bob")
        h.send(.callEnded(from: H.bob.id))
        #expect(h.statuses.last == "Bob hung up")
        #expect(h.log.contains(.media(.stop)) && h.log.contains(.closeDevices))
        h.send(.mediaClosed)
        #expect(h.m.phase == .idle && !h.m.devicesOpen)
    }

    @Test func incomingWhileBusyIsDeclinedWithCallEnd() {
        var h = H.reach(.inCall)
        h.send(.memberJoined(H.carol))
        let step = h.send(.incomingCall(from: H.carol.id, offer: H.offer))
        #expect(step.effects == [.emit(.endCall(to: H.carol.id))])
        #expect(h.m.phase == .inCall && h.m.peer == H.bob)
        var r = H.reach(.ringing)
        #expect(r.send(.incomingCall(from: H.carol.id, offer: H.offer)).effects == [.emit(.endCall(to: H.carol.id))])
        #expect(r.m.peer == H.bob)
    }

    @Test func signalingLostMidCallKeepsTheCallAndFollowsThePeersNewId() {
        var h = H.reach(.inCall)
        h.send(.signalingLost)
        #expect(h.m.phase == .inCall)
        #expect(!h.log.contains(.media(.stop)) && !h.log.contains(.closeDevices))
        h.send(.signalingConnected)
        let bobAgain = RoomUser(id: "b-bob-2", name: "Bob")
        h.send(H.joined("home", [bobAgain]))
        #expect(h.m.phase == .inCall && h.m.peer == bobAgain)
        h.send(.action(.end))
        #expect(h.emitted.last == .endCall(to: "b-bob-2"))
    }

    @Test func peerLeavingBeforeMediaConnectsEndsTheCall() {
        var h = H.reach(.calling)
        h.send(.callAccepted(from: H.bob.id, answer: H.answer))
        h.send(.memberLeft(H.bob))
        #expect(h.m.phase == .ending)
        #expect(h.statuses.last == "Bob left")
    }

    @Test func iceFailureRestartsOnceThenHangsUp() {
        var h = H.reach(.inCall)
        h.send(.iceFailed)
        #expect(h.log.contains(.media(.restartIce)))
        #expect(h.statuses.last == "Reconnecting the call…")
        h.send(.localDescription(H.offer))
        #expect(h.emitted.last == .negotiationNeeded(to: H.bob.id, offer: H.offer))
        h.send(.renegotiationAnswer(from: H.bob.id, answer: H.answer))
        #expect(h.log.last == .media(.setRemoteAnswer(H.answer)))
        h.send(.iceFailed)
        #expect(h.m.phase == .ending)
        #expect(h.emitted.last == .endCall(to: H.bob.id))
        #expect(h.statuses.last == "The call was lost")
    }

    @Test func restartThatNeverReconnectsTimesOut() {
        var h = H.reach(.inCall)
        h.send(.iceFailed)
        #expect(h.timers.contains(.setup))
        h.send(.timerFired(.setup))
        #expect(h.m.phase == .ending)
        #expect(h.statuses.last == "The call could not be connected")
    }

    @Test func consentLossHangsUp() {
        var h = H.reach(.inCall)
        h.send(.peerGone)
        #expect(h.m.phase == .ending && h.statuses.last == "The connection to Bob was lost")
    }

    @Test func manualAnswerBuffersEarlyCandidates() {
        var h = H.reach(.ringing)
        #expect(h.m.statusText == "Incoming call from Bob" && h.ringing)
        #expect(!h.m.devicesOpen)
        h.send(.remoteCandidate(from: H.bob.id, candidate: H.candidate))
        h.send(.remoteCandidate(from: H.bob.id, candidate: nil))
        h.log = []
        h.send(.action(.accept))
        #expect(h.log.contains(.ringTone(false)))
        let media = h.log.compactMap { if case .media(let c) = $0 { return c } else { return nil } }
        #expect(media == [.start(.answerer(offer: H.offer)), .addRemoteCandidate(H.candidate), .addRemoteCandidate(nil)])
        h.send(.localDescription(H.answer))
        #expect(h.emitted.last == .accept(to: H.bob.id, answer: H.answer))
        // A later local answer is renegotiation.
        h.send(.renegotiationOffer(from: H.bob.id, offer: H.offer))
        h.send(.localDescription(H.answer))
        #expect(h.emitted.last == .negotiationDone(to: H.bob.id, answer: H.answer))
    }

    @Test func ringTimeoutDeclines() {
        var h = H.reach(.ringing)
        h.send(.timerFired(.ring))
        #expect(h.emitted == [.endCall(to: H.bob.id)])
        #expect(h.statuses.last == "Missed call from Bob" && h.m.phase == .idle && !h.ringing)
    }

    @Test func setupTimeoutAbandonsTheCall() {
        var h = H.reach(.ringing)
        h.send(.action(.accept))
        h.send(.timerFired(.setup))
        #expect(h.m.phase == .ending && h.emitted.last == .endCall(to: H.bob.id))
    }

    @Test func autoAnswerImmediateBeepsAndAnswers() {
        var h = H.reach(.idle, settings: CallSettings(autoAnswer: .immediate))
        h.send(.incomingCall(from: H.bob.id, offer: H.offer))
        #expect(h.m.phase == .inCall)
        #expect(h.log.first == .beep)
        #expect(h.log.contains(.openDevices) && h.log.contains(.media(.start(.answerer(offer: H.offer)))))
        h.send(.localDescription(H.answer))
        #expect(h.emitted == [.accept(to: H.bob.id, answer: H.answer)])
    }

    @Test func autoAnswerAfterDelayRingsThenBeepsAndAnswers() {
        var h = H.reach(.idle, settings: CallSettings(autoAnswer: .after, autoAnswerDelay: 2))
        h.send(.incomingCall(from: H.bob.id, offer: H.offer))
        #expect(h.m.phase == .autoAnswerPending && h.ringing)
        #expect(h.log.contains(.startTimer(.autoAnswer, seconds: 2)))
        #expect(h.statuses.last == "Incoming call from Bob — answering in 2 s")
        #expect(!h.m.devicesOpen)
        h.log = []
        h.send(.timerFired(.autoAnswer))
        #expect(h.log.first == .beep)
        #expect(h.m.phase == .inCall && !h.ringing && h.m.devicesOpen)
        // Declining during the delay works too.
        var d = H.reach(.idle, settings: CallSettings(autoAnswer: .after, autoAnswerDelay: 2))
        d.send(.incomingCall(from: H.bob.id, offer: H.offer))
        d.send(.action(.end))
        #expect(d.m.phase == .idle && !d.timers.contains(.autoAnswer) && d.emitted == [.endCall(to: H.bob.id)])
    }

    @Test func allowedCallersOnlyAreAutoAnswered() {
        let s = CallSettings(autoAnswer: .immediate, allowedCallers: ["grandma"])
        var h = H.reach(.idle, settings: s)
        h.send(.incomingCall(from: H.bob.id, offer: H.offer))
        #expect(h.m.phase == .ringing)
        var g = H(s)
        g.send(.signalingConnected)
        g.send(H.joined("home", [H.grandma]))
        g.send(.incomingCall(from: H.grandma.id, offer: H.offer))
        #expect(g.m.phase == .inCall)
    }

    @Test func singleButtonCallsAnswersAndHangsUp() {
        var h = H.reach(.idle)
        h.send(.action(.single))
        #expect(h.m.phase == .calling)
        h.send(.action(.single))
        #expect(h.m.phase == .ending && h.emitted.last == .endCall(to: H.bob.id))
        var r = H.reach(.ringing)
        r.send(.action(.single))
        #expect(r.m.phase == .inCall)
        r.send(.action(.single))
        #expect(r.m.phase == .ending)
    }

    @Test func glareSmallerIdAnswers() {
        // Our id "m-self" is above Bob's "b-bob": we answer his offer instead of waiting for ours.
        var h = H.reach(.calling)
        h.send(.incomingCall(from: H.bob.id, offer: H.offer))
        #expect(h.m.phase == .inCall)
        #expect(h.log.contains(.media(.start(.answerer(offer: H.offer)))))
        h.send(.localDescription(H.answer))
        #expect(h.emitted.last == .accept(to: H.bob.id, answer: H.answer))
        // Against Carol ("z-carol", above ours) our offer stands.
        var c = H(CallSettings())
        c.send(.signalingConnected)
        c.send(H.joined("home", [H.carol]))
        c.send(.action(.call))
        #expect(c.send(.incomingCall(from: H.carol.id, offer: H.offer)).disposition != .handled)
        #expect(c.m.phase == .calling)
    }

    @Test func muteAndCameraArePrivacyToggles() {
        var h = H.reach(.idle)
        h.send(.action(.cameraToggle))
        #expect(h.statuses.last == "Camera off" && !h.log.contains(.setCameraEnabled(false)))
        h.send(.action(.call))
        #expect(h.log.contains(.setCameraEnabled(false)))
        h.send(.action(.mute))
        #expect(h.log.last == .status("Microphone off") && h.log.contains(.setMicrophoneMuted(true)))
        h.send(.action(.end))
        #expect(!h.m.muted && h.m.cameraOff)   // mute resets per call; camera privacy stays
    }

    @Test func speedDialRoundTrip() {
        var h = H.reach(.idle, settings: CallSettings(speedDialRooms: ["grandma"]))
        h.send(.action(.speedDial(1)))
        #expect(h.log.contains(.joinRoom("grandma")) && h.m.phase == .connecting)
        #expect(h.statuses.last == "Going to grandma…")
        h.send(H.joined("grandma", [H.grandma]))
        #expect(h.m.phase == .calling && h.m.peer == H.grandma)
        #expect(h.statuses.last == "Calling Grandma…")
        h.send(.localDescription(H.offer))
        h.send(.callAccepted(from: H.grandma.id, answer: H.answer))
        h.send(.iceConnected)
        h.send(.callEnded(from: H.grandma.id))
        h.send(.mediaClosed)
        #expect(h.log.last(where: { if case .joinRoom = $0 { return true } else { return false } }) == .joinRoom("home"))
        h.send(H.joined("home", [H.bob]))
        #expect(h.m.phase == .idle && h.m.trip == nil && h.m.room == "home")
        #expect(h.statuses.last == "Grandma hung up")
    }

    @Test func speedDialToEmptyOrFullRoomComesBackAndSaysWhy() {
        var h = H.reach(.idle, settings: CallSettings(speedDialRooms: ["grandma"]))
        h.send(.action(.speedDial(1)))
        h.send(H.joined("grandma", []))
        #expect(h.log.last(where: { if case .joinRoom = $0 { return true } else { return false } }) == .joinRoom("home"))
        h.send(H.joined("home", [H.bob]))
        #expect(h.statuses.last == "Nobody is in grandma right now" && h.m.trip == nil)

        var f = H.reach(.idle, settings: CallSettings(speedDialRooms: ["grandma"]))
        f.send(.action(.speedDial(1)))
        f.send(.roomFull(room: "grandma"))
        #expect(f.log.last(where: { if case .joinRoom = $0 { return true } else { return false } }) == .joinRoom("home"))
        f.send(H.joined("home", [H.bob]))
        #expect(f.statuses.last == "grandma is full right now")

        var u = H.reach(.idle)
        u.send(.action(.speedDial(3)))
        #expect(u.statuses.last == "Speed dial 3 is not set up")
    }

    @Test func chatHistoryShownOnJoin() {
        let m = ChatMessage(id: "1", userName: "Bob", senderId: H.bob.id, text: "see you at 5", timestamp: "1")
        var h = H()
        h.send(H.joined("home", [H.bob], messages: [m]))
        #expect(h.log.contains(.showChat([m])))
    }
}
