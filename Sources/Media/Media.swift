// Frame and sample types shared by Capture, Display and Peer (filled in by the media issues).
