import Appliance
import ArgumentParser
import Capture
import Display
import Foundation
import Media

/// `videophone devices`: the first thing a person runs on a new board. Lists cameras with their
/// formats and sizes, sound cards and PCM names, KMS connectors with their modes, and input
/// devices with their keys. `videophone devices check` (hidden) is the hardware test run
/// inside the QEMU guest (scripts/vm, Tests/HardwareTests).
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List cameras, sound devices, screens and input devices.",
        subcommands: [DevicesList.self, DevicesCheck.self, DevicesPress.self],
        defaultSubcommand: DevicesList.self
    )
}

struct DevicesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the devices (default).")

    func run() async throws {
        print("Cameras (V4L2)")
        let cameras = V4L2Discovery.cameras()
        if cameras.isEmpty { print("  none (no capture-capable /dev/video*)") }
        for camera in cameras {
            print("  \(camera.path)  \(camera.card)  [driver \(camera.driver), \(camera.busInfo)]")
            for link in camera.byID { print("    by-id: /dev/v4l/by-id/\(link)") }
            for format in camera.formats {
                let tags = [format.emulated ? "converted by libv4l2" : nil, format.compressed ? "compressed" : nil]
                    .compactMap { $0 }
                let usable = CameraPixelFormat(fourcc: format.fourcc) != nil && !format.emulated ? " *" : ""
                print("    \(CaptureLibraries.fourccString(format.fourcc)) \(format.name)\(tags.isEmpty ? "" : " (\(tags.joined(separator: ", ")))")\(usable)")
                switch format.sizes {
                case .discrete(let sizes):
                    print("      " + (sizes.isEmpty ? "(no sizes listed)" : sizes.map(\.description).joined(separator: " ")))
                case .range(let low, let high, let stepWidth, let stepHeight):
                    print("      \(low) to \(high), steps \(stepWidth)x\(stepHeight)")
                }
            }
        }
        if !cameras.isEmpty { print("  (* converted to I420 by libyuv)") }

        print("\nSound (ALSA)")
        let cards = ALSADiscovery.cards()
        if cards.isEmpty { print("  no sound cards") }
        for card in cards { print("  card \(card.index): \(card.id) — \(card.name)  (hw:\(card.index),N / plughw:\(card.index),N)") }
        for pcm in ALSADiscovery.pcmDevices() {
            print("  PCM \(pcm.name)\(pcm.direction.map { " [\($0.lowercased()) only]" } ?? "")  \(pcm.description)")
        }

        print("\nScreens (DRM/KMS)")
        let drmCards = KMSDiscovery.cards()
        if drmCards.isEmpty { print("  no /dev/dri/card*") }
        for card in drmCards {
            do {
                for connector in try KMSDiscovery.connectors(card: card) {
                    let size = connector.widthMillimetres > 0 ? ", \(connector.widthMillimetres)x\(connector.heightMillimetres) mm" : ""
                    print("  \(card) \(connector.name): \(connector.connected ? "connected" : "disconnected")\(size)")
                    for mode in connector.modes { print("    \(mode)") }
                }
            } catch {
                print("  \(card): \(error)")
            }
        }

        print("\nInput devices (evdev)")
        let inputs = InputDiscovery.devices()
        if inputs.isEmpty { print("  none readable in /dev/input") }
        for input in inputs {
            let names = input.keys.map(KeyMap.keyName)
            let shown = names.count > 24 ? names.prefix(24).joined(separator: " ") + " … (\(names.count) keys)" : names.joined(separator: " ")
            print("  \(input.path)  \(input.name)")
            print("    keys: \(shown.isEmpty ? "none" : shown)")
        }
    }
}
