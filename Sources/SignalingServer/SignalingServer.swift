import RoomServer
