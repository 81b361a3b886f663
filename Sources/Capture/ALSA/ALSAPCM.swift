// An ALSA PCM opened for 48 kHz interleaved s16 with fixed period and buffer sizes (alsa-lib
// PCM API: snd_pcm_hw_params_*, snd_pcm_sw_params_*, snd_pcm_recover). Shared source between
// Capture (microphone) and Display (speaker): Display/ALSA/ALSAPCM.swift links to this file, so
// both modules carry the same internal type without a dependency between them.
import CALSA
import Media
#if canImport(Glibc)
import Glibc
#endif

/// alsa-lib's message for a negative errno.
func ALSAError(operation: String, code: Int32) -> AudioDeviceError {
    AudioDeviceError(operation: operation, code: code, message: String(cString: snd_strerror(code)))
}

/// Not thread-safe: owned by one device thread.
final class ALSAPCM {
    let name: String
    let handle: OpaquePointer
    private(set) var parameters: AudioDeviceParameters
    let isCapture: Bool

    /// Opens `name` ("default", "plughw:1,0", "hw:Loopback,1,0") and fixes rate, format, channels,
    /// period (`periodMilliseconds`, 10 or 20) and buffer (`periods` periods).
    init(name: String, capture: Bool, channels: Int, periodMilliseconds: Int, periods: Int) throws {
        self.name = name
        isCapture = capture
        var pcm: OpaquePointer?
        let stream = capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK
        var status = snd_pcm_open(&pcm, name, stream, 0)
        guard status >= 0, let pcm else { throw ALSAError(operation: "snd_pcm_open \(name)", code: status) }
        handle = pcm
        parameters = AudioDeviceParameters(sampleRate: MediaClock.audioSampleRate, channels: channels, periodFrames: 0, bufferFrames: 0)
        do {
            var hw: OpaquePointer?
            status = snd_pcm_hw_params_malloc(&hw)
            guard status >= 0, let hw else { throw ALSAError(operation: "snd_pcm_hw_params_malloc", code: status) }
            defer { snd_pcm_hw_params_free(hw) }
            func check(_ status: Int32, _ what: String) throws {
                if status < 0 { throw ALSAError(operation: "\(name): \(what)", code: status) }
            }
            try check(snd_pcm_hw_params_any(pcm, hw), "hw_params_any")
            // A hardware rate other than 48 kHz would need resampling: let the plug layer do it.
            try check(snd_pcm_hw_params_set_rate_resample(pcm, hw, 1), "rate_resample")
            try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "access RW_INTERLEAVED")
            try check(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE), "format S16_LE")
            try check(snd_pcm_hw_params_set_channels(pcm, hw, UInt32(channels)), "channels \(channels)")
            try check(snd_pcm_hw_params_set_rate(pcm, hw, UInt32(MediaClock.audioSampleRate), 0), "rate 48000")
            var period = snd_pcm_uframes_t(MediaClock.audioSampleRate * periodMilliseconds / 1000)
            var direction: Int32 = 0
            try check(snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &direction), "period size")
            var buffer = period * snd_pcm_uframes_t(max(2, periods))
            try check(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer), "buffer size")
            try check(snd_pcm_hw_params(pcm, hw), "hw_params")
            snd_pcm_hw_params_get_period_size(hw, &period, &direction)
            snd_pcm_hw_params_get_buffer_size(hw, &buffer)
            parameters.periodFrames = Int(period)
            parameters.bufferFrames = Int(buffer)

            var sw: OpaquePointer?
            status = snd_pcm_sw_params_malloc(&sw)
            guard status >= 0, let sw else { throw ALSAError(operation: "snd_pcm_sw_params_malloc", code: status) }
            defer { snd_pcm_sw_params_free(sw) }
            try check(snd_pcm_sw_params_current(pcm, sw), "sw_params_current")
            // Playback starts once two periods are queued (a capture starts on the first read).
            try check(snd_pcm_sw_params_set_start_threshold(pcm, sw, capture ? 1 : period * 2), "start threshold")
            try check(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "avail_min")
            try check(snd_pcm_sw_params(pcm, sw), "sw_params")
            try check(snd_pcm_prepare(pcm), "prepare")
        } catch {
            snd_pcm_close(pcm)
            throw error
        }
    }

    deinit { snd_pcm_close(handle) }

    /// Recovers from an overrun/underrun (-EPIPE) or a suspend (-ESTRPIPE: waits for resume,
    /// then re-prepares). Returns false when the error is not recoverable (device gone).
    func recover(_ error: Int32) -> Bool {
        if error == -ESTRPIPE {
            var status = snd_pcm_resume(handle)
            var tries = 0
            while status == -EAGAIN, tries < 100 { usleep(10_000); status = snd_pcm_resume(handle); tries += 1 }
            if status < 0 { return snd_pcm_prepare(handle) >= 0 }
            return true
        }
        return snd_pcm_recover(handle, error, 1) >= 0
    }

    /// Frames queued in the device (playback: not yet heard; capture: not yet read).
    var delayFrames: Int {
        var delay: snd_pcm_sframes_t = 0
        return snd_pcm_delay(handle, &delay) >= 0 ? Int(delay) : 0
    }
}
