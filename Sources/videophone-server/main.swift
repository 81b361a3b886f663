import SignalingServer
print("videophone-server: not yet implemented")
