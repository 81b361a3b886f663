import Foundation
import Testing
@testable import SignalingCore

/// The error a typed-throwing decode raised, or `nil` when it succeeded.
func decodeError<T>(_ body: () throws(SignalingDecodeError) -> T) -> SignalingDecodeError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The `reason` of a `.badPayload` for `event`, or `nil` for any other outcome.
func badPayloadReason<T>(_ event: String, _ body: () throws(SignalingDecodeError) -> T) -> String? {
    guard case .badPayload(let e, let reason)? = decodeError(body), e == event else { return nil }
    return reason
}

/// Parses JSON text written in a test; a typo in a fixture is a test failure, not a crash.
func json(_ text: String) throws -> JSONValue {
    try JSONValue.parse(Substring(text))
}

/// Sample values shared by the typed-event tests.
enum Sample {
    static let offer = SessionDescription(
        type: .offer,
        sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
    static let answer = SessionDescription(
        type: .answer,
        sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=setup:active\r\n")
    static let candidate = IceCandidate(
        candidate: "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx raddr 0.0.0.0 rport 0",
        sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "pL9n")
    static let bareCandidate = IceCandidate(
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: nil, sdpMLineIndex: nil)
    static let offerJSON = #"{"type":"offer","sdp":"v=0\r\n"}"#
    static let answerJSON = #"{"type":"answer","sdp":"v=0\r\n"}"#
}

/// Decodes `payload` (JSON text; `nil` = no arguments) with `decode` and checks it fails with a `.badPayload` for
/// `event` whose reason contains every one of `words` (the field names a person must be told about).
func expectBadPayload(event: String, payload: String?, naming words: [String],
                      sourceLocation: SourceLocation = #_sourceLocation,
                      _ decode: ([JSONValue]) throws(SignalingDecodeError) -> Void) throws {
    let args = try payload.map { [try json($0)] } ?? []
    guard let reason = badPayloadReason(event, { () throws(SignalingDecodeError) in try decode(args) }) else {
        Issue.record("\(event) \(payload ?? "<no args>") did not give .badPayload(event: \"\(event)\", ...)",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(!reason.isEmpty, sourceLocation: sourceLocation)
    for word in words {
        #expect(reason.contains(word), "reason \"\(reason)\" does not name \(word)", sourceLocation: sourceLocation)
    }
}
