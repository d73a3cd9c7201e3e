import DriftCore
import Foundation

/// What the service keeps, in domain types: models and their versioned baselines, ingest
/// batches and their prediction ids, closed windows, drift and quality episodes with their
/// transitions, labels and window quality, the outbox of actions, remediation runs and
/// candidates, MLflow links. Domain values cross this boundary as their types (a backend encodes
/// them as it likes, and a stored value that no longer decodes is
/// ``DriftStoreError/corruptRecord(table:key:reason:)``). Two payloads stay opaque on purpose,
/// owned by the layer that encodes them: a batch (DriftIngest's compact codec, so ingest never
/// decodes what it just encoded) and an outbox action (DriftActions' `Action`, which sits above
/// the store; `Store.enqueue(_:key:…)` and `Action(record)` there are the typed way in and out).
///
/// Every method is synchronous and throwing, and every write is one transaction that has
/// committed when the method returns ("acknowledged means stored"). ``SQLiteStore`` is the
/// embedded backend; `StoreConformance` in DriftStoreTests is the behaviour any backend must
/// show, run against each of them.
public protocol Store: AnyObject, Sendable {
    /// Cheap liveness check for `/readyz`.
    func ping() throws
    /// Closes the backend; later calls throw.
    func close() throws
    /// The fault of the last failed write (disk full, I/O, locked, read-only); nil while writes succeed.
    func writeFault() -> StoreFaultReport?
    /// One small committed write, to learn whether writes work again (throws `.unavailable`).
    func probeWrite() throws
    /// Calls `handler` with the fault of every failed write.
    func observeFaults(_ handler: @escaping @Sendable (StoreFault) -> Void)

    // MARK: models and baselines

    /// Creates the model or replaces its settings; `createdAt` is kept on update.
    @discardableResult func upsertModel(name: String, settings: ModelSettings, now: Date) throws -> ModelRecord
    func model(named name: String) throws -> ModelRecord?
    /// All models, by name.
    func models() throws -> [ModelRecord]
    /// Deletes the model and everything of it; false when there was no such model.
    @discardableResult func deleteModel(named name: String) throws -> Bool
    /// Stores a new baseline as the model's next version (1, 2, …).
    func insertBaseline(model: String, source: String, profile: BaselineProfile, upload: BaselineUpload, now: Date) throws -> BaselineRecord
    func latestBaseline(model: String) throws -> BaselineRecord?
    func baseline(model: String, version: Int) throws -> BaselineRecord?
    /// All versions, oldest first, without their profiles.
    func baselineVersions(model: String) throws -> [BaselineSummary]
    func saveMultivariateBaseline(model: String, _ baseline: MultivariateBaseline) throws
    func multivariateBaseline(model: String) throws -> MultivariateBaseline?
    func saveQualityBaseline(model: String, _ baseline: QualityBaseline) throws
    func qualityBaseline(model: String) throws -> QualityBaseline?
    func saveMLflowLink(model: String, _ record: MLflowLinkRecord) throws
    func mlflowLink(model: String) throws -> MLflowLinkRecord?
    /// The newest registry version already seen (versions up to it are not new candidates).
    func mlflowLastVersion(model: String) throws -> Int?
    /// Moves the registry watermark forward (never back).
    func setMLflowLastVersion(model: String, version: Int) throws

    // MARK: batches and prediction ids

    /// Stores one batch and its prediction ids in one transaction; a repeated idempotency key
    /// stores nothing and answers `.duplicate` with the original batch.
    func appendBatch(
        model: String, receivedAt: Date, rows: Int, firstEventTime: Double?, lastEventTime: Double?,
        idempotencyKey: String?, payload: Data, predictionIDs: [(id: String, row: Int)]
    ) throws -> AppendOutcome
    /// Up to `limit` batches after `afterBatchID`, in batch-id (commit) order.
    func batches(model: String, afterBatchID: Int64, limit: Int) throws -> [BatchRecord]
    func batch(id: Int64) throws -> BatchRecord?
    func lastBatchReceivedAt(model: String) throws -> Date?
    /// Rows stored for the model.
    func observationCount(model: String) throws -> Int
    /// Deletes batches received before the cut-off; returns how many.
    @discardableResult func pruneBatches(model: String, receivedBefore: Date) throws -> Int
    /// Makes the prediction ids of up to `maxBatches` batches findable by id (the background
    /// indexer); returns how many ids.
    @discardableResult func indexPredictionIDs(maxBatches: Int) async throws -> Int
    /// Batches whose ids are not indexed yet.
    func pendingPredictionIDBatches() throws -> Int
    /// Where each id was last observed (ids not found are absent).
    func lookupPredictions(model: String, ids: [String]) throws -> [String: PredictionLocation]

    // MARK: windows and episodes

    /// Stores a closed window; a second window with the same seq is a conflict.
    func insertWindow(_ window: WindowRecord) throws
    /// The newest `limit` windows with their reports, newest first.
    func windows(model: String, limit: Int) throws -> [WindowRecord]
    /// The newest `limit` windows without reports, newest first.
    func windowSummaries(model: String, limit: Int) throws -> [WindowSummary]
    func window(model: String, seq: Int) throws -> WindowRecord?
    func lastWindow(model: String) throws -> WindowSummary?
    /// Inserts the episode when `id == 0` (returning it with its id), else replaces it.
    @discardableResult func upsertEpisode(_ episode: EpisodeRecord) throws -> EpisodeRecord
    /// The newest `limit` episodes (of one kind, or all), newest first.
    func episodes(model: String, kind: EpisodeKind?, limit: Int) throws -> [EpisodeRecord]
    func episode(id: Int64) throws -> EpisodeRecord?
    func insertTransition(_ transition: TransitionRecord) throws
    /// The episode's transitions in insertion order.
    func transitions(episodeID: Int64) throws -> [TransitionRecord]

