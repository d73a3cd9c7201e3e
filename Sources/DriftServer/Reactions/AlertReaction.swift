import DriftActions
import DriftCore
import DriftStore
import Foundation

/// Alertmanager notices, decided when an episode moves or a candidate is judged and kept in
/// the outbox (delivered by ActionDispatcher). Keys make a replay enqueue nothing twice.
struct AlertReaction: ModelEventReaction {
    let policy: AlertPolicy

    func react(to event: ModelEvent, model: ModelSnapshot, store: any Store) throws {
        guard !policy.config.urls.isEmpty else { return }
        switch event {
        case .episodeTransition(let recorded) where recorded.episode.kind == .drift:
            try episodeNotice(recorded, model: model, store: store)
        case .candidateJudged(let candidate, let decision):
            try gateNotice(candidate, decision, model: model, store: store)
        default:
            return
        }
    }

    /// On confirmation a firing notice; at the end of a confirmed episode its resolution,
    /// carrying the firing notice's text (the figures people saw).
    private func episodeNotice(_ recorded: RecordedTransition, model: ModelSnapshot, store: any Store) throws {
        let (t, episode) = (recorded.transition, recorded.episode)
        var alert = policy.alert(model: model.model, episode: episode, report: model.lastReport, driftedFeatures: t.driftedFeatures)
        let key: ActionKey
        if t.to == .confirmed {
            key = .episodeAlert(episodeID: episode.id, notice: .firing)
        } else if t.from == .confirmed {
            key = .episodeAlert(episodeID: episode.id, notice: .resolved)
            alert.resolvedAt = t.at
            if case .alert(let original)? = try store.action(episodeID: episode.id, key: .episodeAlert(episodeID: episode.id, notice: .firing)) {
                alert.annotations = original.annotations
            }
        } else {
            return
        }
        try store.enqueue(.alert(alert), key: key, model: model.model, now: model.now, episodeID: episode.id)
    }

    /// A one-off notice of the gate's verdict on a candidate.
    private func gateNotice(_ c: CandidateRecord, _ decision: GateDecision, model: ModelSnapshot, store: any Store) throws {
        let name = model.model
        var labels = policy.config.labels
        labels["alertname"] = "DriftwatchCandidateGate"
        labels["model"] = name
        labels["candidate"] = c.version
        labels["verdict"] = decision.verdict.rawValue
        labels["severity"] = decision.verdict == .pass ? "info" : "warning"
        let alert = EpisodeAlert(
            episodeID: c.episodeID ?? 0, labels: labels,
            annotations: ["summary": "Candidate \(c.version) of model \(name) \(decision.verdict == .pass ? "passed" : "failed") the validation gate.",
                          "description": decision.reasons.joined(separator: "; "), "runbook_url": AlertPolicy.runbookURL],
            generatorURL: "\(policy.publicURL)/v1/models/\(name)/candidates", startsAt: model.now.timeIntervalSince1970, resolvedAt: nil,
            standalone: true)
        try store.enqueue(.alert(alert), key: .candidateGateAlert(model: name, version: c.version), model: name, now: model.now,
                          episodeID: nil)
    }
}
