import Foundation
import SignalingCore

/// Any input must decode to a value or an error (never a trap), and whatever decodes must re-encode to
/// itself; a violation traps so libFuzzer keeps the input (see `DecoderExercise`).
func exercise(_ bytes: UnsafeRawBufferPointer) {
    let outcome = DecoderExercise.run(bytes)
    if !outcome.violations.isEmpty { fatalError(outcome.violations.joined(separator: "; ")) }
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
        print("replayed \(count) inputs without a crash")
    }
}
#endif
