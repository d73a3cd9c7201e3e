import DriftStore
import Foundation

/// One outbound call, decided when a transition is recorded and delivered by the outbox
/// dispatcher until the peer takes it. Stored as an outbox row: `kind` is the case's
/// `ActionKind`, the payload is the case's JSON (the shapes earlier versions wrote).
public enum Action: Sendable, Equatable {
    /// An Alertmanager push (firing or resolved notice, or a candidate's gate verdict).
    case alert(EpisodeAlert)
    /// Create the retraining `batch/v1` Job.
    case retrainJob(RemediationRequest<KubernetesJob>)
    /// Submit the retraining Workflow to Argo Server.
    case argoSubmit(RemediationRequest<ArgoSubmit>)
    /// Post the retraining request to the configured webhook.
    case webhook(RemediationRequest<RetrainRequest>)
    /// Create a candidate's shadow InferenceService.
    case createShadow(RemediationRequest<InferenceService>)
    /// Delete a shadow InferenceService.
    case deleteShadow(RemediationRequest<NoBody>)
    /// Patch the production InferenceService to canary the candidate.
    case promotion(RemediationRequest<InferenceServicePatch>)
    /// An MLflow write.
    case mlflow(MLflowCall)

    /// The deliverer (and the stored `kind`).
    public var kind: ActionKind {
        switch self {
        case .alert: return .alertmanager
        case .retrainJob, .argoSubmit, .webhook, .createShadow, .deleteShadow, .promotion: return .remediation
        case .mlflow: return .mlflow
        }
    }

    /// The remediation record a remediation call moves forward (nil for alerts and MLflow).
    public var remediationStep: RemediationStep? {
        switch self {
        case .retrainJob(let r): return r.step
        case .argoSubmit(let r): return r.step
        case .webhook(let r): return r.step
        case .createShadow(let r): return r.step
        case .deleteShadow(let r): return r.step
        case .promotion(let r): return r.step
        case .alert, .mlflow: return nil
        }
    }

    /// The remediation kind (`retrain_job`, `shadow`, …), else the action kind: the `kind`
    /// label of the action metrics.
    public var remediationKind: String { remediationStep?.kind.rawValue ?? kind.rawValue }

    /// The remediation record's name ("" for alerts and MLflow).
    public var remediationName: String { remediationStep?.name ?? "" }

    /// The episode the action belongs to, when it names one.
    public var episodeID: Int64? {
        switch self {
        case .alert(let a): return a.episodeID
        case .mlflow(let c): return c.episodeID
        default: return remediationStep?.episodeID
        }
    }

    /// The request body exactly as sent (and as `remediation render` prints it): nil for a
    /// DELETE, alerts and MLflow calls (their bodies are made at delivery).
    public func requestBody() throws -> String? {
        switch self {
        case .retrainJob(let r): return try ActionJSON.string(r.body)
        case .argoSubmit(let r): return try ActionJSON.string(r.body)
        case .webhook(let r): return try ActionJSON.string(r.body)
        case .createShadow(let r): return try ActionJSON.string(r.body)
        case .promotion(let r): return try ActionJSON.string(r.body)
        case .deleteShadow, .alert, .mlflow: return nil
        }
    }

    /// A remediation action as it goes on the wire (nil for alerts and MLflow).
    public func httpCall() throws -> RemediationHTTPCall? {
        let body = try requestBody()
        switch self {
        case .retrainJob(let r): return RemediationHTTPCall(target: .kubernetes, method: "POST", path: r.path, body: body, alsoDone: [409])
        case .argoSubmit(let r): return RemediationHTTPCall(target: .argo, method: "POST", path: r.path, body: body, alsoDone: [409])
        case .webhook(let r): return RemediationHTTPCall(target: .webhook, method: "POST", path: r.path, body: body, alsoDone: [])
        case .createShadow(let r): return RemediationHTTPCall(target: .kubernetes, method: "POST", path: r.path, body: body, alsoDone: [409])
        case .deleteShadow(let r): return RemediationHTTPCall(target: .kubernetes, method: "DELETE", path: r.path, body: nil, alsoDone: [404])
        case .promotion(let r): return RemediationHTTPCall(target: .kubernetes, method: "PATCH", path: r.path, body: body, alsoDone: [])
        case .alert, .mlflow: return nil
        }
    }

    // MARK: stored form

