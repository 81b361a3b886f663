import Foundation
import Peer
import SignalingCore

/// The parsers under test, chosen by `FUZZ_TARGET` (scripts/fuzz sets it): `signaling` (Engine.IO /
/// Socket.IO decoders and typed events, `DecoderExercise`) or `peer` (STUN, TURN ChannelData, SDP, ICE
/// candidates, RTP/RTCP: `PeerParserExercise`). Any input must decode to a value or an error (never a
/// trap), and whatever decodes must survive re-encoding; a violation traps so libFuzzer keeps the input.
enum FuzzTarget: String {
    case signaling, peer

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "signaling"
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("FUZZ_TARGET must be signaling or peer, not \(name)")
        }
        return target
    }()

    func violations(_ bytes: UnsafeRawBufferPointer) -> [String] {
        switch self {
        case .signaling: DecoderExercise.run(bytes).violations
        case .peer: PeerParserExercise.run(bytes).violations
        }
    }
}

func exercise(_ bytes: UnsafeRawBufferPointer) {
    let violations = FuzzTarget.selected.violations(bytes)
    if !violations.isEmpty { fatalError(violations.joined(separator: "; ")) }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    exercise(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
/// Without the fuzzer: replays corpus files (or directories of them) given as arguments.
@main
struct CorpusReplay {
    static func main() throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            let files = isDir.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 }
                : [path]
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                data.withUnsafeBytes { exercise($0) }
                count += 1
            }
        }
        print("replayed \(count) \(FuzzTarget.selected.rawValue) inputs without a crash")
    }
}
#endif
