/// Errors and negotiated shapes of sound devices, shared by Capture (microphone) and Display
/// (speaker) so a caller holding both sees one type, not two look-alikes.
public struct AudioDeviceError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    /// The negative errno alsa-lib returned.
    public let code: Int32
    public let message: String

    public init(operation: String, code: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    public var description: String { "\(operation): \(message) (\(code))" }
}

/// The negotiated shape of an open PCM.
public struct AudioDeviceParameters: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    /// Frames per period: one read or write, and one wake-up.
    public var periodFrames: Int
    public var bufferFrames: Int

    public init(sampleRate: Int, channels: Int, periodFrames: Int, bufferFrames: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.periodFrames = periodFrames
        self.bufferFrames = bufferFrames
    }

    public var periodMilliseconds: Double { Double(periodFrames) * 1000 / Double(max(1, sampleRate)) }
    public var bufferMilliseconds: Double { Double(bufferFrames) * 1000 / Double(max(1, sampleRate)) }
}
