// The room core of videophone-server: see RoomDirectory, ChatStore, ICEServers.
