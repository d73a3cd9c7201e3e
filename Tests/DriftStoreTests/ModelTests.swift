import Foundation
import XCTest

@testable import DriftStore

final class ModelTests: XCTestCase {
    func testUpsertKeepsCreatedAtAndUpdatesSettings() throws {
        let store = try DriftStore.inMemory()
        let created = try store.upsertModel(name: "fraud", settingsJSON: #"{"a":1}"#, now: t(0))
        XCTAssertEqual(created, ModelRecord(name: "fraud", settingsJSON: #"{"a":1}"#, createdAt: t(0), updatedAt: t(0)))
        let updated = try store.upsertModel(name: "fraud", settingsJSON: #"{"a":2}"#, now: t(5))
        XCTAssertEqual(updated, ModelRecord(name: "fraud", settingsJSON: #"{"a":2}"#, createdAt: t(0), updatedAt: t(5)))
        XCTAssertEqual(try store.model(named: "fraud"), updated)
        XCTAssertNil(try store.model(named: "other"))
        XCTAssertStoreError(.invalidArgument("model name is empty"), try store.upsertModel(name: "", settingsJSON: "{}", now: t(0)))
    }

    func testModelsAreListedByName() throws {
        let store = try DriftStore.inMemory(withModels: ["zeta", "alpha", "mid"])
        XCTAssertEqual(try store.models().map(\.name), ["alpha", "mid", "zeta"])
    }

    func testDeleteModelCascadesToEverythingOfIt() throws {
        let store = try DriftStore.inMemory(withModels: ["gone", "kept"])
        for model in ["gone", "kept"] {
            _ = try store.insertBaseline(model: model, source: "s", rows: 1, profile: Data([1]), metadataJSON: "{}", now: t(1))
            let b = try store.append(model, idPrefix: "\(model)-id")
            try store.insertWindow(window(model, seq: 1, first: b.batchID, last: b.batchID))
            let e = try store.upsertEpisode(EpisodeRecord(
                id: 0, model: model, state: "open", openedAt: t(2), confirmedAt: nil, resolvedAt: nil,
                lastWindowSeq: 1, evidenceJSON: "{}"))
            try store.insertTransition(TransitionRecord(
                episodeID: e.id, model: model, from: "none", to: "open", at: t(2), windowSeq: 1, evidenceJSON: "{}"))
            _ = try store.enqueueAction(model: model, kind: "alert", key: "\(model)-alert", payloadJSON: "{}", now: t(3))
        }
        try store.indexPendingPredictionIDs()  // both models' ids in one shared generation
        XCTAssertNotNil(try store.lookupPrediction(model: "gone", id: "gone-id-0"))
        XCTAssertTrue(try store.deleteModel(named: "gone"))
        XCTAssertNil(try store.lookupPrediction(model: "gone", id: "gone-id-0"))
        XCTAssertFalse(try store.deleteModel(named: "gone"))
        XCTAssertFalse(try store.deleteModel(named: "never"))

        let counts = try store.writer.read { db in
            try ["baselines", "batches", "batch_ids", "windows", "episodes", "episode_transitions", "outbox"]
                .map { table in
                    (table, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE model = 'gone'") ?? -1)
                }
        }
        for (table, count) in counts { XCTAssertEqual(count, 0, "rows of the deleted model left in \(table)") }
        // The other model is untouched.
        XCTAssertEqual(try store.models().map(\.name), ["kept"])
        XCTAssertNotNil(try store.latestBaseline(model: "kept"))
        XCTAssertNotNil(try store.lookupPrediction(model: "kept", id: "kept-id-0"))
        XCTAssertEqual(try store.episodes(model: "kept", limit: 10).count, 1)
        XCTAssertEqual(try store.dueActions(now: t(10), limit: 10).map(\.model), ["kept"])
        // A re-created model starts from scratch (baseline versions restart at 1).
        try store.upsertModel(name: "gone", settingsJSON: "{}", now: t(20))
        XCTAssertEqual(try store.insertBaseline(model: "gone", source: "s", rows: 1, profile: Data(), metadataJSON: "{}", now: t(21)).version, 1)
    }

    func testBaselinesAreVersionedPerModel() throws {
        let store = try DriftStore.inMemory(withModels: ["a", "b"])
        XCTAssertNil(try store.latestBaseline(model: "a"))
        XCTAssertEqual(try store.baselineVersions(model: "a"), [])
        let v1 = try store.insertBaseline(model: "a", source: "train.csv", rows: 100, profile: Data([1, 2]), metadataJSON: #"{"k":1}"#, now: t(1))
        let v2 = try store.insertBaseline(model: "a", source: "window 1-5", rows: 250, profile: Data([3]), metadataJSON: "{}", now: t(2))
        let b1 = try store.insertBaseline(model: "b", source: "x", rows: 1, profile: Data(), metadataJSON: "{}", now: t(3))
        XCTAssertEqual([v1.version, v2.version, b1.version], [1, 2, 1])
        XCTAssertEqual(try store.latestBaseline(model: "a"), v2)
        XCTAssertEqual(try store.baseline(model: "a", version: 1), v1)
        XCTAssertEqual(try store.latestBaseline(model: "b")?.profile, Data(), "empty profile round-trips as empty, not NULL")
        XCTAssertEqual(try store.baselineVersions(model: "a"), [v1.summary, v2.summary])
        XCTAssertStoreError(.unknownModel("nope"), try store.insertBaseline(model: "nope", source: "", rows: 0, profile: Data(), metadataJSON: "{}", now: t(0)))
    }
}

/// The MLflow link of each baseline and the registry watermark (candidates are versions after it).
final class MLflowStoreTests: XCTestCase {
    func testLinkOfTheNewestBaselineAndAWatermarkThatNeverGoesBack() throws {
        let store = try DriftStore.inMemory(withModels: ["fraud"])
        XCTAssertNil(try store.mlflowLink(model: "fraud"))
        try store.saveMLflowLink(model: "fraud", baselineVersion: 1, json: #"{"run_id":"a"}"#)
        try store.saveMLflowLink(model: "fraud", baselineVersion: 2, json: #"{"run_id":"b"}"#)
        XCTAssertEqual(try store.mlflowLink(model: "fraud")?.baselineVersion, 2)
        XCTAssertEqual(try store.mlflowLink(model: "fraud")?.json, #"{"run_id":"b"}"#)

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
}
