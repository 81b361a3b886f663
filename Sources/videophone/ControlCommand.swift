import Appliance
import ArgumentParser
import Foundation
import SignalingCore

/// The daemon's control socket from a shell: `videophone press call`, `videophone status`, and
/// `videophone control REQUEST` for the rest (hangup, snapshot PATH, chat TEXT). Prints the
/// daemon's JSON reply; exits 1 when the daemon says `"ok": false` or cannot be reached.
struct ControlOptions: ParsableArguments {
    @Option(help: "The daemon's control socket (control.socket in its configuration).")
    var socket = "/run/videophone/control.sock"

    func send(_ request: String) throws {
        do {
            let reply = try ControlClient.request(request, socketPath: socket)
            print(reply.serialized())
            if reply["ok"] != .bool(true) { throw ExitCode(1) }
        } catch let error as ControlError {
            FileHandle.standardError.write(Data("videophone: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct PressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "press", abstract: "Press a button on the running daemon: call, accept, end, mute, camera, single, speed_dial N.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The action, e.g. call or speed_dial 2.") var action: [String]
    func run() throws { try options.send((["press"] + action).joined(separator: " ")) }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the running daemon's state, call figures and screen status as JSON.")
    @OptionGroup var options: ControlOptions
    func run() throws { try options.send("status") }
}

struct ControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control", abstract: "Send one control request: hangup, snapshot PATH, chat TEXT, press ACTION, status.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The request words.") var request: [String]
    func run() throws { try options.send(request.joined(separator: " ")) }
}
