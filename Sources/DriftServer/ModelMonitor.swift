import DriftActions
import DriftCore
import DriftIngest
import DriftStats
import DriftStore
import Foundation
import Logging

/// One monitored model: its settings and prepared baseline, the open window, the episode
/// tracker. An actor, so a batch's store append and its addition to the window happen in
/// the same order for every batch (the window's batch-id bounds then say exactly which
/// batches it holds — what the restart rebuild relies on).
actor ModelMonitor {
    let name: String
    private(set) var settings: ModelSettings
    private(set) var baseline: ModelBaseline?
    private var window: WindowAccumulator
    private var tracker: EpisodeTracker
    private var openEpisode: EpisodeRecord?
    private var nextSeq: Int
    private(set) var lastReport: WindowReport?
    /// The latest background evaluation; each waits for the one before it.
    private var evaluating: Task<WindowReport?, Error>?
    private let store: DriftStore
    private let metrics: DriftMetrics
    private let logger: Logger
    private let clock: @Sendable () -> Date
    /// Set when Alertmanager is configured: confirmed and resolved episodes enqueue a push.
    private let alertPolicy: AlertPolicy?
    /// Set when remediation applies to this model.
    private let remediation: RemediationRuntime?
    /// The candidate being validated on shadow traffic, and its joined predictions.
    private var candidate: CandidateRecord?
    private var shadowJoin = ShadowJoin()
    /// Model quality (settings.quality): the labelled baseline, the quality-episode tracker.
    private var qualityBaseline: QualityBaseline?
    private var qualityTracker: EpisodeTracker?
    private var openQualityEpisode: EpisodeRecord?
    private var lastLabelRetry = Date.distantPast
    /// The PCA reference of multivariate drift (models with two or more features).
    private var multivariate: MultivariateBaseline?
    /// Thresholds calibrated on the baseline for the last window size (`calibration:
    /// baseline_chunks`); recomputed when a window's size differs by more than 10 %.
    private var calibration: BaselineCalibration?
    /// The MLflow run and model version the current baseline came from (settings.mlflow).
    private(set) var mlflowLink: MLflowLink?

    init(name: String, settings: ModelSettings, store: DriftStore, metrics: DriftMetrics, logger: Logger,
         clock: @escaping @Sendable () -> Date, alertPolicy: AlertPolicy? = nil, remediation: RemediationRuntime? = nil) {
        self.name = name
        self.alertPolicy = alertPolicy
        self.remediation = remediation
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        window = WindowAccumulator(settings: settings)
        tracker = EpisodeTracker(confirm: settings.confirm, resolve: settings.resolve)
        nextSeq = 1
    }

    // MARK: restart

    /// Restores the model from the store: baseline, episode tracker, last report, and the
    /// open window rebuilt from the batches after the last closed window.
    func restore() throws {
        if let b = try store.latestBaseline(model: name) {
            let profile = try BaselineCodec.decode(Array(b.profile))
            baseline = ModelBaseline(version: b.version, profile: profile, settings: settings)
        }
        let recent = try store.windows(model: name, limit: 200).reversed()
        var t = EpisodeTracker(confirm: settings.confirm, resolve: settings.resolve)
        for w in recent {
            _ = t.observe(windowSeq: Int(w.seq), at: w.endedAt.timeIntervalSince1970, drifted: w.drifted,
                          driftedFeatures: [], driftedShare: w.driftShare)
        }
        tracker = t
        openEpisode = try store.episodes(model: name, kind: "drift", limit: 1).first.flatMap { e in
            e.state == EpisodeState.suspected.rawValue || e.state == EpisodeState.confirmed.rawValue ? e : nil
        }
        if let last = recent.last {
            nextSeq = Int(last.seq) + 1
            lastReport = try? JSONDecoder().decode(WindowReport.self, from: Data(last.reportJSON.utf8))
        }
        var after = try store.lastWindow(model: name)?.lastBatchID ?? 0
        window = WindowAccumulator(settings: settings)
        let limits = baseline?.limits ?? IngestLimits()
        while true {
            let batches = try store.batches(model: name, afterBatchID: after, limit: 200)
            if batches.isEmpty { break }
            for b in batches {
                let batch = try decodeStoredBatch(Array(b.payload))
                window.add(batch, batchID: b.id, receivedAt: b.receivedAt.timeIntervalSince1970, limits: limits)
                after = b.id
            }
        }
        metrics.windowRows(model: name, window.rows)
        metrics.episode(model: name, state: tracker.state)
        if let last = try store.lastBatchReceivedAt(model: name) { metrics.lastObservation(model: name, at: last) }
        // A candidate still pending validation keeps being validated (its shadow rows from
        // before the restart are not replayed: the gate counts joined rows from now on).
        candidate = try store.candidates(model: name, limit: 1).first.flatMap { $0.verdict == GateVerdict.pending.rawValue ? $0 : nil }
        try restoreQuality()
        multivariate = try store.multivariateBaseline(model: name).flatMap {
            try? JSONDecoder().decode(MultivariateBaseline.self, from: Data($0.utf8))
        }
        mlflowLink = try store.mlflowLink(model: name).flatMap { link in
            link.baselineVersion == baseline?.version ? try? JSONDecoder().decode(MLflowLink.self, from: Data(link.json.utf8)) : nil
        }
        logger.info("model restored", metadata: [
            "model": .string(name), "baseline_version": .stringConvertible(baseline?.version ?? 0),
            "open_window_rows": .stringConvertible(window.rows), "episode_state": .string(tracker.state.rawValue),
        ])
    }

    // MARK: settings and baseline

    /// New settings: the open window restarts if the schema changed, the episode tracker if
    /// the confirmation policy changed.
    func update(settings newSettings: ModelSettings) {
        let schemaChanged = newSettings.features != settings.features || newSettings.prediction != settings.prediction
        settings = newSettings
        if schemaChanged { window = WindowAccumulator(settings: newSettings) }
        // A new confirmation policy starts the episode logic afresh; the same one keeps its state.
        if newSettings.confirm != tracker.confirm || newSettings.resolve != tracker.resolve {
            tracker = EpisodeTracker(confirm: newSettings.confirm, resolve: newSettings.resolve)
        }
        if let b = baseline {
            baseline = ModelBaseline(version: b.version, profile: mergedProfile(b), settings: newSettings)
        }
    }

    private func mergedProfile(_ b: ModelBaseline) -> BaselineProfile {
        var p = b.features
        p.features += b.prediction?.features ?? []
        return p
    }

    func install(baseline profile: BaselineProfile, version: Int, multivariate: MultivariateBaseline? = nil, mlflowLink: MLflowLink? = nil) {
        baseline = ModelBaseline(version: version, profile: profile, settings: settings)
        self.multivariate = multivariate
        self.mlflowLink = mlflowLink
        calibration = nil
    }

    // MARK: ingest

    struct Appended: Sendable {
        var batchID: Int64
        var duplicate: Bool
        var rows: Int
        var windowRows: Int
        /// Sequence number of the window this batch closed (evaluated in the background).
        var closed: Int?
    }

    /// Stores the batch (committed before this returns: acknowledged means on disk), adds it
    /// to the open window, counts quality, and closes the window when it is full.
    func append(_ batch: ObservationBatch, payload: [UInt8], idempotencyKey: String?, receivedAt: Date) throws -> Appended {
        var ids: [(id: String, row: Int)] = []
        ids.reserveCapacity(batch.count)
        for (row, id) in batch.ids.enumerated() { if let id { ids.append((id, row)) } }
        let times = batch.timestamps.compactMap { $0 }
        let outcome = try store.appendBatch(
            model: name, receivedAt: receivedAt, rows: batch.count, firstEventTime: times.min(), lastEventTime: times.max(),
            idempotencyKey: idempotencyKey, payload: Data(payload), predictionIDs: ids)
        switch outcome {
        case .duplicate(let id, let rows):
            return Appended(batchID: id, duplicate: true, rows: rows, windowRows: window.rows, closed: nil)
        case .stored(let id):
            let tally = window.add(batch, batchID: id, receivedAt: receivedAt.timeIntervalSince1970, limits: baseline?.limits ?? IngestLimits())
            if candidate != nil { shadowJoin.add(batch) }
            count(tally)
            var closed: Int?
            if let target = settings.window.rows, window.rows >= target {
                closed = scheduleClose(now: clock())?.seq
            }
            metrics.windowRows(model: name, window.rows)
            metrics.lastObservation(model: name, at: receivedAt)
            return Appended(batchID: id, duplicate: false, rows: batch.count, windowRows: window.rows, closed: closed)
        }
    }

    private func count(_ tally: IngestTally) {
        for (endpoint, n) in tally.rowsByEndpoint { metrics.observations(model: name, endpoint: endpoint, n) }
        for (feature, checks) in tally.violations {
            for (check, n) in checks {
                // Unknown feature names are the sender's: DriftMetrics bounds their label values.
                metrics.violation(model: name, feature: feature, check: check, n)
                if check == .missing { metrics.missing(model: name, feature: feature, n) }
            }
        }
        if !tally.predictionValues.isEmpty { metrics.predictionValues(model: name, tally.predictionValues) }
    }

    // MARK: windows

    /// Closes a time-based window whose time is up (and that holds min_rows).
    func tick() {
        retryPendingLabels()
        guard let seconds = settings.window.seconds, let opened = window.openedAt else { return }
        let now = clock()
        guard now.timeIntervalSince1970 - opened >= seconds, window.rows >= settings.minRows else { return }
        _ = scheduleClose(now: now)
    }

    enum CloseRefusal: Error {
        case noBaseline
        case tooFewRows(rows: Int, minRows: Int)
    }

    /// `POST /v1/models/{m}/evaluate`: close the window now if it holds min_rows, and wait
    /// for its report.
    func closeNow() async throws -> WindowReport {
        guard baseline != nil else { throw CloseRefusal.noBaseline }
        guard window.rows >= settings.minRows else { throw CloseRefusal.tooFewRows(rows: window.rows, minRows: settings.minRows) }
        guard let task = scheduleClose(now: clock())?.task, let report = try await task.value else { throw CloseRefusal.noBaseline }
        return report
    }

    /// Waits for the windows being evaluated (graceful shutdown, tests).
    func drain() async {
        _ = try? await evaluating?.value
    }

    /// Hands the full window to a background evaluation and opens a fresh one at once, so
    /// ingest never waits for the statistics (a KS p-value of a large window in its small-p
    /// region costs tens of milliseconds per feature — scipy's exact Smirnov sum). Evaluations
    /// of one model run one after another, in window order. nil when there is no baseline
    /// (the window keeps filling).
    private func scheduleClose(now: Date) -> (seq: Int, task: Task<WindowReport?, Error>)? {
        guard let baseline, window.firstBatchID != nil, window.rows > 0 else { return nil }
        let closing = window
        let seq = nextSeq
        let settings = self.settings
        let name = self.name
        nextSeq += 1
        window = WindowAccumulator(settings: settings)
        metrics.windowRows(model: name, 0)
        let previous = evaluating
        let multivariate = settings.multivariate == nil ? nil : self.multivariate
        let store = self.store
        let cached = calibration
        let task = Task.detached { [self] () -> WindowReport? in
            _ = try? await previous?.value
            let started = ContinuousClock.now
            var calibration: BaselineCalibration?
            if settings.detector.calibration == .baselineChunks {
                // Cached for row windows (always the same size); time windows recalibrate when their size moves > 10 %.
                if let cached, abs(Double(cached.windowRows - closing.rows)) <= 0.1 * Double(cached.windowRows) {
                    calibration = cached
                } else {
                    calibration = baseline.calibration(windowRows: closing.rows, config: settings.detector)
                }
            }
            var result = evaluate(window: closing, baseline: baseline, config: settings.detector, model: name, seq: seq,
                                  now: now.timeIntervalSince1970, calibration: calibration)
            if let multivariate, let first = closing.firstBatchID, let last = closing.lastBatchID {
                let sigmas = settings.detector.calibration == .baselineChunks ? settings.detector.calibrationK : 3
                result.features.attach(multivariate: try? multivariate.compare(store: store, model: name, batches: first...last, sigmas: sigmas))
            }
            let elapsed = ContinuousClock.now - started
            return try await self.finish(closing, result: result, baseline: baseline, seq: seq, now: now,
                                         seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
                                         calibration: calibration)
        }
        evaluating = task
        return (seq, task)
    }

    /// Records an evaluated window: the episode tracker, the store, metrics.
    private func finish(_ closed: WindowAccumulator, result: (features: DriftReport, prediction: FeatureResult?),
                        baseline: ModelBaseline, seq: Int, now: Date, seconds: Double,
                        calibration: BaselineCalibration? = nil) throws -> WindowReport {
        if let calibration, baseline.version == self.baseline?.version { self.calibration = calibration }
        let nowSeconds = now.timeIntervalSince1970
        let drifted = result.features.summary.windowDrifted
        var driftedNames = result.features.features.filter(\.drifted).map(\.name)
        if let p = result.features.summary.verdict?.prediction { driftedNames.append(p) }
        if result.features.summary.multivariateDrifted == true { driftedNames.append(multivariateEvidenceName) }
        let transitions = tracker.observe(windowSeq: seq, at: closed.endedAt ?? nowSeconds, drifted: drifted,
                                          driftedFeatures: driftedNames, driftedShare: result.features.summary.driftedShare)
        var report = WindowReport(
            model: name, seq: seq, startedAt: closed.startedAt ?? nowSeconds, endedAt: closed.endedAt ?? nowSeconds,
            evaluatedAt: nowSeconds, rows: closed.rows, baselineVersion: baseline.version, baselineRows: baseline.features.rows,
            detector: settings.detector, features: result.features.features, prediction: result.prediction,
            summary: result.features.summary, episodeState: tracker.state, transitions: transitions)
        report.multivariate = result.features.multivariate
        let json = String(decoding: try reportEncoder.encode(report), as: UTF8.self)
        try store.insertWindow(WindowRecord(
            model: name, seq: Int64(seq), startedAt: Date(timeIntervalSince1970: report.startedAt),
            endedAt: Date(timeIntervalSince1970: report.endedAt), firstBatchID: closed.firstBatchID ?? 0,
            lastBatchID: closed.lastBatchID ?? 0, rows: report.rows, drifted: drifted,
            driftShare: report.summary.driftedShare, reportJSON: json))
        lastReport = report
        try record(transitions)
        metrics.evaluated(model: name, seconds: seconds)
        metrics.report(model: name, report)
        metrics.episode(model: name, state: tracker.state)
        logger.info("window evaluated", metadata: [
            "model": .string(name), "seq": .stringConvertible(seq), "rows": .stringConvertible(report.rows),
            "drifted_features": .string(driftedNames.joined(separator: ",")), "dataset_drifted": .stringConvertible(drifted),
            "drifted_by": .string((report.summary.verdict?.by ?? []).map(\.rawValue).joined(separator: ",")),
            "episode_state": .string(tracker.state.rawValue), "seconds": .stringConvertible(seconds),
        ])
        try judgeCandidate(now: now)
        try closeQuality(closed, seq: seq, now: now)
        if let retention = settings.retentionHours {
            _ = try? store.pruneBatches(model: name, receivedBefore: now.addingTimeInterval(-retention * 3600))
        }
        return report
    }

    /// Stores the episode and its transitions.
    private func record(_ transitions: [EpisodeTransition]) throws {
        for t in transitions {
            let at = Date(timeIntervalSince1970: t.at)
            let evidence = String(decoding: try reportEncoder.encode(t), as: UTF8.self)
            var episode: EpisodeRecord
            if t.from == .ok || t.from == .resolved {
                episode = EpisodeRecord(id: 0, model: name, state: t.to.rawValue, openedAt: at, confirmedAt: nil,
                                        resolvedAt: nil, lastWindowSeq: Int64(t.windowSeq), evidenceJSON: evidence)
            } else if var open = openEpisode {
                open.state = t.to == .ok ? "cleared" : t.to.rawValue
                open.lastWindowSeq = Int64(t.windowSeq)
                if t.to == .confirmed { open.confirmedAt = at; open.evidenceJSON = evidence }
                if t.to == .resolved || t.to == .ok { open.resolvedAt = at }
                episode = open
            } else {
                continue
            }
            episode = try store.upsertEpisode(episode)
            openEpisode = (t.to == .suspected || t.to == .confirmed) ? episode : nil
            try store.insertTransition(TransitionRecord(
                episodeID: episode.id, model: name, from: t.from.rawValue, to: t.to.rawValue, at: at,
                windowSeq: Int64(t.windowSeq), evidenceJSON: evidence))
            try enqueueAlert(t, episode: episode)
            try enqueueMLflow(t, episode: episode)
            try remediate(t, episode: episode)
            logger.notice("episode transition", metadata: [
                "model": .string(name), "episode": .stringConvertible(episode.id), "from": .string(t.from.rawValue),
                "to": .string(t.to.rawValue), "window_seq": .stringConvertible(t.windowSeq),
                "drifted_features": .string(t.driftedFeatures.joined(separator: ",")),
            ])
        }
    }

    // MARK: quality

    private func restoreQuality() throws {
        guard let spec = settings.quality else { return }
        if let stored = try store.qualityBaseline(model: name) {
            qualityBaseline = try? JSONDecoder().decode(QualityBaseline.self, from: Data(stored.json.utf8))
        }
        var tracker = EpisodeTracker(confirm: spec.confirm, resolve: spec.resolve)
        for (seq, json) in try store.windowQualities(model: name, limit: 200).reversed() {
            if let wq = try? JSONDecoder().decode(WindowQuality.self, from: Data(json.utf8)), let degraded = wq.degraded {
                _ = tracker.observe(windowSeq: seq, at: 0, drifted: degraded, driftedFeatures: [], driftedShare: 0)
            }
        }
        qualityTracker = tracker
        openQualityEpisode = try store.episodes(model: name, kind: "quality_degraded", limit: 1).first.flatMap { e in
            e.state == EpisodeState.suspected.rawValue || e.state == EpisodeState.confirmed.rawValue ? e : nil
        }
        metrics.qualityDegraded(model: name, tracker.state == .confirmed)
        if let b = qualityBaseline { publishBaselineQuality(b, spec: spec) }
    }

    /// The labelled baseline's quality and calibrator (from the baseline upload).
    func install(qualityBaseline q: QualityBaseline) {
        qualityBaseline = q
        if let spec = settings.quality { publishBaselineQuality(q, spec: spec) }
    }

    private func publishBaselineQuality(_ q: QualityBaseline, spec: QualitySpec) {
        for metric in spec.task == .binary ? QualitySpec.binaryMetrics : QualitySpec.regressionMetrics {
            metrics.quality(model: name, metric: metric, source: "baseline", qualityValue(metric, binary: q.binary, regression: q.regression))
        }
    }

    enum LabelOutcomeCount: String { case joined, pending, late, duplicate }

    /// Stores labels and joins those whose prediction is already stored. A label for a
    /// prediction of an already closed window is `late`: still joined, and that window's
    /// quality is recomputed.
    func ingestLabels(_ labels: [LabelInput], now: Date) throws -> [String: Int] {
        let outcomes = try store.storeLabels(model: name, labels, receivedAt: now)
        var counts: [String: Int] = [:]
        var fresh: [String] = []
        for (l, o) in zip(labels, outcomes) {
            if o == .duplicate { counts["duplicate", default: 0] += 1 } else { fresh.append(l.predictionID) }
        }
        let joined = try join(fresh, now: now)
        counts["joined"] = joined.onTime
        counts["late"] = joined.late
        counts["pending"] = fresh.count - joined.onTime - joined.late
        for (outcome, n) in counts where n > 0 { metrics.labels(model: name, outcome: outcome, n) }
        return counts
    }

    /// Joins labels to their stored predictions: copies score, endpoint and segment, then
    /// recomputes the quality of every closed window that got labels.
    /// `closing`: the first batch of the window being closed (its labels are on time).
    private func join(_ ids: [String], now: Date, closing: Int64? = nil) throws -> (onTime: Int, late: Int) {
        guard !ids.isEmpty else { return (0, 0) }
        var byBatch: [Int64: [(id: String, row: Int)]] = [:]
        for (id, at) in try store.lookupPredictions(model: name, ids: ids) { byBatch[at.batchID, default: []].append((id, at.row)) }
        guard !byBatch.isEmpty else { return (0, 0) }
        var joins: [LabelJoin] = []
        for (batchID, rows) in byBatch {
            guard let record = try store.batch(id: batchID), let batch = try? decodeStoredBatch(Array(record.payload)) else { continue }
            for (id, row) in rows where row < batch.count {
                var score: Double?
                if case .number(let v)? = batch.predictions?.cell(at: row), v.isFinite { score = v }
                var segment: String?
                if let s = settings.quality?.segment, let column = batch.features[s] {
                    switch column.cell(at: row) {
                    case .text(let t): segment = t
                    case .number(let v): segment = categoryLabel(v)
                    case .missing: segment = nil
                    }
                }
                let endpoint = row < batch.endpoints.count ? batch.endpoints[row] : .production
                joins.append(LabelJoin(predictionID: id, batchID: batchID, row: row, endpoint: endpoint.rawValue, score: score, segment: segment))
            }
        }
        try store.markLabelsJoined(model: name, joins)
        let lastClosed = try closing.map { $0 - 1 } ?? (store.lastWindow(model: name)?.lastBatchID ?? 0)
        let late = joins.filter { $0.batchID <= lastClosed }
        if !late.isEmpty {
            let touched = Set(late.map(\.batchID))
            let windows = try store.windows(model: name, limit: 200).filter { w in touched.contains { $0 >= w.firstBatchID && $0 <= w.lastBatchID } }
            for w in windows.sorted(by: { $0.seq < $1.seq }) { try updateQuality(seq: Int(w.seq), batches: w.firstBatchID...w.lastBatchID, estimated: nil, now: now) }
        }
        return (joins.count - late.count, late.count)
    }

    /// Every 10 s: pending labels whose prediction may have arrived since; labels older than
    /// the horizon are given up as unmatched (counted).
    private func retryPendingLabels() {
        guard let spec = settings.quality else { return }
        let now = clock()
        guard now.timeIntervalSince(lastLabelRetry) >= 10 else { return }
        lastLabelRetry = now
        do {
            let pending = try store.pendingLabels(model: name, limit: 5000)
            if !pending.isEmpty {
                let joined = try join(pending.map(\.predictionID), now: now)
                if joined.onTime > 0 { metrics.labels(model: name, outcome: "joined", joined.onTime) }
                if joined.late > 0 { metrics.labels(model: name, outcome: "late", joined.late) }
            }
            let given = try store.markLabelsUnmatched(model: name, receivedBefore: now.addingTimeInterval(-spec.labelHorizonHours * 3600))
            if given > 0 { metrics.labels(model: name, outcome: "unmatched", given) }
        } catch {
            logger.warning("label join retry failed", metadata: ["model": .string(name), "error": .string("\(error)")])
        }
    }

    /// At window close: the CBPE estimate from the window's scores, and realized quality of
    /// the labels already joined.
    private func closeQuality(_ closed: WindowAccumulator, seq: Int, now: Date) throws {
        guard let spec = settings.quality, let first = closed.firstBatchID, let last = closed.lastBatchID else { return }
        // Labels that came before their predictions join now, before the window is judged.
        let pending = try store.pendingLabels(model: name, limit: 20_000)
        if !pending.isEmpty {
            let joined = try join(pending.map(\.predictionID), now: now, closing: first)
            if joined.onTime > 0 { metrics.labels(model: name, outcome: "joined", joined.onTime) }
            if joined.late > 0 { metrics.labels(model: name, outcome: "late", joined.late) }
        }
        var estimate: EstimatedBinaryQuality?
        if spec.task == .binary, let calibrator = qualityBaseline?.calibrator,
           case .numeric(let scores, _)? = closed.windowData(source: "window").prediction
        {
            let finite = scores.filter(\.isFinite)
            if !finite.isEmpty { estimate = estimateBinaryQuality(scores: finite, calibrator: calibrator, threshold: spec.threshold) }
        }
        try updateQuality(seq: seq, batches: first...last, estimated: estimate, now: now)
    }

    /// Recomputes and stores a window's quality; a window that just got enough labels feeds
    /// the quality-episode tracker.
    private func updateQuality(seq: Int, batches: ClosedRange<Int64>, estimated: EstimatedBinaryQuality?, now: Date) throws {
        guard let spec = settings.quality else { return }
        let previous = try store.windowQualities(model: name, limit: 500).first { $0.seq == seq }
            .flatMap { try? JSONDecoder().decode(WindowQuality.self, from: Data($0.json.utf8)) }
        let labelled = try store.labelledPredictions(model: name, batches: batches)
        let wq = WindowQuality.realize(seq: seq, spec: spec, labelled: labelled, baseline: qualityBaseline,
                                       estimated: estimated ?? previous?.estimated)
        try store.saveWindowQuality(model: name, seq: seq, json: String(decoding: try reportEncoder.encode(wq), as: UTF8.self), now: now)
        let metricNames = spec.task == .binary ? QualitySpec.binaryMetrics + ["positive_rate", "predicted_positive_rate"] : QualitySpec.regressionMetrics
        if wq.labelledRows >= spec.minLabelledRows {
            for m in metricNames { metrics.quality(model: name, metric: m, source: "realized", qualityValue(m, binary: wq.realizedBinary, regression: wq.realizedRegression)) }
            for s in wq.segments { metrics.qualitySegment(model: name, metric: spec.metric, segment: s.segment, s.value) }
            metrics.qualityLabelledRows(model: name, wq.labelledRows)
        }
        if let e = wq.estimated {
            for m in ["roc_auc", "precision", "recall", "f1", "accuracy"] { metrics.quality(model: name, metric: m, source: "estimated", estimatedQualityValue(m, e)) }
        }
        if previous?.degraded == nil, let degraded = wq.degraded {
            try observeQuality(seq: seq, degraded: degraded, wq: wq, now: now)
        }
    }

    /// The quality-degraded episode: ok → suspected → confirmed (k of the last n decided
    /// windows degraded) → resolved, stored like drift episodes with kind `quality_degraded`.
    private func observeQuality(seq: Int, degraded: Bool, wq: WindowQuality, now: Date) throws {
        guard let spec = settings.quality else { return }
        var tracker = qualityTracker ?? EpisodeTracker(confirm: spec.confirm, resolve: spec.resolve)
        let transitions = tracker.observe(windowSeq: seq, at: now.timeIntervalSince1970, drifted: degraded,
                                          driftedFeatures: degraded ? [spec.metric] : [], driftedShare: 0)
        qualityTracker = tracker
        for t in transitions {
            let at = Date(timeIntervalSince1970: t.at)
            var evidence: [String: String] = ["metric": spec.metric, "window_seq": String(seq)]
            if let r = wq.realized { evidence["realized"] = formatFigure(r) }
            if let b = wq.baseline { evidence["baseline"] = formatFigure(b) }
            let evidenceJSON = String(decoding: try reportEncoder.encode(evidence), as: UTF8.self)
            var episode: EpisodeRecord
            if t.from == .ok || t.from == .resolved {
                episode = EpisodeRecord(id: 0, model: name, state: t.to.rawValue, openedAt: at, confirmedAt: nil, resolvedAt: nil,
                                        lastWindowSeq: Int64(seq), evidenceJSON: evidenceJSON, kind: "quality_degraded")
            } else if var open = openQualityEpisode {
                open.state = t.to == .ok ? "cleared" : t.to.rawValue
                open.lastWindowSeq = Int64(seq)
                if t.to == .confirmed { open.confirmedAt = at; open.evidenceJSON = evidenceJSON }
                if t.to == .resolved || t.to == .ok { open.resolvedAt = at }
                episode = open
            } else {
                continue
            }
            episode = try store.upsertEpisode(episode)
            openQualityEpisode = (t.to == .suspected || t.to == .confirmed) ? episode : nil
            try store.insertTransition(TransitionRecord(episodeID: episode.id, model: name, from: t.from.rawValue, to: t.to.rawValue,
                                                        at: at, windowSeq: Int64(seq), evidenceJSON: evidenceJSON))
            logger.notice("quality episode transition", metadata: [
                "model": .string(name), "episode": .stringConvertible(episode.id), "from": .string(t.from.rawValue),
                "to": .string(t.to.rawValue), "window_seq": .stringConvertible(seq),
            ])
        }
        metrics.qualityDegraded(model: name, tracker.state == .confirmed)
    }

    var qualityState: EpisodeState? { qualityTracker?.state }
    var qualityBaselineReport: QualityBaseline? { qualityBaseline }

    // MARK: remediation

    /// On confirmation: the retraining run (once per episode, within cooldown and
    /// concurrency limits). When the episode resolves: the pending candidate's shadow goes.
    private func remediate(_ t: EpisodeTransition, episode: EpisodeRecord) throws {
        guard let remediation else { return }
        if t.to == .confirmed {
            let firstSeq = try store.transitions(episodeID: episode.id).first?.windowSeq ?? Int64(t.windowSeq)
            let from = try store.windows(model: name, limit: 200).first { $0.seq == firstSeq }?.startedAt.timeIntervalSince1970 ?? episode.openedAt.timeIntervalSince1970
            let request = RetrainRequest(
                model: name, episodeID: episode.id, baselineVersion: baseline?.version, driftedFeatures: t.driftedFeatures,
                driftFrom: from, driftTo: t.at, candidatesURL: "\(remediation.publicURL)/v1/models/\(name)/candidates")
            if let call = try remediation.retrain(request, store: store, now: clock()) {
                try enqueue(call, key: .retrain(episodeID: episode.id))
                metrics.remediation(model: name, kind: call.remediationKind, state: "requested")
            } else {
                metrics.remediation(model: name, kind: "retrain_\(remediation.config.retrain?.kind.rawValue ?? "none")", state: "skipped")
            }
        } else if t.from == .confirmed, let c = candidate, remediation.config.shadow?.deleteOnResolve == true {
            try enqueue(remediation.deleteShadow(name: c.shadowName, episodeID: c.episodeID), key: .shadow(name: c.shadowName, step: .delete))
        }
    }

    private func enqueue(_ call: Action, key: ActionKey) throws {
        try store.enqueue(call, key: key, model: name, now: clock(), episodeID: call.episodeID)
    }

    /// Registers a candidate posted by its training job and requests its shadow scorer.
    func addCandidate(version: String, modelURI: String, metricsJSON: String, mlflowVersion: String? = nil) throws -> CandidateRecord {
        let now = clock()
        let latest = try store.episodes(model: name, kind: "drift", limit: 1).first?.id
        let episodeID = openEpisode?.id ?? latest
        let record = CandidateRecord(
            model: name, version: version, modelURI: modelURI, metricsJSON: metricsJSON, episodeID: episodeID,
            shadowName: Manifests.shadowName(model: name, version: version), verdict: GateVerdict.pending.rawValue,
            decisionJSON: nil, createdAt: now, updatedAt: now, mlflowVersion: mlflowVersion)
        try store.insertCandidate(record)
        if let remediation, let call = remediation.createShadow(model: name, version: version, modelURI: modelURI, episodeID: episodeID) {
            try store.recordRemediation(model: name, episodeID: episodeID, kind: "shadow", name: record.shadowName, state: "requested", detail: nil, now: now)
            try enqueue(call, key: .shadow(name: record.shadowName, step: .create))
            metrics.remediation(model: name, kind: "shadow", state: "requested")
        }
        candidate = record
        shadowJoin = ShadowJoin()
        metrics.candidateGate(model: name, candidate: version, verdict: .pending)
        return record
    }

    /// The gate over every joined shadow/production row since the candidate arrived. A final
    /// verdict is stored, exported, alerted; a pass may promote, a fail removes the shadow.
    private func judgeCandidate(now: Date) throws {
        guard var c = candidate, let remediation else { return }
        let decision = GateDecision(policy: remediation.config.gate, comparison: shadowJoin.comparison(threshold: remediation.config.gate.decisionThreshold),
                                    quality: try candidateQuality())
        let json = String(decoding: try reportEncoder.encode(decision), as: UTF8.self)
        try store.updateCandidate(model: name, version: c.version, verdict: decision.verdict.rawValue, decisionJSON: json, now: now)
        c.verdict = decision.verdict.rawValue
        c.decisionJSON = json
        metrics.candidateGate(model: name, candidate: c.version, verdict: decision.verdict)
        guard decision.verdict != .pending else { candidate = c; return }
        logger.notice("candidate gate", metadata: [
            "model": .string(name), "candidate": .string(c.version), "verdict": .string(decision.verdict.rawValue),
            "reasons": .string(decision.reasons.joined(separator: "; ")),
        ])
        if decision.verdict == .pass, let call = remediation.promote(model: name, modelURI: c.modelURI, version: c.version, episodeID: c.episodeID) {
            try store.recordRemediation(model: name, episodeID: c.episodeID, kind: "promotion", name: call.remediationName, state: "requested", detail: nil, now: now)
            try enqueue(call, key: .promotion(version: c.version))
        }
        if let spec = settings.mlflow, let version = c.mlflowVersion {
            // The verdict on the candidate's model version; a pass moves the alias when configured.
            let promote = decision.verdict == .pass ? spec.promoteAlias : nil
            let call = MLflowCall(spec: spec, model: name, version: version, tags: [
                "driftwatch.gate": decision.verdict.rawValue,
                "driftwatch.gate_reasons": decision.reasons.joined(separator: "; "),
                "driftwatch.gate_decided_at": rfc3339(now),
                "driftwatch.gate_url": "\(remediation.publicURL)/v1/models/\(name)/candidates",
            ], alias: promote, episodeID: c.episodeID)
            try enqueueMLflow(call, key: .candidateGateMLflow(model: name, version: version))
        }
        if decision.verdict == .fail, remediation.config.shadow?.deleteOnFail == true {
            try enqueue(remediation.deleteShadow(name: c.shadowName, episodeID: c.episodeID), key: .shadow(name: c.shadowName, step: .delete))
        }
        if let policy = alertPolicy, !policy.config.urls.isEmpty {
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
                generatorURL: "\(policy.publicURL)/v1/models/\(name)/candidates", startsAt: now.timeIntervalSince1970, resolvedAt: nil,
                standalone: true)
            try store.enqueue(.alert(alert), key: .candidateGateAlert(model: name, version: c.version), model: name, now: now, episodeID: nil)
        }
        candidate = nil
    }

    var candidateVersion: String? { candidate?.version }

    /// Both models' primary quality metric on the joined shadow/production rows that have
    /// labels (nil until `min_labelled_rows` of them).
    private func candidateQuality() throws -> QualityComparison? {
        guard let spec = settings.quality, !shadowJoin.pairIDs.isEmpty else { return nil }
        let labels = try store.labelValues(model: name, ids: shadowJoin.pairIDs)
        var production: [Double] = [], shadow: [Double] = [], y: [Double] = []
        for (k, id) in shadowJoin.pairIDs.enumerated() {
            guard let label = labels[id] else { continue }
            production.append(shadowJoin.pairs[k].production)
            shadow.append(shadowJoin.pairs[k].shadow)
            y.append(label)
        }
        guard y.count >= spec.minLabelledRows else { return nil }
        func value(_ scores: [Double]) -> Double? {
            switch spec.task {
            case .binary: return qualityValue(spec.metric, binary: binaryQuality(scores: scores, labels: y.map { $0 >= 0.5 }, threshold: spec.threshold), regression: nil)
            case .regression: return qualityValue(spec.metric, binary: nil, regression: regressionQuality(predictions: scores, targets: y))
            }
        }
        guard let p = value(production), let c = value(shadow) else { return nil }
        return QualityComparison(metric: spec.metric, higherIsBetter: spec.higherIsBetter, production: p, candidate: c, rows: y.count)
    }

    // MARK: MLflow

    /// On confirmation and on resolution of a drift episode: the state, drifted features and
    /// link as tags on the production model version (the one the baseline came from, else the
    /// alias's at delivery), and the window's figures as metrics of the monitoring run.
    private func enqueueMLflow(_ t: EpisodeTransition, episode: EpisodeRecord) throws {
        guard let spec = settings.mlflow, t.to == .confirmed || (t.from == .confirmed && t.to == .resolved) else { return }
        let state = t.to == .confirmed ? "confirmed" : "resolved"
        let publicURL = alertPolicy?.publicURL ?? remediation?.publicURL ?? ""
        var tags = [
            "driftwatch.drift_state": state,
            "driftwatch.episode_id": String(episode.id),
            "driftwatch.episode_url": "\(publicURL)/models/\(name)/episodes/\(episode.id)",
            "driftwatch.model": name,
        ]
        if t.to == .confirmed {
            tags["driftwatch.drifted_features"] = t.driftedFeatures.joined(separator: ",")
            tags["driftwatch.drift_confirmed_at"] = rfc3339(Date(timeIntervalSince1970: t.at))
        } else {
            tags["driftwatch.drift_resolved_at"] = rfc3339(Date(timeIntervalSince1970: t.at))
        }
        var metrics: [MLflowMetric] = []
        if let r = lastReport, r.seq == t.windowSeq {
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
            for f in (r.features + (r.prediction.map { [$0] } ?? [])).prefix(900) { add("psi.\(f.name)", f.psi) }
        }
        let call = MLflowCall(spec: spec, model: name, version: mlflowLink?.modelVersion, tags: tags, metrics: metrics, episodeID: episode.id)
        try enqueueMLflow(call, key: .episodeMLflow(episodeID: episode.id, state: t.to == .confirmed ? .confirmed : .resolved))
    }

    private func enqueueMLflow(_ call: MLflowCall, key: ActionKey) throws {
        try store.enqueue(.mlflow(call), key: key, model: name, now: clock(), episodeID: call.episodeID)
    }

    // MARK: alerts

    /// On confirmation, a firing notice; on the end of a confirmed episode, a resolution
    /// notice — each an outbox action (delivered by ActionDispatcher), keyed so that a
    /// replay never enqueues one twice.
    private func enqueueAlert(_ t: EpisodeTransition, episode: EpisodeRecord) throws {
        guard let policy = alertPolicy, !policy.config.urls.isEmpty else { return }
        var alert = policy.alert(model: name, episode: episode, report: lastReport, driftedFeatures: t.driftedFeatures)
        let key: ActionKey
        if t.to == .confirmed {
            key = .episodeAlert(episodeID: episode.id, notice: .firing)
        } else if t.from == .confirmed {
            key = .episodeAlert(episodeID: episode.id, notice: .resolved)
            alert.resolvedAt = t.at
            // The firing notice's text (figures of the confirming window) is what people saw.
            if case .alert(let original)? = try store.action(episodeID: episode.id, key: .episodeAlert(episodeID: episode.id, notice: .firing)) {
                alert.annotations = original.annotations
            }
        } else {
            return
        }
        try store.enqueue(.alert(alert), key: key, model: name, now: clock(), episodeID: episode.id)
    }

    /// The alert of the open confirmed episode, for periodic re-sending (nil otherwise).
    func confirmedAlert(policy: AlertPolicy) -> EpisodeAlert? {
        guard tracker.state == .confirmed, let episode = openEpisode, episode.state == EpisodeState.confirmed.rawValue else { return nil }
        let evidence = try? JSONDecoder().decode(EpisodeTransition.self, from: Data(episode.evidenceJSON.utf8))
        return policy.alert(model: name, episode: episode, report: lastReport, driftedFeatures: evidence?.driftedFeatures ?? [])
    }

    // MARK: status

    struct Status: Sendable, Codable {
        var model: String
        var settings: ModelSettings
        var baselineVersion: Int?
        var baselineRows: Int?
        var observationsStored: Int
        var window: WindowFill
        var episode: EpisodeStatus
        var lastWindow: LastWindow?
        /// The MLflow run and model version the baseline came from.
        var mlflow: MLflowLink?

        struct WindowFill: Sendable, Codable {
            var rows: Int
            var targetRows: Int?
            var seconds: Double?
            var openedAt: Double?
            var minRows: Int
            enum CodingKeys: String, CodingKey { case rows, targetRows = "target_rows", seconds, openedAt = "opened_at", minRows = "min_rows" }
        }
        struct EpisodeStatus: Sendable, Codable {
            var state: EpisodeState
            var id: Int64?
            var since: Double?
        }
        struct LastWindow: Sendable, Codable {
            var seq: Int
            var endedAt: Double
            var drifted: Int
            var driftedShare: Double
            var worstFeatures: [String]
            enum CodingKeys: String, CodingKey { case seq, endedAt = "ended_at", drifted, driftedShare = "drifted_share", worstFeatures = "worst_features" }
        }
        enum CodingKeys: String, CodingKey {
            case model, settings, baselineVersion = "baseline_version", baselineRows = "baseline_rows"
            case observationsStored = "observations_stored", window, episode, lastWindow = "last_window", mlflow
        }
    }

    func status() throws -> Status {
        let since = openEpisode.map { e in (e.confirmedAt ?? e.openedAt).timeIntervalSince1970 }
        return Status(
            model: name, settings: settings, baselineVersion: baseline?.version, baselineRows: baseline?.features.rows,
            observationsStored: try store.observationCount(model: name),
            window: .init(rows: window.rows, targetRows: settings.window.rows, seconds: settings.window.seconds,
                          openedAt: window.openedAt, minRows: settings.minRows),
            episode: .init(state: tracker.state, id: openEpisode?.id, since: since),
            lastWindow: lastReport.map { r in
                .init(seq: r.seq, endedAt: r.endedAt, drifted: r.summary.drifted, driftedShare: r.summary.driftedShare,
                      worstFeatures: Array(r.features.filter(\.drifted).prefix(3).map(\.name)))
            }, mlflow: mlflowLink)
    }

    var episodeState: EpisodeState { tracker.state }
    var featureKinds: [String: FeatureKind] {
        Dictionary(uniqueKeysWithValues: (settings.features + (settings.prediction.map { [$0] } ?? [])).map { ($0.name, $0.kind) })
    }
}

/// A fresh encoder per use: JSONEncoder is a class, not shared across tasks.
var reportEncoder: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
}
