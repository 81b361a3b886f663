import Appliance
import ArgumentParser

@main
struct VideophoneCommand: AsyncParsableCommand {
    /// One malloc arena from the first line, before the async runtime starts a thread (MallocArenas).
    static func main() async {
        MallocArenas.limit()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "videophone",
        abstract: "Tools for the videophone appliance.",
        subcommands: [SignalCommand.self, PeerCommand.self, DevicesCommand.self, DemoCommand.self,
                      PressCommand.self, StatusCommand.self, ControlCommand.self, KeygenCommand.self, SignConfigCommand.self]
    )
}
