import DriftCore
import DriftStats
import DriftStore
import Foundation

/// The candidate being validated on shadow traffic: its shadow/production pairs joined by
/// prediction id, and the gate (GatePolicy) judged after every window over all pairs since
/// the candidate arrived.
struct CandidateGate: Sendable {
    private(set) var candidate: CandidateRecord?
    private var join = ShadowJoin()

    /// After a restart: a candidate still pending keeps being validated (its shadow rows from
    /// before the restart are not replayed: the gate counts joined rows from then on).
    mutating func restore(model: String, store: any Store) throws {
        candidate = try store.candidates(model: model, limit: 1).first.flatMap { $0.verdict == .pending ? $0 : nil }
    }

    /// A new candidate replaces any pending one; its pairs start empty.
    mutating func register(_ record: CandidateRecord) {
        candidate = record
        join = ShadowJoin()
    }

    /// Adds a batch's rows (production and shadow halves pair up by prediction id).
    mutating func add(_ batch: ObservationBatch) {
        if candidate != nil { join.add(batch) }
    }

    /// Judges the pending candidate and stores the decision. A final verdict ends the
    /// validation and is returned; nil while pending (or with no candidate).
    mutating func judge(policy: GatePolicy, quality spec: QualitySpec?, model: String, store: any Store, now: Date) throws
        -> (CandidateRecord, GateDecision)?
    {
        guard var c = candidate else { return nil }
        let decision = GateDecision(policy: policy, comparison: join.comparison(threshold: policy.decisionThreshold),
                                    quality: try qualityComparison(spec: spec, model: model, store: store))
        try store.updateCandidate(model: model, version: c.version, decision: decision, now: now)
        c.verdict = decision.verdict
        c.decision = decision
        guard decision.verdict != .pending else {
            candidate = c
            return nil
        }
        candidate = nil
        return (c, decision)
    }

    /// Both models' primary quality metric on the joined pairs that have labels (nil until
    /// `min_labelled_rows` of them).
    private func qualityComparison(spec: QualitySpec?, model: String, store: any Store) throws -> QualityComparison? {
        guard let spec, !join.pairIDs.isEmpty else { return nil }
        let labels = try store.labelValues(model: model, ids: join.pairIDs)
        var production: [Double] = [], shadow: [Double] = [], y: [Double] = []
        for (k, id) in join.pairIDs.enumerated() {
            guard let label = labels[id] else { continue }
            production.append(join.pairs[k].production)
            shadow.append(join.pairs[k].shadow)
            y.append(label)
        }
        guard y.count >= spec.minLabelledRows else { return nil }
        func value(_ scores: [Double]) -> Double? {
            switch spec.task {
            case .binary: qualityValue(spec.metric, binary: binaryQuality(scores: scores, labels: y.map { $0 >= 0.5 }, threshold: spec.threshold), regression: nil)
            case .regression: qualityValue(spec.metric, binary: nil, regression: regressionQuality(predictions: scores, targets: y))
            }
        }
        guard let p = value(production), let c = value(shadow) else { return nil }
        return QualityComparison(metric: spec.metric, higherIsBetter: spec.higherIsBetter, production: p, candidate: c, rows: y.count)
    }
}
