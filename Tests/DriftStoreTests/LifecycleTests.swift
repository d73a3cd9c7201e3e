import DriftCore
import Foundation
import GRDB
import XCTest

@testable import DriftStore

final class LifecycleTests: XCTestCase {
    private let migrations = ["v1-models-baselines", "v1-batches", "v1-windows-episodes", "v1-outbox", "v2-deferred-id-index", "v3-id-generations", "v4-outbox-episode", "v5-remediation", "v6-labels-quality", "v7-multivariate-baselines", "v8-mlflow", "v9-store-probe", "v10-typed-json", "v11-action-states"]

    func testFreshDirectoryIsCreatedAndMigrated() throws {
        let root = try makeTemporaryDirectory(self)
        let directory = root + "/nested/state"  // intermediate folders are created
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        XCTAssertEqual(store.path, directory + "/driftwatch.sqlite")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/driftwatch.sqlite"))
        let applied = try store.writer.read { db in try Schema.migrator.appliedIdentifiers(db) }
        XCTAssertEqual(applied, Set(migrations))
        let tables = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name")
        }
        XCTAssertEqual(tables, ["baselines", "batch_ids", "batches", "candidates", "episode_transitions", "episodes", "id_generations", "id_index_state", "labels", "mlflow_links", "mlflow_registry", "models", "multivariate_baselines", "outbox", "quality_baselines", "remediations", "store_probe", "window_quality", "windows"])
        XCTAssertEqual(try store.pragma("journal_mode"), "wal")
        XCTAssertEqual(try store.pragma("foreign_keys"), "1")
        try store.ping()
    }

    func testDurabilitySettingChoosesSynchronousMode() throws {
        let root = try makeTemporaryDirectory(self)
        let normal = try SQLiteStore(directory: root + "/a")
        XCTAssertEqual(try normal.pragma("synchronous"), "1")  // NORMAL
        XCTAssertEqual(normal.durability, .processCrash)
        try normal.close()
        let full = try SQLiteStore(directory: root + "/b", durability: .powerLoss)
        XCTAssertEqual(try full.pragma("synchronous"), "2")  // FULL
        try full.close()
    }

    func testReopeningAnExistingStoreKeepsEverything() throws {
        let directory = try makeTemporaryDirectory(self)
        var store = try SQLiteStore(directory: directory)
        try store.upsertModel(name: "fraud", settings: Fixture.settings, now: t(0))
        let baseline = try store.insertBaseline(model: "fraud", source: "train.csv", profile: Fixture.profile(rows: 1000), upload: Fixture.upload, now: t(1))
        let payload = Data((0..<40_000).map { UInt8(truncatingIfNeeded: $0) })
        let first = try store.append("fraud", rows: 4, at: t(5), key: "k1", idPrefix: "p", payload: payload)
        let second = try store.append("fraud", rows: 2, at: t(6), idPrefix: "q")
        try store.insertWindow(window("fraud", seq: 1, first: first.batchID, last: first.batchID))
        let episode = try store.upsertEpisode(Fixture.episode("fraud", at: 7))
        let transition = TransitionRecord(
            episodeID: episode.id, model: "fraud", from: .ok, to: .suspected, at: t(7), windowSeq: 1, evidence: Fixture.evidence(1))
        try store.insertTransition(transition)
        let actionID = try store.enqueueAction(model: "fraud", kind: "alert", key: "a1", payloadJSON: "{}", now: t(8))
        try store.close()
        XCTAssertThrowsError(try store.ping(), "a closed store refuses work")

        store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        XCTAssertEqual(try store.models().map(\.name), ["fraud"])
        XCTAssertEqual(try store.latestBaseline(model: "fraud")?.summary, baseline.summary)
        let batches = try store.batches(model: "fraud", afterBatchID: 0, limit: 10)
        XCTAssertEqual(batches.map(\.id), [first.batchID, second.batchID])
        XCTAssertEqual(batches.first?.payload, payload)
        XCTAssertEqual(try store.observationCount(model: "fraud"), 6)
        XCTAssertEqual(try store.lookupPrediction(model: "fraud", id: "q-1")?.batchID, second.batchID)
        XCTAssertEqual(try store.lastWindow(model: "fraud")?.batches.upperBound, first.batchID)
        XCTAssertEqual(try store.episodes(model: "fraud", limit: 5), [episode])
        XCTAssertEqual(try store.transitions(episodeID: episode.id), [transition])
        XCTAssertEqual(try store.dueActions(now: t(9), limit: 5).map(\.id), [actionID])
        // The idempotency key survived too.
        XCTAssertEqual(
            try store.append("fraud", rows: 4, key: "k1"), .duplicate(batchID: first.batchID, rows: 4))
        // Re-running migrations on an up-to-date file is a no-op.
        let applied = try store.writer.read { db in try Schema.migrator.appliedIdentifiers(db) }
        XCTAssertEqual(applied, Set(migrations))
    }

    /// What kill -9 keeps is what reached the file through the OS: a second, independent
    /// connection opened while the first store is still open (nothing closed, nothing
    /// checkpointed) must already see every acknowledged batch.
    func testAcknowledgedBatchIsVisibleToAnIndependentConnection() throws {
        let directory = try makeTemporaryDirectory(self)
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        let outcome = try store.append("m", rows: 5, idPrefix: "x")
        let other = try DatabaseQueue(path: directory + "/driftwatch.sqlite")
        defer { try? other.close() }
        let pending = try other.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_ids") }
        XCTAssertEqual(pending, 1, "the batch's 5 ids are stored with it, indexed later")
        let id = try other.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM batches") }
        XCTAssertEqual(id, outcome.batchID)
    }

    /// A store written before v3 (ids in `pending_ids` and in the one-table `prediction_ids`
    /// index) keeps every id findable after the upgrade.
    /// Rows from before the typed Store (integers kept as strings) are rewritten by
    /// v10-typed-json and then decode strictly.
    func testUpgradeRewritesIntegersStoredAsStrings() throws {
        let directory = try makeTemporaryDirectory(self)
        do {
            let old = try DatabaseQueue(path: directory + "/driftwatch.sqlite")
            try Schema.migrator.migrate(old, upTo: "v9-store-probe")
            let settings = String(decoding: try JSONEncoder().encode(Fixture.settings), as: UTF8.self)
            try old.write { db in
                try db.execute(sql: "INSERT INTO models (name, settings_json, created_at, updated_at) VALUES ('m', ?, 0, 0)", arguments: [settings])
                try db.execute(sql: """
                    INSERT INTO baselines (model, version, created_at, source, rows, profile, metadata_json)
                    VALUES ('m', 1, 0, 'train.csv', 50, ?, '{"bytes":"1234","content_type":"text/csv"}'),
                           ('m', 2, 0, 'bench', 50, ?, '{}')
                    """, arguments: [Data(BaselineCodec.encode(Fixture.profile())), Data(BaselineCodec.encode(Fixture.profile()))])
                let evidence = #"{"baseline":"0.8","metric":"roc_auc","realized":"0.61","window_seq":"4"}"#
                try db.execute(sql: """
                    INSERT INTO episodes (id, model, state, opened_at, last_window_seq, evidence_json, kind)
                    VALUES (7, 'm', 'suspected', 0, 4, ?, 'quality_degraded')
                    """, arguments: [evidence])
                try db.execute(sql: """
                    INSERT INTO episode_transitions (episode_id, model, from_state, to_state, at, window_seq, evidence_json)
                    VALUES (7, 'm', 'ok', 'suspected', 0, 4, ?)
                    """, arguments: [evidence])
            }
            try old.close()
        }
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        XCTAssertEqual(try store.baselineVersions(model: "m").map(\.upload),
                       [BaselineUpload(contentType: "text/csv", bytes: 1234), BaselineUpload(contentType: "", bytes: 0)])
        let quality = EpisodeEvidence.quality(QualityEvidence(metric: "roc_auc", windowSeq: 4, realized: "0.61", baseline: "0.8"))
        XCTAssertEqual(try store.episode(id: 7)?.evidence, quality)
        XCTAssertEqual(try store.transitions(episodeID: 7).map(\.evidence), [quality])
    }

    /// Actions written before one delivery truth: 'failed' with a next attempt is pending
    /// (still retried), 'failed' parked in the far future is given up; the rest is kept as is.
    func testUpgradeSplitsFailedActionsIntoPendingAndGivenUp() throws {
        let directory = try makeTemporaryDirectory(self)
        do {
            let old = try DatabaseQueue(path: directory + "/driftwatch.sqlite")
            try Schema.migrator.migrate(old, upTo: "v10-typed-json")
            let settings = String(decoding: try JSONEncoder().encode(Fixture.settings), as: UTF8.self)
            try old.write { db in
                try db.execute(sql: "INSERT INTO models (name, settings_json, created_at, updated_at) VALUES ('m', ?, 0, 0)", arguments: [settings])
                try db.execute(sql: """
                    INSERT INTO outbox (id, model, kind, key, payload_json, state, attempts, next_attempt_at, last_error, created_at, updated_at)
                    VALUES (1, 'm', 'alertmanager', 'retrying', '{}', 'failed', 3, 100, 'refused', 1, 2),
                           (2, 'm', 'alertmanager', 'parked', '{}', 'failed', 30, ?, 'refused', 1, 3),
                           (3, 'm', 'mlflow', 'done', '{}', 'delivered', 1, 1, NULL, 1, 4),
                           (4, 'm', 'mlflow', 'new', '{}', 'pending', 0, 5, NULL, 5, 5)
                    """, arguments: [Date.distantFuture.timeIntervalSince1970])
            }
            try old.close()
        }
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        let actions = try store.actions(model: "m", state: nil, limit: 10)
        XCTAssertEqual(actions.map(\.key), ["new", "done", "parked", "retrying"])
        XCTAssertEqual(actions.map(\.state), [.pending, .delivered, .givenUp, .pending])
        XCTAssertEqual(actions.map(\.attempts), [0, 1, 30, 3])
        XCTAssertEqual(actions.last?.lastError, "refused")
        XCTAssertEqual(try store.dueActions(now: Date(timeIntervalSince1970: 1000), limit: 10).map(\.key), ["new", "retrying"])
        // New rows keep counting up from the old ids.
        XCTAssertEqual(try store.enqueueAction(model: "m", kind: "mlflow", key: "next", payloadJSON: "{}", now: Date()), 5)
    }

    func testUpgradeFromTheOneTableIDIndex() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/driftwatch.sqlite"
        do {
            let old = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(old, upTo: "v2-deferred-id-index")
            try old.write { db in
                try db.execute(sql: "INSERT INTO models (name, settings_json, created_at, updated_at) VALUES ('m', '{}', 0, 0)")
                for batch in 1...3 {
                    try db.execute(sql: "INSERT INTO batches (model, received_at, rows, payload) VALUES ('m', 0, 2, x'')")
                    _ = batch
                }
                // Batches 1 and 2 were indexed (id "dup" re-pointed to batch 2), batch 3 pending.
                try db.execute(sql: """
                    INSERT INTO prediction_ids (model, prediction_id, batch_id, row) VALUES
                        ('m', 'a', 1, 0), ('m', 'b', 1, 1), ('m', 'dup', 2, 1), ('m', 'c', 2, 0)
                    """)
                try db.execute(
                    sql: "INSERT INTO pending_ids (batch_id, model, ids) VALUES (3, 'm', ?)",
                    arguments: [BatchIDs.encode([(id: "d", row: 0), (id: "e", row: 1)])])
            }
            try old.close()
        }
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        let expected: [String: [Int64]] = ["a": [1, 0], "b": [1, 1], "c": [2, 0], "dup": [2, 1], "d": [3, 0], "e": [3, 1]]
        for (id, location) in expected { XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: id)), location, id) }
        XCTAssertEqual(try store.indexPendingPredictionIDs(), 6)
        for (id, location) in expected { XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: id)), location, id) }
    }

    func testUnwritableDirectoryNamesThePath() throws {
        let root = try makeTemporaryDirectory(self)
        // A regular file where a directory should be: fails even for root (CI runs as root,
        // so permission bits alone would not stop it).
        let blocker = root + "/not-a-directory"
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let directory = blocker + "/store"
        XCTAssertThrowsError(try SQLiteStore(directory: directory)) { error in
            guard case DriftStoreError.cannotOpen(let path, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(path, directory)
            XCTAssertTrue("\(error)".hasSuffix("\(blocker) exists and is not a directory"), "\(error)")
            XCTAssertTrue("\(error)".contains(directory), "\(error)")
            XCTAssertTrue(error.localizedDescription.contains(directory), error.localizedDescription)
        }
    }

    func testDatabasePathThatCannotBeOpenedNamesTheFile() throws {
        let directory = try makeTemporaryDirectory(self)
        // The database path itself is a directory: SQLite cannot open it.
        try FileManager.default.createDirectory(
            atPath: directory + "/driftwatch.sqlite", withIntermediateDirectories: false)
        XCTAssertThrowsError(try SQLiteStore(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains(directory + "/driftwatch.sqlite"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("cannot open store at "), "\(error)")
        }
    }

    func testInMemoryStoresAreIndependent() throws {
        let a = try SQLiteStore.inMemory()
        let b = try SQLiteStore.inMemory()
        try a.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        XCTAssertEqual(try b.models(), [])
        XCTAssertNil(a.path)
        try a.ping()
    }
}

/// A stored value that no longer decodes is an error naming the table and the row, never a
/// silent default (a lost multivariate reference would switch multivariate drift off).
final class CorruptRecordTests: XCTestCase {
    func testACorruptReportNamesTheTableAndTheWindow() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        try store.insertWindow(window("m", seq: 1, first: 1, last: 1))
        try store.writer.write { db in try db.execute(sql: "UPDATE windows SET report_json = '{\"seq\":1}'") }
        XCTAssertThrowsError(try store.windows(model: "m", limit: 1)) { error in
            guard case .corruptRecord(let table, let key, let reason)? = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(table, "windows")
            XCTAssertEqual(key, "m window 1")
            XCTAssertTrue(reason.hasPrefix("WindowReport: "), reason)
        }
        XCTAssertEqual(try store.windowSummaries(model: "m", limit: 1).map(\.seq), [1], "the summary columns still read")
    }

    func testAnUnknownEpisodeStateIsCorruptNotIgnored() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let e = try store.upsertEpisode(Fixture.episode("m"))
        try store.writer.write { db in try db.execute(sql: "UPDATE episodes SET state = 'open'") }
        XCTAssertStoreError(.corruptRecord(table: "episodes", key: "episode \(e.id)", reason: "state \"open\" is not a EpisodeRecordState"),
                            try store.episode(id: e.id))
    }

    func testACorruptMultivariateReferenceIsAnError() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        try store.writer.write { db in
            try db.execute(sql: "INSERT INTO multivariate_baselines (model, baseline_version, model_json) VALUES ('m', 1, '{}')")
        }
        XCTAssertThrowsError(try store.multivariateBaseline(model: "m")) { error in
            guard case .corruptRecord(let table, let key, _)? = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual([table, key], ["multivariate_baselines", "m v1"])
        }
    }
}
