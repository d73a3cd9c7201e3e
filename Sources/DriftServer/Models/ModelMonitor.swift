import DriftActions
import DriftCore
import DriftIngest
import DriftStats
import DriftStore
import Foundation
import Logging

/// One monitored model. An actor because two things need one order: a batch's store append
/// and its addition to the open window happen in the same order for every batch (so a
/// window's batch-id bounds say exactly which batches it holds — what the restart rebuild
/// relies on), and windows are recorded in window order. Everything else is a stage it owns
/// (episodes, quality, the candidate gate) or a reaction to the events it emits (metrics,
/// alerts, MLflow, remediation).
actor ModelMonitor {
    let name: String
    private(set) var settings: ModelSettings
    private(set) var baseline: ModelBaseline?
    private var window: WindowAccumulator
    private var nextSeq = 1
    private(set) var lastReport: WindowReport?
    /// The latest background evaluation; each waits for the one before it.
    private var evaluating: Task<WindowReport?, Error>?
    private var drift: EpisodeRecorder
    private var quality: QualityStage
    private var gate = CandidateGate()
    /// Rations the label-join retry's log while the store fails (every 10 s per model otherwise).
    private var labelRetryFaults = FaultBackoff(interval: 10)
    /// The PCA reference of multivariate drift (models with two or more features).
    private var multivariate: MultivariateBaseline?
    /// Thresholds calibrated on the baseline for the last window size (`calibration:
    /// baseline_chunks`); recomputed when a window's size differs by more than 10 %.
    private var calibration: BaselineCalibration?
    /// The MLflow run and model version the current baseline came from (settings.mlflow).
    private(set) var mlflowLink: MLflowLink?
    let store: any Store
    private let metrics: DriftMetrics
    private let logger: Logger
    private let clock: @Sendable () -> Date
    /// Set when remediation applies to this model: its gate judges candidates.
    private let remediation: RemediationRuntime?
    /// Consumers of this model's events, in the order they run.
    private let reactions: [any ModelEventReaction]

    init(name: String, settings: ModelSettings, store: any Store, metrics: DriftMetrics, logger: Logger,
         clock: @escaping @Sendable () -> Date, alertPolicy: AlertPolicy? = nil, remediation: RemediationRuntime? = nil) {
        self.name = name
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.remediation = remediation
        window = WindowAccumulator(settings: settings)
        drift = EpisodeRecorder(model: name, kind: .drift, confirm: settings.confirm, resolve: settings.resolve)
        quality = QualityStage(model: name, store: store, metrics: metrics, logger: logger)
        var reactions: [any ModelEventReaction] = [MetricsReaction(metrics: metrics)]
        if let alertPolicy { reactions.append(AlertReaction(policy: alertPolicy)) }
        reactions.append(MLflowReaction(publicURL: alertPolicy?.publicURL ?? remediation?.publicURL ?? "", gateURL: remediation?.publicURL))
        if let remediation { reactions.append(RemediationReaction(runtime: remediation, metrics: metrics)) }
        self.reactions = reactions
    }

    // MARK: restart

    /// Restores the model from the store: baseline, episode state, last report, and the open
    /// window rebuilt from the batches after the last closed window.
    func restore() throws {
        if let b = try store.latestBaseline(model: name) {
            baseline = ModelBaseline(version: b.version, profile: b.profile, settings: settings)
        }
        let recent = try store.windowSummaries(model: name, limit: 200).reversed()
        try drift.restore(verdicts: recent.map { (seq: $0.seq, at: $0.endedAt.timeIntervalSince1970, degraded: $0.drifted) }, store: store)
        if let last = recent.last {
            nextSeq = last.seq + 1
            lastReport = try store.window(model: name, seq: last.seq)?.report
        }
        var after = recent.last?.batches.upperBound ?? 0
        window = WindowAccumulator(settings: settings)
        let limits = baseline?.limits ?? IngestLimits()
        while true {
            let batches = try store.batches(model: name, afterBatchID: after, limit: 200)
            if batches.isEmpty { break }
            for b in batches {
                window.add(try decodeStoredBatch(Array(b.payload)), batchID: b.id, receivedAt: b.receivedAt.timeIntervalSince1970, limits: limits)
                after = b.id
                // A window this batch filled was closed before the restart (its 202 said so),
                // but its evaluation was not stored yet: close it again at the same batch, so
                // it holds the same rows and is evaluated (found by bench/soak.py's kill -9).
                if let target = settings.window.rows, window.rows >= target { _ = scheduleClose(now: clock()) }
            }
        }
        metrics.windowRows(model: name, window.rows)
        metrics.episode(model: name, state: drift.state)
        if let last = try store.lastBatchReceivedAt(model: name) { metrics.lastObservation(model: name, at: last) }
        try gate.restore(model: name, store: store)
        try quality.restore(spec: settings.quality)
        multivariate = try store.multivariateBaseline(model: name)
        mlflowLink = try store.mlflowLink(model: name).flatMap { $0.baselineVersion == baseline?.version ? $0.link : nil }
        logger.info("model restored", metadata: [
            "model": .string(name), "baseline_version": .stringConvertible(baseline?.version ?? 0),
            "open_window_rows": .stringConvertible(window.rows), "episode_state": .string(drift.state.rawValue),
        ])
    }

    // MARK: settings and baseline

    /// New settings: the open window restarts if the schema changed, the episode state
    /// machine if the confirmation policy changed.
    func update(settings newSettings: ModelSettings) {
        let schemaChanged = newSettings.columns != settings.columns
        settings = newSettings
        if schemaChanged { window = WindowAccumulator(settings: newSettings) }
        drift.adopt(confirm: newSettings.confirm, resolve: newSettings.resolve)
        if let b = baseline {
            var profile = b.features
            profile.features += b.prediction?.features ?? []
            baseline = ModelBaseline(version: b.version, profile: profile, settings: newSettings)
        }
    }

    func install(baseline profile: BaselineProfile, version: Int, multivariate: MultivariateBaseline? = nil, mlflowLink: MLflowLink? = nil) {
        baseline = ModelBaseline(version: version, profile: profile, settings: settings)
        self.multivariate = multivariate
        self.mlflowLink = mlflowLink
        calibration = nil
    }

    /// The labelled baseline's quality and calibrator (from the baseline upload).
    func install(qualityBaseline q: QualityBaseline) {
        quality.install(q, spec: settings.quality)
    }

    // MARK: ingest

    /// What appending a batch did.
    struct Appended: Sendable {
        var batchID: Int64
        var duplicate: Bool
        var rows: Int
        var windowRows: Int
        /// Sequence number of the window this batch closed (evaluated in the background).
        var closed: Int?
    }

    /// Stores the batch (committed before this returns: acknowledged means stored), adds it
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
            gate.add(batch)
            metrics.count(tally, model: name)
            var closed: Int?
            if let target = settings.window.rows, window.rows >= target {
                closed = scheduleClose(now: clock())?.seq
            }
            metrics.windowRows(model: name, window.rows)
            metrics.lastObservation(model: name, at: receivedAt)
            return Appended(batchID: id, duplicate: false, rows: batch.count, windowRows: window.rows, closed: closed)
        }
    }

    // MARK: windows

    /// Closes a time-based window whose time is up (and that holds min_rows); retries the
    /// label join every 10 s.
    func tick() {
        let now = clock()
        if let spec = settings.quality {
            var events: [ModelEvent] = []
            do {
                try quality.retryPending(spec: spec, now: now, events: &events)
                try publish(events, now: now)
                let failed = labelRetryFaults.succeeded()
                if failed > 0 { logger.notice("label join retry works again", metadata: ["model": .string(name), "failed_runs": .stringConvertible(failed)]) }
            } catch {
                if labelRetryFaults.failed() {
                    logger.warning("label join retry failed; logged again in a minute if it still fails", metadata: [
                        "model": .string(name), "error": .string("\(error)"), "failed_runs": .stringConvertible(labelRetryFaults.failures),
                    ])
                }
            }
        }
        guard let seconds = settings.window.seconds, let opened = window.openedAt else { return }
        guard now.timeIntervalSince1970 - opened >= seconds, window.rows >= settings.minRows else { return }
        _ = scheduleClose(now: now)
    }

    /// Why `POST /v1/models/{m}/evaluate` could not close the window.
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
        let job = WindowEvaluationJob(
            model: name, seq: nextSeq, window: window, baseline: baseline, settings: settings,
            multivariate: settings.multivariate == nil ? nil : multivariate, cachedCalibration: calibration, now: now)
        nextSeq += 1
        window = WindowAccumulator(settings: settings)
        metrics.windowRows(model: name, 0)
        let previous = evaluating
        let store = self.store
        let task = Task.detached { [self] () -> WindowReport? in
            // Window order: a failed earlier evaluation does not hold this one back.
            _ = try? await previous?.value
            let evaluation = try job.run(store: store)
            return try await self.record(job, evaluation)
        }
        evaluating = task
        return (job.seq, task)
    }

    /// Records an evaluated window: the store, the drift episode, then what follows from it
    /// (the candidate gate, the window's quality, retention), and the events for the reactions.
    private func record(_ job: WindowEvaluationJob, _ evaluation: WindowEvaluation) throws -> WindowReport {
        if let c = evaluation.calibration, job.baseline.version == baseline?.version { calibration = c }
        let now = job.now
        let closed = job.window
        let nowSeconds = now.timeIntervalSince1970
        let summary = evaluation.features.summary
        var subjects = evaluation.features.features.filter(\.drifted).map(\.name)
        if let p = summary.verdict?.prediction { subjects.append(p) }
        if summary.multivariateDrifted == true { subjects.append(multivariateEvidenceName) }
        let endedAt = closed.endedAt ?? nowSeconds
        let transitions = drift.observe(windowSeq: job.seq, at: endedAt, flagged: summary.windowDrifted, subjects: subjects,
                                        share: summary.driftedShare)
        var report = WindowReport(
            model: name, seq: job.seq, startedAt: closed.startedAt ?? nowSeconds, endedAt: endedAt, evaluatedAt: nowSeconds,
            rows: closed.rows, baselineVersion: job.baseline.version, baselineRows: job.baseline.features.rows,
            detector: job.settings.detector, features: evaluation.features.features, prediction: evaluation.prediction,
            summary: summary, episodeState: drift.state, transitions: transitions)
        report.multivariate = evaluation.features.multivariate
        try store.insertWindow(WindowRecord(report: report, batches: (closed.firstBatchID ?? 0)...(closed.lastBatchID ?? 0)))
        lastReport = report
        let recorded = try drift.record(transitions, evidence: { .drift($0) }, store: store)
        var events: [ModelEvent] = [.windowEvaluated(report, seconds: evaluation.seconds)]
        events += recorded.map { .episodeTransition($0) }
        logger.info("window evaluated", metadata: [
            "model": .string(name), "seq": .stringConvertible(job.seq), "rows": .stringConvertible(report.rows),
            "drifted_features": .string(subjects.joined(separator: ",")), "dataset_drifted": .stringConvertible(summary.windowDrifted),
            "drifted_by": .string((summary.verdict?.by ?? []).map(\.rawValue).joined(separator: ",")),
            "episode_state": .string(drift.state.rawValue), "seconds": .stringConvertible(evaluation.seconds),
        ])
        for r in recorded {
            logger.notice("episode transition", metadata: [
                "model": .string(name), "episode": .stringConvertible(r.episode.id), "from": .string(r.transition.from.rawValue),
                "to": .string(r.transition.to.rawValue), "window_seq": .stringConvertible(r.transition.windowSeq),
                "drifted_features": .string(r.transition.driftedFeatures.joined(separator: ",")),
            ])
        }
        // Transitions are acted on before the gate: a resolution removes the pending candidate's shadow.
        try publish(events, now: now)
        events = []
        if let remediation, let (candidate, decision) = try gate.judge(policy: remediation.config.gate, quality: settings.quality,
                                                                      model: name, store: store, now: now) {
            logger.notice("candidate gate", metadata: [
                "model": .string(name), "candidate": .string(candidate.version), "verdict": .string(decision.verdict.rawValue),
                "reasons": .string(decision.reasons.joined(separator: "; ")),
            ])
            events.append(.candidateJudged(candidate, decision))
        }
        if let spec = settings.quality { try quality.windowClosed(closed, seq: job.seq, spec: spec, now: now, events: &events) }
        try publish(events, now: now)
        if let hours = settings.retentionHours {
            do {
                try store.pruneBatches(model: name, receivedBefore: now.addingTimeInterval(-hours * 3600))
            } catch {
                logger.warning("retention failed; retried after the next window", metadata: ["model": .string(name), "error": .string("\(error)")])
            }
        }
        return report
    }

    /// Hands events to every reaction, in order.
    private func publish(_ events: [ModelEvent], now: Date) throws {
        guard !events.isEmpty else { return }
        let snapshot = ModelSnapshot(model: name, settings: settings, baselineVersion: baseline?.version, lastReport: lastReport,
                                     mlflowLink: mlflowLink, pendingCandidate: gate.candidate, now: now)
        for event in events {
            for reaction in reactions { try reaction.react(to: event, model: snapshot, store: store) }
        }
    }

    // MARK: labels

    /// Stores labels and joins those whose prediction is already stored; counts by outcome.
    func ingestLabels(_ labels: [LabelInput], now: Date) throws -> [LabelTally: Int] {
        guard let spec = settings.quality else { return [:] }
        var events: [ModelEvent] = []
        let counts = try quality.ingest(labels, spec: spec, now: now, events: &events)
        try publish(events, now: now)
        return counts
    }

    var qualityState: EpisodeState? { quality.state }
    var qualityBaselineReport: QualityBaseline? { quality.baseline }

    // MARK: candidates

    /// Registers a candidate posted by its training job (or found in the MLflow registry)
    /// and requests its shadow scorer.
    func addCandidate(version: String, modelURI: String, metrics trained: [String: Double], mlflowVersion: String? = nil) throws -> CandidateRecord {
        let now = clock()
        let episodeID = try drift.open?.id ?? store.episodes(model: name, kind: .drift, limit: 1).first?.id
        let record = CandidateRecord(
            model: name, version: version, modelURI: modelURI, metrics: trained, episodeID: episodeID,
            shadowName: Manifests.shadowName(model: name, version: version), verdict: .pending, decision: nil,
            createdAt: now, updatedAt: now, mlflowVersion: mlflowVersion)
        try store.insertCandidate(record)
        gate.register(record)
        try publish([.candidateRegistered(record)], now: now)
        return record
    }

    // MARK: alerts

    /// The alert of the open confirmed episode, for periodic re-sending (nil otherwise).
    func confirmedAlert(policy: AlertPolicy) -> EpisodeAlert? {
        guard drift.state == .confirmed, let episode = drift.open, episode.state == .confirmed else { return nil }
        return policy.alert(model: name, episode: episode, report: lastReport, driftedFeatures: episode.evidence.subjects)
    }

    // MARK: status

    var episodeState: EpisodeState { drift.state }
    var openEpisode: EpisodeRecord? { drift.open }
    var openWindow: WindowAccumulator { window }
}
