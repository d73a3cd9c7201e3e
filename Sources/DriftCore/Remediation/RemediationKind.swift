/// What driftwatch did about drift, as its remediation records say. Raw values are the
/// store's and the metrics' labels.
public enum RemediationKind: String, Sendable, Codable, CaseIterable {
    /// A retraining Kubernetes Job on the GPU pool.
    case retrainJob = "retrain_job"
    /// A retraining Argo Workflow submitted from a WorkflowTemplate.
    case retrainArgo = "retrain_argo"
    /// A retraining run requested from a webhook.
    case retrainWebhook = "retrain_webhook"
    /// The candidate's shadow InferenceService.
    case shadow
    /// The canary patch of the production InferenceService after a passing gate.
    case promotion

    /// The retraining kinds.
    public static let retraining: [RemediationKind] = [.retrainJob, .retrainArgo, .retrainWebhook]
}

/// Where a remediation stands.
public enum RemediationState: String, Sendable, Codable, CaseIterable {
    /// Decided and in the outbox, not delivered yet.
    case requested
    /// The object (Job, Workflow, InferenceService) was created, or the webhook answered.
    case created
    /// The retraining Job is running.
    case running
    case succeeded
    case failed
    /// Not started: cooldown or too many runs active (the record's detail says which).
    case skipped
    /// The shadow InferenceService was removed.
    case deleted
    /// The promotion patch was applied.
    case patched

    /// Requested, created or running: the run still counts against `max_concurrent`.
    public var isActive: Bool { self == .requested || self == .created || self == .running }
}