    /// The payload column's JSON.
    public func payloadJSON() throws -> String {
        switch self {
        case .alert(let a): return try ActionJSON.string(a)
        case .mlflow(let c): return try ActionJSON.string(c)
        default:
            guard let call = try httpCall(), let step = remediationStep else { return "{}" }
            return try ActionJSON.string(StoredRemediationCall(
                target: call.target, method: call.method, path: call.path, body: call.body, alsoDone: call.alsoDone,
                remediationKind: step.kind, remediationName: step.name, episodeID: step.episodeID, stateOnSuccess: step.stateOnSuccess))
        }
    }

    /// Reads a stored row (this version's or an earlier one's). A payload that does not decode,
    /// or a kind no deliverer handles, is an error (the dispatcher parks the row).
    public init(kind: String, payloadJSON: String) throws {
        guard let k = ActionKind(rawValue: kind) else {
            throw DeliveryError(message: "outbox action of unknown kind \"\(kind)\"", retryable: false)
        }
        switch k {
        case .alertmanager:
            self = .alert(try ActionJSON.decode(EpisodeAlert.self, from: payloadJSON, what: "alert payload"))
        case .mlflow:
            self = .mlflow(try ActionJSON.decode(MLflowCall.self, from: payloadJSON, what: "MLflow payload"))
        case .remediation:
            let stored = try ActionJSON.decode(StoredRemediationCall.self, from: payloadJSON, what: "remediation payload")
            self = try Self(stored)
        }
    }

    /// Reads an outbox row.
    public init(_ record: ActionRecord) throws {
        try self.init(kind: record.kind, payloadJSON: record.payloadJSON)
    }

    private init(_ s: StoredRemediationCall) throws {
        let step = RemediationStep(kind: s.remediationKind, name: s.remediationName, episodeID: s.episodeID, stateOnSuccess: s.stateOnSuccess)
        func body<T: Decodable>(_ type: T.Type) throws -> T {
            guard let text = s.body else { throw DeliveryError(message: "\(s.remediationKind) \(s.method) \(s.path): no body", retryable: false) }
            return try ActionJSON.decode(type, from: text, what: "\(s.remediationKind) body")
        }
        switch (s.target, s.method) {
        case (.argo, "POST"):
            self = .argoSubmit(RemediationRequest(path: s.path, body: try body(ArgoSubmit.self), step: step))
        case (.webhook, "POST"):
            self = .webhook(RemediationRequest(path: s.path, body: try body(RetrainRequest.self), step: step))
        case (.kubernetes, "DELETE"):
            self = .deleteShadow(RemediationRequest(path: s.path, body: NoBody(), step: step))
        case (.kubernetes, "PATCH"):
            self = .promotion(RemediationRequest(path: s.path, body: try body(InferenceServicePatch.self), step: step))
        case (.kubernetes, "POST") where s.path.hasSuffix("/jobs"):
            self = .retrainJob(RemediationRequest(path: s.path, body: try body(KubernetesJob.self), step: step))
        case (.kubernetes, "POST") where s.path.hasSuffix("/inferenceservices"):
            self = .createShadow(RemediationRequest(path: s.path, body: try body(InferenceService.self), step: step))
        default:
            throw DeliveryError(message: "remediation call \(s.target.rawValue) \(s.method) \(s.path) is not one driftwatch makes", retryable: false)
        }
    }
}

extension Store {
    /// Enqueues `action` under `key` (idempotent on the key): the outbox row the dispatcher
    /// delivers.
    @discardableResult
    public func enqueue(_ action: Action, key: ActionKey, model: String, now: Date, episodeID: Int64?) throws -> Int64 {
        try enqueueAction(model: model, kind: action.kind.rawValue, key: key.rawValue, payloadJSON: try action.payloadJSON(),
                          now: now, episodeID: episodeID)
    }

    /// The episode's action stored under `key`, decoded (nil when there is none).
    public func action(episodeID: Int64, key: ActionKey) throws -> Action? {
        guard let record = try actions(episodeID: episodeID).first(where: { ActionKey(rawValue: $0.key) == key }) else { return nil }
        return try Action(record)
    }

    /// Marks the episode's firing notice delivered unless it already is: Alertmanager got the
    /// episode's alert another way (the re-send loop) or its resolution. True when it changed.
    @discardableResult
    public func markFiringNoticeDelivered(episodeID: Int64, now: Date) throws -> Bool {
        let key = ActionKey.episodeAlert(episodeID: episodeID, notice: .firing).rawValue
        guard let firing = try action(key: key), firing.state != .delivered else { return false }
        try markDelivered(id: firing.id, now: now)
        return true
    }
}
