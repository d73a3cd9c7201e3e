import DriftCore
import Foundation
import XCTest

@testable import DriftStore

/// What every ``Store`` backend must do, written against the protocol only. A backend's test
/// class (SQLiteStoreConformanceTests; the PostgreSQL one of the replicas issue) runs each
/// check on a fresh store from its factory.
struct StoreConformance {
    /// A fresh, empty store holding the given models.
    let make: (_ models: [String]) throws -> any Store

    // MARK: models and baselines

    func upsertKeepsCreatedAtAndUpdatesSettings() throws {
        let store = try make([])
        var settings = Fixture.settings
        let created = try store.upsertModel(name: "fraud", settings: settings, now: t(0))
        XCTAssertEqual(created, ModelRecord(name: "fraud", settings: settings, createdAt: t(0), updatedAt: t(0)))
        settings.minRows = 7
        let updated = try store.upsertModel(name: "fraud", settings: settings, now: t(5))
        XCTAssertEqual(updated, ModelRecord(name: "fraud", settings: settings, createdAt: t(0), updatedAt: t(5)))
        XCTAssertEqual(try store.model(named: "fraud"), updated)
        XCTAssertEqual(try store.model(named: "fraud")?.settings.minRows, 7, "settings round-trip typed")
        XCTAssertNil(try store.model(named: "other"))
        XCTAssertStoreError(.invalidArgument("model name is empty"), try store.upsertModel(name: "", settings: settings, now: t(0)))
    }

    func modelsAreListedByName() throws {
        let store = try make(["zeta", "alpha", "mid"])
        XCTAssertEqual(try store.models().map(\.name), ["alpha", "mid", "zeta"])
    }

    func deleteModelRemovesEverythingOfIt() async throws {
        let store = try make(["gone", "kept"])
        for model in ["gone", "kept"] {
            _ = try store.insertBaseline(model: model, source: "s", profile: Fixture.profile(), upload: Fixture.upload, now: t(1))
            let b = try store.append(model, idPrefix: "\(model)-id")
            try store.insertWindow(window(model, seq: 1, first: b.batchID, last: b.batchID))
            let e = try store.upsertEpisode(Fixture.episode(model))
            try store.insertTransition(TransitionRecord(
                episodeID: e.id, model: model, from: .ok, to: .suspected, at: t(2), windowSeq: 1, evidence: Fixture.evidence(1)))
            try store.enqueueAction(model: model, kind: "alert", key: "\(model)-alert", payloadJSON: "{}", now: t(3))
            _ = try store.storeLabels(model: model, [LabelInput(predictionID: "x", label: 1, labelTime: nil)], receivedAt: t(3))
        }
        try await awaitIndexing(store)
        XCTAssertNotNil(try store.lookupPrediction(model: "gone", id: "gone-id-0"))
        XCTAssertTrue(try store.deleteModel(named: "gone"))
        XCTAssertNil(try store.lookupPrediction(model: "gone", id: "gone-id-0"))
        XCTAssertFalse(try store.deleteModel(named: "gone"))
        XCTAssertFalse(try store.deleteModel(named: "never"))
        XCTAssertNil(try store.latestBaseline(model: "gone"))
        XCTAssertEqual(try store.windows(model: "gone", limit: 10), [])
        XCTAssertEqual(try store.episodes(model: "gone", limit: 10), [])
        XCTAssertEqual(try store.labelCounts(model: "gone"), [:])
        // The other model is untouched.
        XCTAssertEqual(try store.models().map(\.name), ["kept"])
        XCTAssertNotNil(try store.latestBaseline(model: "kept"))
        XCTAssertNotNil(try store.lookupPrediction(model: "kept", id: "kept-id-0"))
        XCTAssertEqual(try store.episodes(model: "kept", limit: 10).count, 1)
        XCTAssertEqual(try store.dueActions(now: t(10), limit: 10).map(\.model), ["kept"])
        XCTAssertEqual(try store.labelCounts(model: "kept"), [.pending: 1])
        // A re-created model starts from scratch (baseline versions restart at 1).
        try store.upsertModel(name: "gone", settings: Fixture.settings, now: t(20))
        XCTAssertEqual(try store.insertBaseline(model: "gone", source: "s", profile: Fixture.profile(), upload: Fixture.upload, now: t(21)).version, 1)
    }

