import Foundation
import SignalingCore

/// Feeds arbitrary bytes through every decoder a server's frame reaches: the Engine.IO payload
/// splitter and packet decoder, the Socket.IO packet decoder, and the typed-event decoders.
/// Any input must produce a value or an error, never a trap.
func decodeEverything(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    for result in EngineIOPayload.decode(text) {
        guard case .success(.message(let message)) = result else { continue }
        guard let packet = try? SocketIOPacket.decode(message) else { continue }
        _ = packet.encoded()
        guard let (name, args) = try? packet.eventNameAndArgs() else { continue }
        _ = try? ServerEvent.decode(name: name, args: args)
        _ = try? ClientEvent.decode(name: name, args: args)
    }
    // The same bytes as one websocket frame and as one Socket.IO packet.
    _ = try? EngineIOPacket.decode(Substring(text))
    _ = try? SocketIOPacket.decode(text)
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    decodeEverything(UnsafeRawBufferPointer(start: data, count: size))
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
                data.withUnsafeBytes { decodeEverything($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs without a crash")
    }
}
#endif
