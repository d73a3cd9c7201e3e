import DriftActions
import DriftCore
import DriftStore
import Foundation

/// MLflow writes (outbox kind `mlflow`): a drift episode's confirmation and resolution as
/// tags on the production model version and figures on its monitoring run; a candidate's
/// gate verdict as tags on the candidate's version (and the alias moved on a pass).
struct MLflowReaction: ModelEventReaction {
    /// Where episode links point (the service's public URL).
    let publicURL: String
    /// Where the gate's links point (remediation's public URL), when remediation is on.
    let gateURL: String?

    func react(to event: ModelEvent, model: ModelSnapshot, store: any Store) throws {
        guard let spec = model.settings.mlflow else { return }
        switch event {
        case .episodeTransition(let recorded) where recorded.episode.kind == .drift:
            try episodeTags(recorded, spec: spec, model: model, store: store)
        case .candidateJudged(let c, let decision):
            guard let version = c.mlflowVersion, let gateURL else { return }
            let promote = decision.verdict == .pass ? spec.promoteAlias : nil
            let call = MLflowCall(spec: spec, model: model.model, version: version, tags: [
                "driftwatch.gate": decision.verdict.rawValue,
                "driftwatch.gate_reasons": decision.reasons.joined(separator: "; "),
                "driftwatch.gate_decided_at": rfc3339(model.now),
                "driftwatch.gate_url": "\(gateURL)/v1/models/\(model.model)/candidates",
            ], alias: promote, episodeID: c.episodeID)
            try enqueue(call, key: .candidateGateMLflow(model: model.model, version: version), model: model, store: store)
        default:
            return
        }
    }

    /// On confirmation and on the resolution of a confirmed episode: the state, drifted
    /// features and link as tags on the production model version (the baseline's, else the
    /// alias's at delivery), and the window's figures as metrics of the monitoring run.
    private func episodeTags(_ recorded: RecordedTransition, spec: MLflowSpec, model: ModelSnapshot, store: any Store) throws {
        let (t, episode) = (recorded.transition, recorded.episode)
        guard t.to == .confirmed || (t.from == .confirmed && t.to == .resolved) else { return }
        let state = t.to == .confirmed ? "confirmed" : "resolved"
        var tags = [
            "driftwatch.drift_state": state,
            "driftwatch.episode_id": String(episode.id),
            "driftwatch.episode_url": "\(publicURL)/models/\(model.model)/episodes/\(episode.id)",
            "driftwatch.model": model.model,
        ]
        if t.to == .confirmed {
            tags["driftwatch.drifted_features"] = t.driftedFeatures.joined(separator: ",")
            tags["driftwatch.drift_confirmed_at"] = rfc3339(Date(timeIntervalSince1970: t.at))
        } else {
            tags["driftwatch.drift_resolved_at"] = rfc3339(Date(timeIntervalSince1970: t.at))
        }
        var metrics: [MLflowMetric] = []
        if let r = model.lastReport, r.seq == t.windowSeq {
            let at = Int64((r.endedAt * 1000).rounded())
            let step = Int64(r.seq)
            func add(_ key: String, _ value: Double?) {
                guard let value, value.isFinite else { return }
                metrics.append(MLflowMetric(key: MLflowMetric.key(key), value: value, timestamp: at, step: step))
            }
            add("driftwatch.drift_confirmed", t.to == .confirmed ? 1 : 0)
            add("driftwatch.drifted_share", r.summary.driftedShare)
            add("driftwatch.drifted_features", Double(r.summary.drifted))
            add("driftwatch.window_rows", Double(r.rows))
            add("driftwatch.reconstruction_error", r.multivariate?.reconstructionError)
            for f in r.allResults.prefix(900) { add("psi.\(f.name)", f.psi) }
        }
        let call = MLflowCall(spec: spec, model: model.model, version: model.mlflowLink?.modelVersion, tags: tags, metrics: metrics,
                              episodeID: episode.id)
        try enqueue(call, key: .episodeMLflow(episodeID: episode.id, state: t.to == .confirmed ? .confirmed : .resolved), model: model, store: store)
    }

    private func enqueue(_ call: MLflowCall, key: ActionKey, model: ModelSnapshot, store: any Store) throws {
        try store.enqueue(.mlflow(call), key: key, model: model.model, now: model.now, episodeID: call.episodeID)
    }
}