    func baselinesAreVersionedPerModel() throws {
        let store = try make(["a", "b"])
        XCTAssertNil(try store.latestBaseline(model: "a"))
        XCTAssertEqual(try store.baselineVersions(model: "a"), [])
        let v1 = try store.insertBaseline(model: "a", source: "train.csv", profile: Fixture.profile(rows: 100), upload: Fixture.upload, now: t(1))
        let v2 = try store.insertBaseline(model: "a", source: "window 1-5", profile: Fixture.profile(rows: 250), upload: Fixture.upload, now: t(2))
        let b1 = try store.insertBaseline(model: "b", source: "x", profile: Fixture.profile(rows: 1), upload: Fixture.upload, now: t(3))
        XCTAssertEqual([v1.version, v2.version, b1.version], [1, 2, 1])
        XCTAssertEqual(try store.latestBaseline(model: "a")?.version, 2)
        XCTAssertEqual(try store.latestBaseline(model: "a")?.rows, 250)
        let stored = try XCTUnwrap(try store.baseline(model: "a", version: 1))
        XCTAssertEqual(stored.summary, v1.summary)
        XCTAssertEqual(BaselineCodec.encode(stored.profile), BaselineCodec.encode(v1.profile), "the profile round-trips")
        XCTAssertEqual(try store.baselineVersions(model: "a"), [v1.summary, v2.summary])
        XCTAssertEqual(try store.baselineVersions(model: "a").first?.upload, Fixture.upload)
        XCTAssertStoreError(.unknownModel("nope"), try store.insertBaseline(model: "nope", source: "", profile: Fixture.profile(), upload: Fixture.upload, now: t(0)))
    }

    func mlflowLinkOfTheNewestBaselineAndAWatermarkThatNeverGoesBack() throws {
        let store = try make(["fraud"])
        XCTAssertNil(try store.mlflowLink(model: "fraud"))
        func link(_ run: String) -> MLflowLink {
            MLflowLink(url: "http://mlflow", registeredModel: "fraud", runID: run, experimentID: "1", runName: nil, modelVersion: "3",
                       artifact: "baseline.csv", params: ["lr": "0.1"], metrics: ["auc": 0.9])
        }
        try store.saveMLflowLink(model: "fraud", MLflowLinkRecord(baselineVersion: 1, link: link("a")))
        try store.saveMLflowLink(model: "fraud", MLflowLinkRecord(baselineVersion: 2, link: link("b")))
        XCTAssertEqual(try store.mlflowLink(model: "fraud"), MLflowLinkRecord(baselineVersion: 2, link: link("b")))

        XCTAssertNil(try store.mlflowLastVersion(model: "fraud"))
        try store.setMLflowLastVersion(model: "fraud", version: 3)
        try store.setMLflowLastVersion(model: "fraud", version: 2)
        XCTAssertEqual(try store.mlflowLastVersion(model: "fraud"), 3, "a late poll never re-opens seen versions")
        try store.setMLflowLastVersion(model: "fraud", version: 5)
        XCTAssertEqual(try store.mlflowLastVersion(model: "fraud"), 5)

        _ = try store.deleteModel(named: "fraud")
        XCTAssertNil(try store.mlflowLink(model: "fraud"))
        XCTAssertNil(try store.mlflowLastVersion(model: "fraud"))
    }

    // MARK: batches