    // MARK: labels and quality

    /// Stores labels by prediction id; each input's outcome, in order.
    func storeLabels(model: String, _ labels: [LabelInput], receivedAt: Date) throws -> [LabelOutcome]
    /// Pending labels, oldest first.
    func pendingLabels(model: String, limit: Int) throws -> [PendingLabel]
    func markLabelsJoined(model: String, _ joins: [LabelJoin]) throws
    /// Gives up on pending labels received before the cut-off; returns how many.
    func markLabelsUnmatched(model: String, receivedBefore: Date) throws -> Int
    /// Joined production labels whose prediction is in `batches`.
    func labelledPredictions(model: String, batches: ClosedRange<Int64>) throws -> [LabelledPrediction]
    /// The stored label of each id that has one.
    func labelValues(model: String, ids: [String]) throws -> [String: Double]
    func labelCounts(model: String) throws -> [LabelState: Int]
    func saveWindowQuality(model: String, _ quality: WindowQuality, now: Date) throws
    /// The newest `limit` window-quality reports, newest first.
    func windowQualities(model: String, limit: Int) throws -> [WindowQuality]
    func windowQuality(model: String, seq: Int) throws -> WindowQuality?

    // MARK: outbox

    /// Enqueues an action once per key (a second enqueue with the key returns the first's id).
    @discardableResult
    func enqueueAction(model: String, kind: String, key: String, payloadJSON: String, now: Date, episodeID: Int64?) throws -> Int64
    /// Pending actions whose next attempt is due, oldest first.
    func dueActions(now: Date, limit: Int) throws -> [ActionRecord]
    /// The pending action of the kind due first, whenever that is.
    func earliestPendingAction(kind: String) throws -> ActionRecord?
    func actions(episodeID: Int64) throws -> [ActionRecord]
    /// A model's actions, newest first, optionally in one state.
    func actions(model: String, state: ActionState?, limit: Int) throws -> [ActionRecord]
    func action(id: Int64) throws -> ActionRecord?
    func action(key: String) throws -> ActionRecord?
    /// Actions per kind in the state.
    func actionCounts(state: ActionState) throws -> [String: Int]
    func markDelivered(id: Int64, now: Date) throws
    /// A failed attempt; the action stays pending, due again at `nextAttempt`.
    func markRetry(id: Int64, error: String, now: Date, nextAttempt: Date) throws
    /// The last failed attempt: the action is given up.
    func markGivenUp(id: Int64, error: String, now: Date) throws
    /// An admin's retry of a given-up (or pending) action: pending, due now, attempts from 0.
    @discardableResult
    func retryAction(model: String, key: String, now: Date) throws -> ActionRecord
    /// Every pending action of the kind due now; how many moved.
    @discardableResult
    func makeDue(kind: String, now: Date) throws -> Int

    // MARK: remediation and candidates

    /// Records (or updates the state of) a remediation, unique per (model, kind, name).
    @discardableResult
    func recordRemediation(model: String, episodeID: Int64?, kind: RemediationKind, name: String, state: RemediationState, detail: String?,
                           now: Date) throws -> RemediationRecord
    /// Remediations, newest first, filtered by model, episode and kinds (nil: any).
    func remediations(model: String?, episodeID: Int64?, kinds: [RemediationKind]?, limit: Int) throws -> [RemediationRecord]
    func insertCandidate(_ candidate: CandidateRecord) throws
    /// Records the gate's decision (and so its verdict) on a candidate.
    func updateCandidate(model: String, version: String, decision: GateDecision, now: Date) throws
    /// The model's candidates, newest first.
    func candidates(model: String, limit: Int) throws -> [CandidateRecord]
}

extension Store {
    /// The newest `limit` episodes of every kind.
    public func episodes(model: String, limit: Int) throws -> [EpisodeRecord] {
        try episodes(model: model, kind: nil, limit: limit)
    }

    /// Where the id was last observed.
    public func lookupPrediction(model: String, id: String) throws -> PredictionLocation? {
        try lookupPredictions(model: model, ids: [id])[id]
    }

    @discardableResult
    public func enqueueAction(model: String, kind: String, key: String, payloadJSON: String, now: Date) throws -> Int64 {
        try enqueueAction(model: model, kind: kind, key: key, payloadJSON: payloadJSON, now: now, episodeID: nil)
    }

    /// The newest 100 remediations of the model.
    public func remediations(model: String) throws -> [RemediationRecord] {
        try remediations(model: model, episodeID: nil, kinds: nil, limit: 100)
    }

    /// The newest 100 remediations of the episode.
    public func remediations(episodeID: Int64) throws -> [RemediationRecord] {
        try remediations(model: nil, episodeID: episodeID, kinds: nil, limit: 100)
    }

    /// The model's remediations of the given kinds, newest first.
    public func remediations(model: String, kinds: [RemediationKind], limit: Int) throws -> [RemediationRecord] {
        try remediations(model: model, episodeID: nil, kinds: kinds, limit: limit)
    }

    /// Every model's remediations of the given kinds, newest first.
    public func remediations(kinds: [RemediationKind], limit: Int) throws -> [RemediationRecord] {
        try remediations(model: nil, episodeID: nil, kinds: kinds, limit: limit)
    }

    /// The model's newest 50 candidates.
    public func candidates(model: String) throws -> [CandidateRecord] {
        try candidates(model: model, limit: 50)
    }
}
