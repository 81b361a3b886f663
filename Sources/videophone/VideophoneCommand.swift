import ArgumentParser

@main
struct VideophoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videophone",
        abstract: "Tools for the videophone appliance.",
        subcommands: [SignalCommand.self, PeerCommand.self, DevicesCommand.self, DemoCommand.self,
                      PressCommand.self, StatusCommand.self, ControlCommand.self]
    )
}
