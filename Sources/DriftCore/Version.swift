/// driftwatch's release version: build info, User-Agent of every outbound call.
public let driftwatchVersion = "0.2.0"
