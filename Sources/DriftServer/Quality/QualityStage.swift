import DriftCore
import DriftIngest
import DriftStats
import DriftStore
import Foundation
import Logging

/// Model quality from delayed labels (settings.quality): the label join, each window's
/// realized and estimated quality, and the quality-degraded episode. Owned by the model actor
/// (so a window's quality is computed after its evaluation, in window order); what it changes
/// comes back as events.
struct QualityStage: Sendable {
    let model: String
    private let store: any Store
    private let metrics: DriftMetrics
    private let logger: Logger
    /// The labelled baseline's quality and calibrator (from the baseline upload).
    private(set) var baseline: QualityBaseline?
    private var episodes: EpisodeRecorder?
    private var lastRetry = Date.distantPast

    init(model: String, store: any Store, metrics: DriftMetrics, logger: Logger) {
        self.model = model
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// The quality-episode state (nil when the model has no quality settings).
    var state: EpisodeState? { episodes?.state }

    /// After a restart: the labelled baseline and the episode state replayed over the stored
    /// window verdicts.
    mutating func restore(spec: QualitySpec?) throws {
        guard let spec else { return }
        baseline = try store.qualityBaseline(model: model)
        var recorder = EpisodeRecorder(model: model, kind: .qualityDegraded, confirm: spec.confirm, resolve: spec.resolve)
        let verdicts = try store.windowQualities(model: model, limit: 200).reversed().compactMap { wq in
            wq.degraded.map { (seq: wq.seq, at: 0.0, degraded: $0) }
        }
        try recorder.restore(verdicts: verdicts, store: store)
        episodes = recorder
        metrics.qualityDegraded(model: model, recorder.state == .confirmed)
        if let baseline { publishBaseline(baseline, spec: spec) }
    }

    mutating func install(_ q: QualityBaseline, spec: QualitySpec?) {
        baseline = q
        if let spec { publishBaseline(q, spec: spec) }
    }

    private func publishBaseline(_ q: QualityBaseline, spec: QualitySpec) {
        for metric in spec.task == .binary ? QualitySpec.binaryMetrics : QualitySpec.regressionMetrics {
            metrics.quality(model: model, metric: metric, source: "baseline", qualityValue(metric, binary: q.binary, regression: q.regression))
        }
    }

    // MARK: labels

    /// Stores labels and joins those whose prediction is already stored. A label for a
    /// prediction of an already closed window is `late`: still joined, and that window's
    /// quality is recomputed.
    mutating func ingest(_ labels: [LabelInput], spec: QualitySpec, now: Date, events: inout [ModelEvent]) throws -> [LabelTally: Int] {
        let outcomes = try store.storeLabels(model: model, labels, receivedAt: now)
        var fresh: [String] = []
        var duplicates = 0
        for (label, outcome) in zip(labels, outcomes) {
            if outcome == .duplicate { duplicates += 1 } else { fresh.append(label.predictionID) }
        }
        let joined = try join(fresh, spec: spec, now: now, events: &events)
        let counts: [LabelTally: Int] = [
            .joined: joined.onTime, .late: joined.late, .pending: fresh.count - joined.onTime - joined.late, .duplicate: duplicates,
        ]
        for outcome in [LabelTally.pending, .duplicate] where counts[outcome, default: 0] > 0 {
            metrics.labels(model: model, outcome: outcome, counts[outcome, default: 0])
        }
        return counts
    }

    /// Joins labels to their stored predictions (score, endpoint and segment copied), then
    /// recomputes the quality of every closed window that got labels. `closing`: the first
    /// batch of the window being closed (its labels are on time).
    private mutating func join(_ ids: [String], spec: QualitySpec, now: Date, closing: Int64? = nil,
                               events: inout [ModelEvent]) throws -> (onTime: Int, late: Int) {
        guard !ids.isEmpty else { return (0, 0) }
        var byBatch: [Int64: [(id: String, row: Int)]] = [:]
        for (id, at) in try store.lookupPredictions(model: model, ids: ids) { byBatch[at.batchID, default: []].append((id, at.row)) }
        guard !byBatch.isEmpty else { return (0, 0) }
        var joins: [LabelJoin] = []
        for (batchID, rows) in byBatch {
            // Pruned since the lookup: its labels stay pending until the horizon.
            guard let record = try store.batch(id: batchID) else { continue }
            let batch = try decodeStoredBatch(Array(record.payload))
            for (id, row) in rows where row < batch.count {
                var score: Double?
                if case .number(let v)? = batch.predictions?.cell(at: row), v.isFinite { score = v }
                var segment: String?
                if let s = spec.segment, let column = batch.features[s] {
                    switch column.cell(at: row) {
                    case .text(let t): segment = t
                    case .number(let v): segment = categoryLabel(v)
                    case .missing: segment = nil
                    }
                }
                let endpoint = row < batch.endpoints.count ? batch.endpoints[row] : .production
                joins.append(LabelJoin(predictionID: id, batchID: batchID, row: row, endpoint: endpoint, score: score, segment: segment))
            }
        }
        try store.markLabelsJoined(model: model, joins)
        let lastClosed = try closing.map { $0 - 1 } ?? (store.lastWindow(model: model)?.batches.upperBound ?? 0)
        let late = joins.filter { $0.batchID <= lastClosed }
        if !late.isEmpty {
            let touched = Set(late.map(\.batchID))
            let windows = try store.windowSummaries(model: model, limit: 200).filter { w in touched.contains { w.batches.contains($0) } }
            for w in windows.sorted(by: { $0.seq < $1.seq }) {
                try update(seq: w.seq, batches: w.batches, estimated: nil, spec: spec, now: now, events: &events)
            }
        }
        let joined = (onTime: joins.count - late.count, late: late.count)
        events.append(.labelsJoined(onTime: joined.onTime, late: joined.late))
        return joined
    }

    /// Every 10 s: pending labels whose prediction may have arrived since; labels older than
    /// the horizon are given up as unmatched (counted).
    mutating func retryPending(spec: QualitySpec, now: Date, events: inout [ModelEvent]) throws {
        guard now.timeIntervalSince(lastRetry) >= 10 else { return }
        lastRetry = now
        let pending = try store.pendingLabels(model: model, limit: 5000)
        if !pending.isEmpty { _ = try join(pending.map(\.predictionID), spec: spec, now: now, events: &events) }
        let given = try store.markLabelsUnmatched(model: model, receivedBefore: now.addingTimeInterval(-spec.labelHorizonHours * 3600))
        if given > 0 { metrics.labels(model: model, outcome: .unmatched, given) }
    }

    // MARK: windows

    /// At window close: labels that came before their predictions join now, then the CBPE
    /// estimate from the window's scores and the realized quality of the joined labels.
    mutating func windowClosed(_ closed: WindowAccumulator, seq: Int, spec: QualitySpec, now: Date, events: inout [ModelEvent]) throws {
        guard let first = closed.firstBatchID, let last = closed.lastBatchID else { return }
        let pending = try store.pendingLabels(model: model, limit: 20_000)
        if !pending.isEmpty { _ = try join(pending.map(\.predictionID), spec: spec, now: now, closing: first, events: &events) }
        var estimate: EstimatedBinaryQuality?
        if spec.task == .binary, let calibrator = baseline?.calibrator,
           case .numeric(let scores, _)? = closed.windowData(source: "window").prediction
        {
            let finite = scores.filter(\.isFinite)
            if !finite.isEmpty { estimate = estimateBinaryQuality(scores: finite, calibrator: calibrator, threshold: spec.threshold) }
        }
        try update(seq: seq, batches: first...last, estimated: estimate, spec: spec, now: now, events: &events)
    }

    /// Recomputes and stores a window's quality; a window that just got enough labels feeds
    /// the quality-episode state machine.
    private mutating func update(seq: Int, batches: ClosedRange<Int64>, estimated: EstimatedBinaryQuality?, spec: QualitySpec,
                                 now: Date, events: inout [ModelEvent]) throws {
        let previous = try store.windowQuality(model: model, seq: seq)
        let labelled = try store.labelledPredictions(model: model, batches: batches)
        let wq = WindowQuality.realize(seq: seq, spec: spec, labelled: labelled, baseline: baseline,
                                       estimated: estimated ?? previous?.estimated)
        try store.saveWindowQuality(model: model, wq, now: now)
        publish(wq, spec: spec)
        if previous?.degraded == nil, let degraded = wq.degraded {
            try observe(seq: seq, degraded: degraded, wq: wq, spec: spec, now: now, events: &events)
        }
    }

    private func publish(_ wq: WindowQuality, spec: QualitySpec) {
        let names = spec.task == .binary ? QualitySpec.binaryMetrics + ["positive_rate", "predicted_positive_rate"] : QualitySpec.regressionMetrics
        if wq.labelledRows >= spec.minLabelledRows {
            for m in names { metrics.quality(model: model, metric: m, source: "realized", qualityValue(m, binary: wq.realizedBinary, regression: wq.realizedRegression)) }
            for s in wq.segments { metrics.qualitySegment(model: model, metric: spec.metric, segment: s.segment, s.value) }
            metrics.qualityLabelledRows(model: model, wq.labelledRows)
        }
        if let e = wq.estimated {
            for m in ["roc_auc", "precision", "recall", "f1", "accuracy"] { metrics.quality(model: model, metric: m, source: "estimated", estimatedQualityValue(m, e)) }
        }
    }

    /// The quality-degraded episode: ok → suspected → confirmed (k of the last n decided
    /// windows degraded) → resolved, recorded like drift episodes with kind `quality_degraded`.
    private mutating func observe(seq: Int, degraded: Bool, wq: WindowQuality, spec: QualitySpec, now: Date,
                                  events: inout [ModelEvent]) throws {
        var recorder = episodes ?? EpisodeRecorder(model: model, kind: .qualityDegraded, confirm: spec.confirm, resolve: spec.resolve)
        let evidence = QualityEvidence(metric: spec.metric, windowSeq: seq, realized: wq.realized.map(formatFigure),
                                       baseline: wq.baseline.map(formatFigure))
        let transitions = recorder.observe(windowSeq: seq, at: now.timeIntervalSince1970, flagged: degraded,
                                           subjects: degraded ? [spec.metric] : [], share: 0)
        let recorded = try recorder.record(transitions, evidence: { _ in .quality(evidence) }, store: store)
        episodes = recorder
        metrics.qualityDegraded(model: model, recorder.state == .confirmed)
        for r in recorded {
            logger.notice("quality episode transition", metadata: [
                "model": .string(model), "episode": .stringConvertible(r.episode.id), "from": .string(r.transition.from.rawValue),
                "to": .string(r.transition.to.rawValue), "window_seq": .stringConvertible(seq),
            ])
            events.append(.episodeTransition(r))
        }
    }
}
