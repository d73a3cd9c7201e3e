import DriftActions
import DriftCore
import DriftStore
import Foundation

/// What a model's stages tell the rest of the service. The model actor produces them in
/// order (a window's evaluation, then the episode transitions it caused, then the candidate
/// verdict it led to); reactions (metrics, alerts, MLflow, remediation) consume them.
enum ModelEvent: Sendable {
    /// A closed window was evaluated and stored.
    case windowEvaluated(WindowReport, seconds: Double)
    /// A drift or quality episode moved.
    case episodeTransition(RecordedTransition)
    /// Labels were joined to their predictions (on-time and late counts).
    case labelsJoined(onTime: Int, late: Int)
    /// A candidate was posted (by its training job or from the MLflow registry).
    case candidateRegistered(CandidateRecord)
    /// The gate reached a final verdict on a candidate.
    case candidateJudged(CandidateRecord, GateDecision)
}

/// What a reaction may know about the model when it handles an event: a snapshot taken by the
/// model actor, so a reaction never calls back into it.
struct ModelSnapshot: Sendable {
    var model: String
    var settings: ModelSettings
    var baselineVersion: Int?
    /// The newest evaluated window.
    var lastReport: WindowReport?
    /// The MLflow run and version the baseline came from.
    var mlflowLink: MLflowLink?
    /// The candidate still being validated, if any.
    var pendingCandidate: CandidateRecord?
    var now: Date
}

/// A consumer of model events. Reactions run on the model actor, in the order they are
/// listed, and write what they decide (outbox actions, remediation records) to the store.
protocol ModelEventReaction: Sendable {
    func react(to event: ModelEvent, model: ModelSnapshot, store: any Store) throws
}
