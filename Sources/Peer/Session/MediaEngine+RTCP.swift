// RTCP for the media engine: reports (RFC 3550 §6.4: SR/RR with report blocks, SDES CNAME),
// receiver feedback (RFC 4585: generic NACK, PLI; RFC 5104 FIR), congestion feedback
// (transport-wide CC and REMB in; transport-wide CC out so browsers adapt). Feedback goes in a
// compound packet led by an empty RR (RFC 4585 §3.1), which every peer accepts.
#if canImport(Glibc)
import Glibc
#endif
import Media

extension MediaEngine {
    /// Our wall clock as NTP (SR timestamps and RTT arithmetic share it).
    static func wallClockNTP() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return NTPTime.from(unixNanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    func receivedRTCP(_ bytes: [UInt8]) {
        guard started else { return }
        let packets: [RTCPPacket]
        do { packets = try RTCPPacket.parseCompound(bytes) } catch {
            logger.debug("RTCP dropped: \(error)")
            return
        }
        let now = MediaTime.now()
        var estimateChanged = false
        for packet in packets {
            switch packet {
            case .senderReport(let sr):
                if sr.ssrc == remoteVideoSSRC {
                    videoReceive.recordSenderReport(sr, at: now)
                    lipSync.video.update(sr)
                } else if sr.ssrc == remoteAudioSSRC {
                    audioReceive.recordSenderReport(sr, at: now)
                    lipSync.audio.update(sr)
                }
                handleReportBlocks(sr.reports)
            case .receiverReport(let rr):
                handleReportBlocks(rr.reports)
            case .nack(let nack) where nack.mediaSSRC == peer.localVideoSSRC:
                stats.nacksReceived += nack.lostSequenceNumbers.count
                let resend = history.retransmissions(for: nack.lostSequenceNumbers, now: now,
                                                     roundTripTime: roundTripNanoseconds ?? 100_000_000)
                // Repairs beyond the estimate in any second would only fill the bottleneck's queue.
                for packet in resend {
                    guard retransmissions.admit(bytes: packet.serializedSize, limit: bandwidth.targetBitrate, at: now) else {
                        stats.retransmissionsOverLimit += 1
                        continue
                    }
                    pacer.enqueue(packet, kind: .retransmission)
                }
            case .pli(let pli) where pli.mediaSSRC == peer.localVideoSSRC || pli.mediaSSRC == 0:
                stats.plisReceived += 1
                keyframeRequested(now: now)
            case .fir(let fir) where fir.entries.contains { $0.ssrc == peer.localVideoSSRC }:
                stats.plisReceived += 1
                keyframeRequested(now: now)
            case .remb(let remb):
                bandwidth.onREMB(bitrate: remb.bitrate)
                estimateChanged = true
            case .transportFeedback(let feedback):
                bandwidth.onTransportFeedback(feedback, now: now)
                estimateChanged = true
            default:
                break
            }
        }
        if estimateChanged { applyBandwidthEstimate(now: now) }
        drainPacer(now: now)
    }

    private func handleReportBlocks(_ blocks: [RTCPReportBlock]) {
        let arrival = Self.wallClockNTP()
        for block in blocks {
            if block.ssrc == peer.localVideoSSRC {
                stats.lossFraction = Double(block.fractionLost) / 256
            } else if block.ssrc == peer.localAudioSSRC {
                audioEncoder.setExpectedLoss(percent: Int(block.fractionLost) * 100 / 256)
            } else {
                continue
            }
            if let rtt = RTCPRoundTrip.seconds(arrivalNTP: arrival, block: block), rtt < 10 {
                stats.roundTripTime = rtt
                roundTripNanoseconds = UInt64(rtt * 1e9)
                videoJitter.roundTripTime = max(1_000_000, UInt64(rtt * 1e9))
            }
        }
    }

    /// NACKs due and a PLI when the jitter buffer gave up on a frame.
    func sendVideoFeedback(now: MediaTime) {
        guard let media = videoMedia, let ssrc = remoteVideoSSRC else { return }
        let feedback = videoJitter.feedback(now: now)
        guard !feedback.isEmpty else { return }
        var packets: [RTCPPacket] = [.receiverReport(RTCPReceiverReport(ssrc: peer.localVideoSSRC))]
        if !feedback.nack.isEmpty {
            packets.append(.nack(RTCPNack(senderSSRC: peer.localVideoSSRC, mediaSSRC: ssrc, lostSequenceNumbers: feedback.nack)))
        }
        if feedback.requestKeyframe {
            packets.append(.pli(RTCPPictureLossIndication(senderSSRC: peer.localVideoSSRC, mediaSSRC: ssrc)))
            stats.plisSent += 1
        }
        _ = media
        peer.sendRTCP(RTCPPacket.serializeCompound(packets))
    }

    func sendPLI(now: MediaTime) {
        guard started, let ssrc = remoteVideoSSRC else { return }
        stats.plisSent += 1
        peer.sendRTCP(RTCPPacket.serializeCompound([
            .receiverReport(RTCPReceiverReport(ssrc: peer.localVideoSSRC)),
            .pli(RTCPPictureLossIndication(senderSSRC: peer.localVideoSSRC, mediaSSRC: ssrc)),
        ]))
    }

    func sendTransportFeedback() {
        guard let feedback = transportFeedback?.makeFeedback() else { return }
        peer.sendRTCP(RTCPPacket.serializeCompound([
            .receiverReport(RTCPReceiverReport(ssrc: peer.localVideoSSRC)),
            .transportFeedback(feedback),
        ]))
    }

    /// SR for each stream we send (RR when we send nothing), report blocks for what we receive,
    /// and SDES CNAME (RFC 3550 §6.1: every compound packet carries one).
    func sendReports(now: MediaTime) {
        let ntp = Self.wallClockNTP()
        var blocks: [RTCPReportBlock] = []
        if let ssrc = remoteVideoSSRC { blocks.append(videoReceive.makeReportBlock(ssrc: ssrc, now: now)) }
        if let ssrc = remoteAudioSSRC { blocks.append(audioReceive.makeReportBlock(ssrc: ssrc, now: now)) }
        var packets: [RTCPPacket] = []
        if videoSendStats.packetCount > 0 {
            packets.append(.senderReport(videoSendStats.makeSenderReport(
                ssrc: peer.localVideoSSRC, now: now, ntp: ntp, clockRate: MediaClock.videoRTPClockRate, reports: blocks)))
            blocks = []
        }
        if audioSendStats.packetCount > 0 {
            packets.append(.senderReport(audioSendStats.makeSenderReport(
                ssrc: peer.localAudioSSRC, now: now, ntp: ntp, clockRate: MediaClock.audioSampleRate, reports: blocks)))
            blocks = []
        }
        if packets.isEmpty || !blocks.isEmpty {
            packets.insert(.receiverReport(RTCPReceiverReport(ssrc: peer.localVideoSSRC, reports: blocks)), at: 0)
        }
        let cname = peer.configuration.cname
        packets.append(.sourceDescription(RTCPSourceDescription(chunks: [
            .init(ssrc: peer.localVideoSSRC, items: [.cname(cname)]),
            .init(ssrc: peer.localAudioSSRC, items: [.cname(cname)]),
        ])))
        peer.sendRTCP(RTCPPacket.serializeCompound(packets))
        applyBandwidthEstimate(now: now)
    }
}
