// libFuzzer entry for the Peer parsers (STUN, SDP, RTP/RTCP). Filled in by Peer part 1.
import Peer

@main
enum PeerFuzz {
    static func main() {}
}