    func idempotencyKeyReturnsTheOriginalBatch() throws {
        let store = try make(["m", "n"])
        let first = try store.append("m", rows: 5, key: "k1")
        XCTAssertEqual(try store.append("m", rows: 9, key: "k1"), .duplicate(batchID: first.batchID, rows: 5))
        XCTAssertNotEqual(try store.append("n", rows: 2, key: "k1").batchID, first.batchID, "keys are per model")
        XCTAssertEqual(try store.observationCount(model: "m"), 5)
        XCTAssertStoreError(.unknownModel("x"), try store.append("x"))
    }

    func batchesPageInCommitOrderPerModel() throws {
        let store = try make(["m", "n"])
        var ids: [Int64] = []
        for i in 0..<5 {
            ids.append(try store.append("m", at: t(Double(i))).batchID)
            try store.append("n")
        }
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10).map(\.id), ids)
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: ids[1], limit: 2).map(\.id), [ids[2], ids[3]])
        XCTAssertEqual(try store.batch(id: ids[0])?.payload, Data("batch-3".utf8))
        XCTAssertEqual(try store.lastBatchReceivedAt(model: "m"), t(4))
    }

    func lookupFindsTheLatestObservationBeforeAndAfterIndexing() async throws {
        let store = try make(["m"])
        let b1 = try store.append("m", rows: 3, idPrefix: "p").batchID
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "p-2")), [b1, 2])
        try await awaitIndexing(store)
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "p-2")), [b1, 2])
        let b2 = try store.append("m", rows: 3, idPrefix: "p").batchID
        XCTAssertEqual(try store.lookupPredictions(model: "m", ids: ["p-0", "p-9"]), ["p-0": PredictionLocation(batchID: b2, row: 0)])
        XCTAssertEqual(try store.pendingPredictionIDBatches(), 1)
    }

    // MARK: windows and episodes

    func windowsRoundTripNewestFirst() throws {
        let store = try make(["m", "n"])
        XCTAssertNil(try store.lastWindow(model: "m"))
        let windows = (1...4).map { seq in
            WindowRecord(report: Fixture.report("m", seq: seq, drifted: seq % 2 == 0), batches: Int64(seq) * 10...Int64(seq) * 10 + 9)
        }
        for w in windows { try store.insertWindow(w) }
        try store.insertWindow(window("n", seq: 9, first: 1, last: 1))
        XCTAssertEqual(try store.windows(model: "m", limit: 10), windows.reversed())
        XCTAssertEqual(try store.windows(model: "m", limit: 2), [windows[3], windows[2]])
        XCTAssertEqual(try store.windowSummaries(model: "m", limit: 10), windows.reversed().map(\.summary))
        XCTAssertEqual(try store.lastWindow(model: "m"), windows[3].summary)
        XCTAssertEqual(try store.window(model: "m", seq: 2), windows[1])
        XCTAssertEqual(try store.window(model: "m", seq: 2)?.summary.drifted, true, "the summary is the report's verdict")
        XCTAssertNil(try store.window(model: "m", seq: 99))
        XCTAssertEqual(try store.lastWindow(model: "n")?.seq, 9)
    }

    func windowConflicts() throws {
        let store = try make(["m"])
        try store.insertWindow(window("m", seq: 1, first: 1, last: 2))
        XCTAssertStoreError(.conflict("window 1 of model 'm' is already stored"), try store.insertWindow(window("m", seq: 1, first: 3, last: 4)))
        XCTAssertStoreError(.unknownModel("x"), try store.insertWindow(window("x", seq: 1, first: 1, last: 1)))
        XCTAssertEqual(try store.lastWindow(model: "m")?.batches, 1...2, "the stored window is unchanged")
    }

    func episodesInsertUpdateAndList() throws {
        let store = try make(["m", "n"])
        var episode = try store.upsertEpisode(Fixture.episode("m", seq: 3))
        XCTAssertGreaterThan(episode.id, 0)
        episode.state = .confirmed
        episode.confirmedAt = t(160)
        episode.lastWindowSeq = 4
        episode.evidence = Fixture.evidence(4, to: .confirmed, features: ["amount", "country"])
        XCTAssertEqual(try store.upsertEpisode(episode), episode)
        episode.state = .resolved
        episode.resolvedAt = t(400.5)
        try store.upsertEpisode(episode)
        XCTAssertEqual(try store.episode(id: episode.id), episode)
        let second = try store.upsertEpisode(Fixture.episode("m", at: 500, seq: 9))
        XCTAssertGreaterThan(second.id, episode.id)
        XCTAssertEqual(try store.episodes(model: "m", limit: 10), [second, episode])
        XCTAssertEqual(try store.episodes(model: "m", limit: 1), [second])
        XCTAssertEqual(try store.episodes(model: "n", limit: 10), [])
        // Kinds are kept apart, and quality evidence round-trips as quality evidence.
        let quality = try store.upsertEpisode(Fixture.episode("m", state: .cleared, seq: 2, kind: .qualityDegraded))
        XCTAssertEqual(try store.episodes(model: "m", kind: .qualityDegraded, limit: 10), [quality])
        XCTAssertEqual(try store.episodes(model: "m", kind: .drift, limit: 10), [second, episode])
        // Upsert with an unknown explicit id inserts under that id.
        let restored = try store.upsertEpisode(Fixture.episode("n", id: 1000))
        XCTAssertEqual(try store.episode(id: 1000), restored)
        // An id of another model is a conflict, and an unknown model is rejected.
        var stolen = episode
        stolen.model = "n"
        XCTAssertStoreError(.conflict("episode \(episode.id) belongs to model 'm', not 'n'"), try store.upsertEpisode(stolen))
        XCTAssertStoreError(.unknownModel("x"), try store.upsertEpisode(Fixture.episode("x")))
    }

    func transitionsRoundTripInOrder() throws {
        let store = try make(["m", "n"])
        let e = try store.upsertEpisode(Fixture.episode("m"))
        let other = try store.upsertEpisode(Fixture.episode("m"))
        let steps: [(EpisodeState, EpisodeState, Int)] = [(.ok, .suspected, 1), (.suspected, .confirmed, 2), (.confirmed, .resolved, 5)]
        let transitions = steps.map { from, to, seq in
            TransitionRecord(episodeID: e.id, model: "m", from: from, to: to, at: t(Double(seq) * 60), windowSeq: seq,
                             evidence: Fixture.evidence(seq, to: to))
        }
        for (i, transition) in transitions.enumerated() {
            try store.insertTransition(transition)
            if i == 0 {  // interleave a transition of another episode
                try store.insertTransition(TransitionRecord(
                    episodeID: other.id, model: "m", from: .ok, to: .suspected, at: t(0), windowSeq: 1, evidence: Fixture.evidence(1)))
            }
        }
        XCTAssertEqual(try store.transitions(episodeID: e.id), transitions)
        XCTAssertEqual(try store.transitions(episodeID: other.id).count, 1)
        XCTAssertEqual(try store.transitions(episodeID: 999), [])
        XCTAssertStoreError(.notFound("episode 999"), try store.insertTransition(TransitionRecord(
            episodeID: 999, model: "m", from: .ok, to: .suspected, at: t(0), windowSeq: 0, evidence: Fixture.evidence(0))))
        XCTAssertStoreError(.conflict("episode \(e.id) belongs to model 'm', not 'n'"), try store.insertTransition(TransitionRecord(
            episodeID: e.id, model: "n", from: .ok, to: .suspected, at: t(0), windowSeq: 0, evidence: Fixture.evidence(0))))
    }

    // MARK: labels and quality

    func labelsAreKeyedByPredictionIDAndJoinOnce() throws {
        let store = try make(["m", "n"])
        let first = try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 1, labelTime: 5), LabelInput(predictionID: "b", label: 0, labelTime: nil)], receivedAt: t(1))
        XCTAssertEqual(first, [.stored, .stored])
        XCTAssertEqual(try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 1, labelTime: 5)], receivedAt: t(2)), [.duplicate])
        XCTAssertEqual(try store.storeLabels(model: "n", [LabelInput(predictionID: "a", label: 1, labelTime: 5)], receivedAt: t(2)), [.stored], "per model")
        XCTAssertEqual(try store.pendingLabels(model: "m", limit: 10), [PendingLabel(predictionID: "a", receivedAt: t(1)), PendingLabel(predictionID: "b", receivedAt: t(1))])

        try store.markLabelsJoined(model: "m", [LabelJoin(predictionID: "a", batchID: 7, row: 3, endpoint: .production, score: 0.9, segment: "DE")])
        XCTAssertEqual(try store.labelledPredictions(model: "m", batches: 1...10),
                       [LabelledPrediction(predictionID: "a", batchID: 7, score: 0.9, label: 1, segment: "DE")])
        XCTAssertEqual(try store.labelledPredictions(model: "m", batches: 8...10), [])
        XCTAssertEqual(try store.labelCounts(model: "m"), [.joined: 1, .pending: 1])
        // A corrected label replaces the old one and is joined again.
        XCTAssertEqual(try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 0, labelTime: 9)], receivedAt: t(3)), [.stored])
        XCTAssertEqual(try store.labelCounts(model: "m"), [.pending: 2])
        XCTAssertEqual(try store.labelValues(model: "m", ids: ["a", "b", "zz"]), ["a": 0, "b": 0])
    }

    func pendingLabelsPastTheHorizonAreGivenUp() throws {
        let store = try make(["m"])
        _ = try store.storeLabels(model: "m", [LabelInput(predictionID: "old", label: 1, labelTime: nil)], receivedAt: t(10))
        _ = try store.storeLabels(model: "m", [LabelInput(predictionID: "new", label: 1, labelTime: nil)], receivedAt: t(100))
        XCTAssertEqual(try store.markLabelsUnmatched(model: "m", receivedBefore: t(50)), 1)
        XCTAssertEqual(try store.labelCounts(model: "m"), [.pending: 1, .unmatched: 1])
        XCTAssertEqual(try store.pendingLabels(model: "m", limit: 10).map(\.predictionID), ["new"])
    }

    func qualityAndMultivariateReferencesRoundTripTyped() throws {
        let store = try make(["m"])
        XCTAssertNil(try store.qualityBaseline(model: "m"))
        let spec = try JSONDecoder().decode(QualitySpec.self, from: Data(#"{"task":"binary","label":"y"}"#.utf8))
        let q = try XCTUnwrap(QualityBaseline.make(spec: spec, version: 2, scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]))
        try store.saveQualityBaseline(model: "m", q)
        XCTAssertEqual(try store.qualityBaseline(model: "m")?.baselineVersion, 2)
        XCTAssertEqual(try store.qualityBaseline(model: "m")?.binary?.rocAUC, q.binary?.rocAUC)

        let wq = WindowQuality.realize(seq: 4, spec: spec, labelled: [LabelledPrediction(predictionID: "a", batchID: 1, score: 0.9, label: 1, segment: nil)],
                                       baseline: q, estimated: nil)
        try store.saveWindowQuality(model: "m", wq, now: t(1))
        XCTAssertEqual(try store.windowQualities(model: "m", limit: 10).map(\.seq), [4])
        XCTAssertEqual(try store.windowQuality(model: "m", seq: 4)?.labelledRows, 1)
        XCTAssertNil(try store.windowQuality(model: "m", seq: 5))

        XCTAssertNil(try store.multivariateBaseline(model: "m"))
        var settings = Fixture.settings
        settings.features.append(ModelSettings.FeatureSpec(name: "other", kind: .numeric))
        settings.multivariate = try JSONDecoder().decode(ModelSettings.MultivariateSpec.self, from: Data("{}".utf8))
        var q2 = QualityCounts()
        q2.total = 600
        let table = Table(source: "t", rows: 600, columns: [
            .numeric(NumericColumn(name: "amount", values: (0..<600).map { Double($0 % 37) }, quality: q2)),
            .numeric(NumericColumn(name: "other", values: (0..<600).map { Double(($0 * 7) % 53) }, quality: q2)),
        ])
        let mv = try XCTUnwrap(MultivariateBaseline.fit(baseline: table, settings: settings, version: 3))
        try store.saveMultivariateBaseline(model: "m", mv)
        XCTAssertEqual(try store.multivariateBaseline(model: "m")?.baselineVersion, 3)
        XCTAssertEqual(try store.multivariateBaseline(model: "m")?.encoding, mv.encoding)
    }

    // MARK: outbox

    func enqueueIsIdempotentOnKey() throws {
        let store = try make(["m", "n"])
        let id = try store.enqueueAction(model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":1}"#, now: t(0))
        let again = try store.enqueueAction(model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":2}"#, now: t(5))
        XCTAssertEqual(again, id)
        XCTAssertEqual(
            try store.action(id: id),
            ActionRecord(id: id, model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":1}"#,
                         state: .pending, attempts: 0, nextAttemptAt: t(0), lastError: nil, createdAt: t(0), updatedAt: t(0)))
        // Keys are unique across models.
        XCTAssertEqual(try store.enqueueAction(model: "n", kind: "k8s", key: "m/episode-1/open", payloadJSON: "{}", now: t(1)), id)
        XCTAssertNotEqual(try store.enqueueAction(model: "n", kind: "k8s", key: "other", payloadJSON: "{}", now: t(1)), id)
        XCTAssertStoreError(.unknownModel("x"), try store.enqueueAction(model: "x", kind: "k", key: "new", payloadJSON: "{}", now: t(0)))
        XCTAssertStoreError(.invalidArgument("action key is empty"), try store.enqueueAction(model: "m", kind: "k", key: "", payloadJSON: "{}", now: t(0)))
    }

    func actionsAreListedPerEpisodeAndCountedWhileUndelivered() throws {
        let store = try make(["m"])
        let episode = try store.upsertEpisode(Fixture.episode("m", state: .confirmed, seq: 3))
        let firing = try store.enqueueAction(model: "m", kind: "alertmanager", key: "f", payloadJSON: "{}", now: t(1), episodeID: episode.id)
        let resolved = try store.enqueueAction(model: "m", kind: "alertmanager", key: "r", payloadJSON: "{}", now: t(2), episodeID: episode.id)
        try store.enqueueAction(model: "m", kind: "retrain", key: "other", payloadJSON: "{}", now: t(2))
        XCTAssertEqual(try store.actions(episodeID: episode.id).map(\.id), [firing, resolved])
        XCTAssertEqual(try store.actions(episodeID: episode.id).first?.episodeID, episode.id)
        XCTAssertEqual(try store.actionCounts(state: .pending), ["alertmanager": 2, "retrain": 1])
        try store.markDelivered(id: firing, now: t(3))
        try store.markRetry(id: resolved, error: "HTTP 503", now: t(3), nextAttempt: t(9))
        XCTAssertEqual(try store.actionCounts(state: .pending), ["alertmanager": 1, "retrain": 1])
        XCTAssertEqual(try store.actions(episodeID: episode.id).map(\.state), [.delivered, .pending], "a retrying action is pending")
        XCTAssertEqual(try store.actions(episodeID: episode.id).last?.updatedAt, t(3))
        XCTAssertEqual(try store.actions(model: "m", state: nil, limit: 10).map(\.key), ["other", "r", "f"], "newest first")
        XCTAssertEqual(try store.actions(model: "m", state: .delivered, limit: 10).map(\.id), [firing])
        XCTAssertEqual(try store.action(key: "r")?.id, resolved)
        XCTAssertNil(try store.action(key: "nope"))
    }

    func dueActionsAreOrderedByDueTimeThenEnqueueOrder() throws {
        let store = try make(["m"])
        let late = try store.enqueueAction(model: "m", kind: "a", key: "late", payloadJSON: "{}", now: t(30))
        let early1 = try store.enqueueAction(model: "m", kind: "a", key: "early1", payloadJSON: "{}", now: t(10))
        let early2 = try store.enqueueAction(model: "m", kind: "a", key: "early2", payloadJSON: "{}", now: t(10))
        let mid = try store.enqueueAction(model: "m", kind: "a", key: "mid", payloadJSON: "{}", now: t(20))
        XCTAssertEqual(try store.dueActions(now: t(5), limit: 10), [])
        XCTAssertEqual(try store.dueActions(now: t(10), limit: 10).map(\.id), [early1, early2])
        XCTAssertEqual(try store.dueActions(now: t(100), limit: 10).map(\.id), [early1, early2, mid, late])
        XCTAssertEqual(try store.dueActions(now: t(100), limit: 2).map(\.id), [early1, early2])
    }

    func failureBacksOffAndDeliveryIsFinal() throws {
        let store = try make(["m"])
        let a = try store.enqueueAction(model: "m", kind: "alert", key: "a", payloadJSON: "{}", now: t(0))
        let b = try store.enqueueAction(model: "m", kind: "alert", key: "b", payloadJSON: "{}", now: t(0))
        try store.markRetry(id: a, error: "HTTP 503", now: t(1), nextAttempt: t(31))
        XCTAssertEqual(try store.dueActions(now: t(2), limit: 10).map(\.id), [b], "a waits for its backoff")
        XCTAssertEqual(try store.dueActions(now: t(31), limit: 10).map(\.id), [b, a])
        var failed = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual(failed.state, .pending)
        XCTAssertEqual(failed.attempts, 1)
        XCTAssertEqual(failed.lastError, "HTTP 503")
        XCTAssertEqual(failed.nextAttemptAt, t(31))
        try store.markRetry(id: a, error: "timeout", now: t(32), nextAttempt: t(92))
        failed = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual([failed.attempts], [2])
        XCTAssertEqual(failed.lastError, "timeout")
        try store.markDelivered(id: a, now: t(93))
        try store.markDelivered(id: b, now: t(93))
        XCTAssertEqual(try store.dueActions(now: t(10_000), limit: 10), [])
        let delivered = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual(delivered.state, .delivered)
        XCTAssertEqual(delivered.attempts, 3)
        // Late reports for a delivered action change nothing.
        try store.markRetry(id: a, error: "late", now: t(94), nextAttempt: t(95))
        try store.markGivenUp(id: a, error: "late", now: t(94))
        try store.markDelivered(id: a, now: t(94))
        XCTAssertEqual(try store.action(id: a), delivered)
        XCTAssertStoreError(.notFound("outbox action 999"), try store.markDelivered(id: 999, now: t(0)))
        XCTAssertStoreError(.notFound("outbox action 999"), try store.markRetry(id: 999, error: "", now: t(0), nextAttempt: t(0)))
        XCTAssertStoreError(.notFound("outbox action 999"), try store.markGivenUp(id: 999, error: "", now: t(0)))
    }

    func givenUpActionsWaitForAnAdminRetry() throws {
        let store = try make(["m", "n"])
        let a = try store.enqueueAction(model: "m", kind: "alertmanager", key: "a", payloadJSON: "{}", now: t(0))
        try store.markRetry(id: a, error: "refused", now: t(1), nextAttempt: t(2))
        try store.markGivenUp(id: a, error: "refused again", now: t(2))
        var given = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual([given.state.rawValue, given.lastError], ["given_up", "refused again"])
        XCTAssertEqual(given.attempts, 2)
        XCTAssertEqual(try store.dueActions(now: t(10_000), limit: 10), [], "never due again by itself")
        XCTAssertNil(try store.earliestPendingAction(kind: "alertmanager"))
        XCTAssertEqual(try store.actionCounts(state: .givenUp), ["alertmanager": 1])
        XCTAssertEqual(try store.actionCounts(state: .pending), [:])
        // A late retry report does not revive it.
        try store.markRetry(id: a, error: "late", now: t(3), nextAttempt: t(4))
        XCTAssertEqual(try store.action(id: a)?.state, .givenUp)

        XCTAssertStoreError(.notFound("action a of model n"), try store.retryAction(model: "n", key: "a", now: t(5)))
        XCTAssertStoreError(.notFound("action zz of model m"), try store.retryAction(model: "m", key: "zz", now: t(5)))
        given = try store.retryAction(model: "m", key: "a", now: t(5))
        XCTAssertEqual(given, try store.action(id: a))
        XCTAssertEqual([given.state], [.pending])
        XCTAssertEqual([given.attempts], [0], "a fresh budget of attempts")
        XCTAssertEqual(given.lastError, "refused again", "kept until the next attempt")
        XCTAssertEqual(try store.dueActions(now: t(5), limit: 10).map(\.id), [a])
        try store.markDelivered(id: a, now: t(6))
        XCTAssertStoreError(.conflict("action a was delivered; there is nothing to retry"), try store.retryAction(model: "m", key: "a", now: t(7)))
    }

    func aPeerBackMakesItsPendingActionsDue() throws {
        let store = try make(["m"])
        let a = try store.enqueueAction(model: "m", kind: "alertmanager", key: "a", payloadJSON: "{}", now: t(0))
        let b = try store.enqueueAction(model: "m", kind: "alertmanager", key: "b", payloadJSON: "{}", now: t(0))
        let other = try store.enqueueAction(model: "m", kind: "mlflow", key: "c", payloadJSON: "{}", now: t(0))
        try store.markRetry(id: a, error: "refused", now: t(1), nextAttempt: t(61))
        try store.markRetry(id: b, error: "refused", now: t(1), nextAttempt: t(50))
        try store.markRetry(id: other, error: "refused", now: t(1), nextAttempt: t(70))
        XCTAssertEqual(try store.earliestPendingAction(kind: "alertmanager")?.id, b)
        XCTAssertEqual(try store.makeDue(kind: "alertmanager", now: t(10)), 2)
        XCTAssertEqual(try store.dueActions(now: t(10), limit: 10).map(\.id), [a, b])
        XCTAssertEqual(try store.action(id: other)?.nextAttemptAt, t(70), "another kind keeps its schedule")
        XCTAssertEqual(try store.makeDue(kind: "alertmanager", now: t(10)), 0)
    }

    // MARK: candidates

    func candidatesRoundTripWithTheirDecision() throws {
        let store = try make(["m"])
        let c = CandidateRecord(model: "m", version: "v2", modelURI: "s3://m/v2", metrics: ["auc": 0.91], episodeID: nil,
                                shadowName: "m-v2-shadow", verdict: .pending, decision: nil, createdAt: t(1), updatedAt: t(1))
        try store.insertCandidate(c)
        XCTAssertEqual(try store.candidates(model: "m"), [c])
        XCTAssertStoreError(.conflict("candidate v2 of model m already exists"), try store.insertCandidate(c))
        let decision = GateDecision(policy: GatePolicy(), comparison: ShadowComparison(pairs: [], threshold: 0.5, shadowRows: 0, unjoinable: 0))
        try store.updateCandidate(model: "m", version: "v2", decision: decision, now: t(5))
        let judged = try XCTUnwrap(try store.candidates(model: "m", limit: 1).first)
        XCTAssertEqual(judged.verdict, decision.verdict)
        XCTAssertEqual(judged.decision, decision)
        XCTAssertEqual(judged.metrics, ["auc": 0.91])
        XCTAssertStoreError(.notFound("candidate v9 of model m"), try store.updateCandidate(model: "m", version: "v9", decision: decision, now: t(5)))
    }

    /// The background indexer's step.
    private func awaitIndexing(_ store: any Store) async throws {
        try await store.indexPredictionIDs(maxBatches: 1000)
    }
}
