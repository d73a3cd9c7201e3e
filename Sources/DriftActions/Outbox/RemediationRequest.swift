import DriftCore
/// The remediation record a call moves forward (`remediations` table), and the state it
/// reaches when the call succeeds.
public struct RemediationStep: Sendable, Equatable {
    public var kind: RemediationKind
    public var name: String
    public var episodeID: Int64?
    public var stateOnSuccess: RemediationState

    public init(kind: RemediationKind, name: String, episodeID: Int64?, stateOnSuccess: RemediationState) {
        self.kind = kind
        self.name = name
        self.episodeID = episodeID
        self.stateOnSuccess = stateOnSuccess
    }
}

/// A remediation call with its typed body: where it goes (a path on the target's base URL, the
/// full URL for a webhook) and the record it moves forward.
public struct RemediationRequest<Body: Codable & Sendable & Equatable>: Sendable, Equatable {
    public var path: String
    public var body: Body
    public var step: RemediationStep

    public init(path: String, body: Body, step: RemediationStep) {
        self.path = path
        self.body = body
        self.step = step
    }
}

/// The body of a call that sends none (DELETE).
public struct NoBody: Codable, Sendable, Equatable {
    public init() {}
}

/// Where a remediation call goes.
public enum RemediationTarget: String, Codable, Sendable {
    case kubernetes, argo, webhook
}

/// A remediation call as it goes on the wire: method, path, body bytes, and the statuses that
/// also mean done (409 on create: the object is already there; 404 on delete).
public struct RemediationHTTPCall: Sendable, Equatable {
    public var target: RemediationTarget
    public var method: String
    public var path: String
    public var body: String?
    public var alsoDone: [Int]

    public init(target: RemediationTarget, method: String, path: String, body: String?, alsoDone: [Int]) {
        self.target = target
        self.method = method
        self.path = path
        self.body = body
        self.alsoDone = alsoDone
    }

    /// A JSON merge patch for PATCH, JSON otherwise.
    public var contentType: String { method == "PATCH" ? "application/merge-patch+json" : "application/json" }
}

/// The stored payload of a remediation action (kind `remediation`), in the shape every version
/// has written: the body already rendered as a string.
struct StoredRemediationCall: Codable, Equatable {
    var target: RemediationTarget
    var method: String
    var path: String
    var body: String?
    var alsoDone: [Int]
    var remediationKind: RemediationKind
    var remediationName: String
    var episodeID: Int64?
    var stateOnSuccess: RemediationState

    enum CodingKeys: String, CodingKey {
        case target, method, path, body, alsoDone = "also_done", remediationKind = "remediation_kind"
        case remediationName = "remediation_name", episodeID = "episode_id", stateOnSuccess = "state_on_success"
    }
}
