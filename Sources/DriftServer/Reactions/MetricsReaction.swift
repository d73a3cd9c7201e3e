import DriftCore
import DriftStore
import Foundation

/// The per-model Prometheus series that follow events: window figures and evaluation time,
/// the drift-episode state, label joins, candidate gate verdicts.
struct MetricsReaction: ModelEventReaction {
    let metrics: DriftMetrics

    func react(to event: ModelEvent, model: ModelSnapshot, store: any Store) throws {
        let name = model.model
        switch event {
        case .windowEvaluated(let report, let seconds):
            metrics.evaluated(model: name, seconds: seconds)
            metrics.report(model: name, report)
            // Every window sets the state, so a new model's series exists from its first window.
            metrics.episode(model: name, state: report.episodeState)
        case .episodeTransition:
            // The drift state is set from the window; the quality state by the quality stage.
            return
        case .labelsJoined(let onTime, let late):
            if onTime > 0 { metrics.labels(model: name, outcome: .joined, onTime) }
            if late > 0 { metrics.labels(model: name, outcome: .late, late) }
        case .candidateRegistered(let c):
            metrics.candidateGate(model: name, candidate: c.version, verdict: .pending)
        case .candidateJudged(let c, let decision):
            metrics.candidateGate(model: name, candidate: c.version, verdict: decision.verdict)
        }
    }
}
