// videophoned: the appliance daemon. Filled in by the appliance issue.
import ArgumentParser
import Appliance

@main
struct VideophonedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "videophoned",
                                                    abstract: "The videophone appliance daemon.")
    func run() async throws {
        print("videophoned: not yet implemented")
    }
}
