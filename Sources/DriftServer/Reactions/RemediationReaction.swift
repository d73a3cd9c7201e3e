import DriftActions
import DriftCore
import DriftStore
import Foundation

/// What driftwatch does about drift in Kubernetes (outbox kind `remediation`): a retraining
/// run when an episode is confirmed, a shadow scorer when a candidate arrives, the canary
/// patch when the candidate passes its gate, and the shadow's removal when it fails or the
/// episode resolves (as configured).
struct RemediationReaction: ModelEventReaction {
    let runtime: RemediationRuntime
    let metrics: DriftMetrics

    func react(to event: ModelEvent, model: ModelSnapshot, store: any Store) throws {
        switch event {
        case .episodeTransition(let recorded) where recorded.episode.kind == .drift:
            try episodeMoved(recorded, model: model, store: store)
        case .candidateRegistered(let c):
            guard let call = runtime.createShadow(model: model.model, version: c.version, modelURI: c.modelURI, episodeID: c.episodeID)
            else { return }
            try store.recordRemediation(model: model.model, episodeID: c.episodeID, kind: .shadow, name: c.shadowName, state: .requested,
                                        detail: nil, now: model.now)
            try enqueue(call, key: .shadow(name: c.shadowName, step: .create), model: model, store: store)
            metrics.remediation(model: model.model, kind: RemediationKind.shadow.rawValue, state: .requested)
        case .candidateJudged(let c, let decision):
            if decision.verdict == .pass,
               let call = runtime.promote(model: model.model, modelURI: c.modelURI, version: c.version, episodeID: c.episodeID)
            {
                try store.recordRemediation(model: model.model, episodeID: c.episodeID, kind: .promotion, name: call.remediationName,
                                            state: .requested, detail: nil, now: model.now)
                try enqueue(call, key: .promotion(version: c.version), model: model, store: store)
            }
            if decision.verdict == .fail, runtime.config.shadow?.deleteOnFail == true {
                try enqueue(runtime.deleteShadow(name: c.shadowName, episodeID: c.episodeID),
                            key: .shadow(name: c.shadowName, step: .delete), model: model, store: store)
            }
        default:
            return
        }
    }

    /// On confirmation: the retraining run (once per episode, within cooldown and concurrency
    /// limits). When a confirmed episode ends: the pending candidate's shadow goes.
    private func episodeMoved(_ recorded: RecordedTransition, model: ModelSnapshot, store: any Store) throws {
        let (t, episode) = (recorded.transition, recorded.episode)
        if t.to == .confirmed {
            // The drifted data starts with the episode's first window.
            let firstSeq = try store.transitions(episodeID: episode.id).first?.windowSeq ?? t.windowSeq
            let from = try store.windowSummaries(model: model.model, limit: 200).first { $0.seq == firstSeq }?.startedAt
                ?? episode.openedAt
            let request = RetrainRequest(
                model: model.model, episodeID: episode.id, baselineVersion: model.baselineVersion, driftedFeatures: t.driftedFeatures,
                driftFrom: from.timeIntervalSince1970, driftTo: t.at,
                candidatesURL: "\(runtime.publicURL)/v1/models/\(model.model)/candidates")
            if let call = try runtime.retrain(request, store: store, now: model.now) {
                try enqueue(call, key: .retrain(episodeID: episode.id), model: model, store: store)
                metrics.remediation(model: model.model, kind: call.remediationKind, state: .requested)
            } else {
                metrics.remediation(model: model.model, kind: "retrain_\(runtime.config.retrain?.kind.rawValue ?? "none")", state: .skipped)
            }
        } else if t.from == .confirmed, let c = model.pendingCandidate, runtime.config.shadow?.deleteOnResolve == true {
            try enqueue(runtime.deleteShadow(name: c.shadowName, episodeID: c.episodeID),
                        key: .shadow(name: c.shadowName, step: .delete), model: model, store: store)
        }
    }

    private func enqueue(_ call: Action, key: ActionKey, model: ModelSnapshot, store: any Store) throws {
        try store.enqueue(call, key: key, model: model.model, now: model.now, episodeID: call.episodeID)
    }
}
