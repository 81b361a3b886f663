// The vocabulary of the call state machine (CallMachine): the phases, the events it takes (from
// signaling per the seed's wire contract, from the buttons, from timers and from the media stack) and
// the effects it asks for. No I/O here: CallController performs the effects.
import SignalingCore

/// What a button (or the control socket) asks for. The lead maps the evdev `ButtonAction` onto this.
public enum ApplianceAction: Sendable, Equatable, Hashable {
    case call
    case accept
    case end
    case mute
    case cameraToggle
    /// 1-based index into `speed_dial.rooms`.
    case speedDial(Int)
    /// Single-button mode: calls, answers or hangs up depending on the state.
    case single
}

/// Where the appliance is in a call's life.
public enum CallPhase: String, Sendable, Equatable, CaseIterable {
    /// Not in a room: signaling down, joining, or refused (room full).
    case connecting
    /// In a room, no call (alone or with someone).
    case idle
    /// We called; waiting for `call:accepted`.
    case calling
    /// Someone calls us; waiting for the person to accept.
    case ringing
    /// Someone calls us and we will answer by ourselves when the auto-answer delay ends.
    case autoAnswerPending
    /// Answered (by either side): media connecting or connected.
    case inCall
    /// Hung up; media closing.
    case ending
}

/// Timers the machine starts and cancels; CallController fires them back as events.
public enum CallTimer: String, Sendable, Equatable, CaseIterable {
    /// Incoming call rings unanswered / outgoing call unanswered.
    case ring
    /// Answered but media not connected yet.
    case setup
    /// The auto-answer delay.
    case autoAnswer
    /// How long we wait for the media stack to report it closed before going idle anyway.
    case ending
    /// Retry joining after `room:full`.
    case rejoin
}

/// Whether this side creates the offer or answers one.
public enum MediaRole: Sendable, Equatable {
    case offerer
    case answerer(offer: SessionDescription)
}

/// What the machine asks of the media stack (the Peer).
public enum MediaCommand: Sendable, Equatable {
    /// Create a peer connection with the open devices; as offerer it reports a `.localDescription(offer)`,
    /// as answerer it applies the offer and reports `.localDescription(answer)`.
    case start(MediaRole)
    case setRemoteAnswer(SessionDescription)
    /// A renegotiation offer from the peer (`peer:nego:needed`): apply it and report the answer.
    case applyRemoteOffer(SessionDescription)
    /// `nil` = end of candidates.
    case addRemoteCandidate(IceCandidate?)
    /// New ICE credentials; reports a `.localDescription(offer)` to send as `peer:nego:needed`.
    case restartIce
    /// Close the peer connection; reports `.mediaClosed`.
    case stop
}

/// Events into the machine.
public enum CallEvent: Sendable, Equatable {
    // Signaling (SignalingClient)
    case signalingConnected
    case signalingLost
    case roomJoined(RoomJoined)
    case roomFull(room: String)
    case memberJoined(RoomUser)
    case memberLeft(RoomUser)
    case incomingCall(from: String, offer: SessionDescription)
    case callAccepted(from: String, answer: SessionDescription)
    case callEnded(from: String)
    case remoteCandidate(from: String, candidate: IceCandidate?)
    case renegotiationOffer(from: String, offer: SessionDescription)
    case renegotiationAnswer(from: String, answer: SessionDescription)
    case chat(ChatMessage)
    // People
    case action(ApplianceAction)
    // Time
    case timerFired(CallTimer)
    // Media (the Peer)
    case localDescription(SessionDescription)
    case localCandidate(IceCandidate?)
    case iceConnected
    case iceFailed
    /// Consent freshness expired (RFC 7675): the peer stopped answering.
    case peerGone
    case mediaClosed
    /// Devices or peer connection could not be started.
    case mediaFailed(String)

    /// The signaling event as the machine sees it; `nil` for events it does not take (ignored).
    public static func from(_ event: ServerEvent) -> CallEvent {
        switch event {
        case .roomJoined(let j): return .roomJoined(j)
        case .roomFull(let r): return .roomFull(room: r.room)
        case .userJoined(let u): return .memberJoined(u)
        case .userLeft(let u): return .memberLeft(u)
        case .incomingCall(let from, let offer): return .incomingCall(from: from, offer: offer)
        case .callAccepted(let from, let answer): return .callAccepted(from: from, answer: answer)
        case .negotiationNeeded(let from, let offer): return .renegotiationOffer(from: from, offer: offer)
        case .negotiationFinal(let from, let answer): return .renegotiationAnswer(from: from, answer: answer)
        case .iceCandidate(let from, let c): return .remoteCandidate(from: from, candidate: c)
        case .callEnded(let from): return .callEnded(from: from)
        case .chat(let m): return .chat(m)
        }
    }
}

/// Effects out of the machine, performed in order by CallController's owner.
public enum CallEffect: Sendable, Equatable {
    /// Send on signaling.
    case emit(ClientEvent)
    /// Be in this room (SignalingClient.join: moves there now and after every reconnection).
    case joinRoom(String)
    /// Open camera and microphone (privacy: only for calls unless `camera.keep_warm`).
    case openDevices
    case closeDevices
    case media(MediaCommand)
    case setMicrophoneMuted(Bool)
    case setCameraEnabled(Bool)
    case ringTone(Bool)
    /// A short beep through the speaker (before auto-answering).
    case beep
    /// The status line on screen, in plain words.
    case status(String)
    /// Chat lines to show (history on join, then each new message).
    case showChat([ChatMessage])
    case startTimer(CallTimer, seconds: Double)
    case cancelTimer(CallTimer)
}

/// Why an event changed nothing: every (phase, event) pair is either handled or ignored on purpose.
public enum CallDisposition: Sendable, Equatable {
    case handled
    case ignored(String)
}
