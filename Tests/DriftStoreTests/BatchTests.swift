import Foundation
import GRDB
import XCTest

@testable import DriftStore

final class BatchTests: XCTestCase {
    func testAppendStoresBatchWithMetadata() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let payload = Data("opaque codec bytes".utf8)
        let outcome = try store.appendBatch(
            model: "m", receivedAt: t(1.5), rows: 2, firstEventTime: 100.25, lastEventTime: nil,
            idempotencyKey: nil, payload: payload, predictionIDs: [(id: "a", row: 0), (id: "b", row: 1)])
        guard case .stored(let id) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(
            try store.batches(model: "m", afterBatchID: 0, limit: 10),
            [BatchRecord(id: id, model: "m", receivedAt: t(1.5), rows: 2, firstEventTime: 100.25, lastEventTime: nil, payload: payload)])
        XCTAssertEqual(try store.observationCount(model: "m"), 2)
        XCTAssertEqual(try store.observationCount(model: "other"), 0)
    }

    func testEmptyPayloadAndNoIDs() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let outcome = try store.appendBatch(
            model: "m", receivedAt: t(1), rows: 0, firstEventTime: nil, lastEventTime: nil,
            idempotencyKey: nil, payload: Data(), predictionIDs: [])
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 1).first?.payload, Data())
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 1).first?.id, outcome.batchID)
    }

    func testIdempotencyKeyReturnsTheOriginalBatch() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m", "n"])
        let first = try store.append("m", rows: 4, key: "req-1", idPrefix: "first")
        guard case .stored(let originalID) = first else { return XCTFail("\(first)") }
        // A retry with the same key, even with other content, stores nothing.
        let retry = try store.append("m", rows: 7, key: "req-1", idPrefix: "retry")
        XCTAssertEqual(retry, .duplicate(batchID: originalID, rows: 4))
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10).count, 1)
        XCTAssertEqual(try store.observationCount(model: "m"), 4)
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "retry-0"), "duplicate ids not indexed")
        // Same key on another model is another batch; other keys and no key store normally.
        guard case .stored(let otherModel) = try store.append("n", rows: 1, key: "req-1") else { return XCTFail() }
        XCTAssertNotEqual(otherModel, originalID)
        guard case .stored = try store.append("m", rows: 1, key: "req-2") else { return XCTFail() }
        guard case .stored = try store.append("m", rows: 1) else { return XCTFail() }
        guard case .stored = try store.append("m", rows: 1) else { return XCTFail() }
        XCTAssertEqual(try store.observationCount(model: "m"), 7)
    }

    func testAppendValidatesInput() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        XCTAssertStoreError(.unknownModel("ghost"), try store.append("ghost"))
        XCTAssertStoreError(.invalidArgument("batch rows -1 < 0"), try store.append("m", rows: -1))
        XCTAssertStoreError(
            .invalidArgument("idempotency key is empty (pass nil for none)"), try store.append("m", key: ""))
        XCTAssertThrowsError(try store.appendBatch(
            model: "m", receivedAt: t(0), rows: 2, firstEventTime: nil, lastEventTime: nil,
            idempotencyKey: nil, payload: Data(), predictionIDs: [(id: "x", row: 2)]))
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10), [], "nothing stored by failed appends")
    }

    func testPredictionLookup() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m", "n"])
        let b1 = try store.append("m", rows: 3, idPrefix: "p").batchID
        let b2 = try store.appendBatch(
            model: "m", receivedAt: t(2), rows: 10, firstEventTime: nil, lastEventTime: nil,
            idempotencyKey: nil, payload: Data([0]), predictionIDs: [(id: "late", row: 7), (id: "p-1", row: 9)]).batchID
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "p-0")), [b1, 0])
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "p-2")), [b1, 2])
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "late")), [b2, 7])
        // An id seen again points at its latest observation.
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "p-1")), [b2, 9])
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "missing"))
        XCTAssertNil(try store.lookupPrediction(model: "n", id: "p-0"), "ids are per model")
    }

    func testEveryIDIsIndexedAcrossInsertChunks() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        for count in [SQLiteStore.idChunk - 1, SQLiteStore.idChunk, SQLiteStore.idChunk * 3 + 5] {
            let prefix = "n\(count)"
            let batchID = try store.append("m", rows: count, idPrefix: prefix).batchID
            for row in 0..<count {
                XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "\(prefix)-\(row)")), [batchID, Int64(row)])
            }
        }
        // Found while pending (in their batch's blob), and again once moved to the index.
        XCTAssertEqual(try store.indexedIDCount(), 0)
        XCTAssertEqual(try store.indexPendingPredictionIDs(), SQLiteStore.idChunk * 5 + 4)
        XCTAssertEqual(try store.indexPendingPredictionIDs(), 0, "nothing left pending")
        XCTAssertEqual(try store.indexedIDCount(), SQLiteStore.idChunk * 5 + 4)
        for count in [SQLiteStore.idChunk - 1, SQLiteStore.idChunk * 3 + 5] {
            for row in [0, count - 1] { XCTAssertNotNil(try store.lookupPrediction(model: "m", id: "n\(count)-\(row)")) }
        }
    }

    func testGenerationsFillUpRollOverAndAreSearchedNewestFirst() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m", "n"])
        var batches: [Int64] = []
        for i in 0..<6 {
            batches.append(try store.append(i % 2 == 0 ? "m" : "n", rows: 4, idPrefix: "g\(i)").batchID)
            // Capacity 6: a generation takes batches until it holds 6 or more ids.
            try store.indexPendingPredictionIDs(maxBatches: 1, generationCapacity: 6)
        }
        let generations = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT first_batch_id, last_batch_id, ids FROM id_generations ORDER BY gen")
                .map { [$0[0] as Int64, $0[1] as Int64, $0[2] as Int64] }
        }
        XCTAssertEqual(generations, [[batches[0], batches[1], 8], [batches[2], batches[3], 8], [batches[4], batches[5], 8]])
        for i in 0..<6 {
            XCTAssertEqual(located(try store.lookupPrediction(model: i % 2 == 0 ? "m" : "n", id: "g\(i)-3")), [batches[i], 3])
            XCTAssertNil(try store.lookupPrediction(model: i % 2 == 0 ? "n" : "m", id: "g\(i)-3"), "ids are per model")
        }
        // An id repeated in a later generation is found there, not in the older one.
        let again = try store.appendBatch(
            model: "m", receivedAt: t(9), rows: 3, firstEventTime: nil, lastEventTime: nil,
            idempotencyKey: nil, payload: Data([1]), predictionIDs: [(id: "g0-1", row: 2)]).batchID
        try store.indexPendingPredictionIDs(generationCapacity: 6)
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "g0-1")), [again, 2])
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "g0-2")), [batches[0], 2])
    }

    func testIndexSurvivesReopeningAndKeysAreStable() throws {
        let directory = try makeTemporaryDirectory(self)
        do {
            let store = try SQLiteStore(directory: directory)
            try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
            try store.append("m", rows: 50, idPrefix: "r")
            try store.indexPendingPredictionIDs()
            try store.close()
        }
        let reopened = try SQLiteStore(directory: directory)
        defer { try? reopened.close() }
        XCTAssertEqual(located(try reopened.lookupPrediction(model: "m", id: "r-49")), [1, 49])
        // The stored key is the documented hash (FNV-1a 64 + Murmur3 finalizer), not a
        // per-process one: pinned so that a change of hash is a deliberate migration.
        XCTAssertEqual(PredictionKey.key(modelHash: PredictionKey.seed(model: "m"), id: "r-49"), PredictionKey.key(modelHash: PredictionKey.seed(model: "m"), id: "r-49"))
        XCTAssertNotEqual(PredictionKey.key(modelHash: PredictionKey.seed(model: "ab"), id: "c"), PredictionKey.key(modelHash: PredictionKey.seed(model: "a"), id: "bc"))
        XCTAssertEqual(PredictionKey.key(modelHash: PredictionKey.seed(model: ""), id: ""), Self.referenceKey(model: "", id: ""))
        XCTAssertEqual(PredictionKey.key(modelHash: PredictionKey.seed(model: "fraud"), id: "req-7/0"), Self.referenceKey(model: "fraud", id: "req-7/0"))
    }

    /// Independent spelling of the key: FNV-1a 64 over model ‖ 0xFF ‖ id, then fmix64.
    private static func referenceKey(model: String, id: String) -> Int64 {
        var h: UInt64 = 14695981039346656037
        for b in Array(model.utf8) + [0xFF] + Array(id.utf8) { h = (h ^ UInt64(b)) &* 1099511628211 }
        h = (h ^ (h >> 33)) &* 0xff51afd7ed558ccd
        h = (h ^ (h >> 33)) &* 0xc4ceb9fe1a85ec53
        return Int64(bitPattern: h ^ (h >> 33))
    }

    func testAnIndexEntryIsVerifiedAgainstItsBatch() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let batchID = try store.append("m", rows: 2, idPrefix: "v").batchID
        try store.indexPendingPredictionIDs()
        // Forge what a hash collision looks like: another id's key pointing at this batch/row.
        let forged = PredictionKey.key(modelHash: PredictionKey.seed(model: "m"), id: "other")
        try store.writer.write { db in
            let gen = try Int64.fetchOne(db, sql: "SELECT MAX(gen) FROM id_generations") ?? 0
            try db.execute(sql: "INSERT INTO \(SQLiteStore.keyTable(gen)) VALUES (?, ?, 1)", arguments: [forged, batchID])
        }
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "other"), "the batch observed v-1 at row 1, not 'other'")
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "v-1")), [batchID, 1])
    }

    func testBatchesAfterIDPagesInOrderPerModel() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m", "n"])
        var ids: [Int64] = []
        for i in 0..<7 {
            ids.append(try store.append("m", rows: i + 1, at: t(Double(i))).batchID)
            try store.append("n")  // interleaved batches of another model
        }
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 3).map(\.id), Array(ids[0..<3]))
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: ids[2], limit: 3).map(\.id), Array(ids[3..<6]))
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: ids[5], limit: 3).map(\.id), [ids[6]])
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: ids[6], limit: 3), [])
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 0), [])
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 100).map(\.rows), [1, 2, 3, 4, 5, 6, 7])
    }

    func testBatchIDsAreNeverReused() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let a = try store.append("m").batchID
        XCTAssertTrue(try store.deleteModel(named: "m"))
        try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        XCTAssertGreaterThan(try store.append("m").batchID, a)
    }

    func testPruningKeepsEverythingWithoutAClosedWindow() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        for i in 0..<3 { try store.append("m", at: t(Double(i))) }
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(1000)), 0)
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10).count, 3)
    }

    func testPruningNeverDeletesBatchesAfterTheLastWindow() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m", "n"])
        var ids: [Int64] = []
        for i in 0..<10 { ids.append(try store.append("m", rows: 2, at: t(Double(i)), idPrefix: "b\(i)").batchID) }
        let other = try store.append("n", at: t(0), idPrefix: "n").batchID
        try store.insertWindow(window("n", seq: 1, first: other, last: other))
        try store.insertWindow(window("m", seq: 1, first: ids[0], last: ids[3]))
        try store.insertWindow(window("m", seq: 2, first: ids[4], last: ids[5]))
        try store.indexPendingPredictionIDs()  // one generation holding pruned and kept batches
        // Cutoff past everything: only batches up to the last window's lastBatchID (ids[5]) go.
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(1000)), 6)
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 100).map(\.id), Array(ids[6...]))
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "b5-1"), "ids of pruned batches go too")
        XCTAssertNotNil(try store.lookupPrediction(model: "m", id: "b6-0"))
        XCTAssertEqual(try store.observationCount(model: "m"), 8)
        // Another model is untouched by pruning "m".
        XCTAssertNotNil(try store.lookupPrediction(model: "n", id: "n-0"))
        XCTAssertEqual(try store.batches(model: "n", afterBatchID: 0, limit: 10).count, 1)
        // Nothing more to prune until a later window closes.
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(1000)), 0)
    }

    func testPruningRespectsTheCutoff() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        var ids: [Int64] = []
        for i in 0..<6 { ids.append(try store.append("m", at: t(Double(i * 10)), idPrefix: "b\(i)").batchID) }
        try store.insertWindow(window("m", seq: 1, first: ids[0], last: ids[4]))
        // received at 0, 10, 20 are before 25
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(25)), 3)
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 100).map(\.id), Array(ids[3...]))
        XCTAssertNotNil(try store.lookupPrediction(model: "m", id: "b3-0"))
    }

    func testPruningInSeveralChunks() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let count = SQLiteStore.pruneChunk * 2 + 7
        var last: Int64 = 0
        for i in 0..<count { last = try store.append("m", rows: 1, at: t(Double(i)), idPrefix: "c\(i)").batchID }
        try store.indexPendingPredictionIDs(maxBatches: 1000)
        let keep = try store.append("m", rows: 1, at: t(0), idPrefix: "open").batchID
        try store.insertWindow(window("m", seq: 1, first: 1, last: last))
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(Double(count))), count)
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10).map(\.id), [keep])
        // The pruned batches' blobs are gone and so is their generation (it held only them).
        XCTAssertEqual(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_ids") }, 1)
        XCTAssertEqual(try store.indexedIDCount(), 0)
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "c3-0"))
        XCTAssertNotNil(try store.lookupPrediction(model: "m", id: "open-0"), "pending, still found")
        try store.indexPendingPredictionIDs()
        XCTAssertNotNil(try store.lookupPrediction(model: "m", id: "open-0"), "indexed in a new generation")
    }

    func testLatestObservationWinsAcrossPendingAndIndexedIDs() throws {
        let store = try SQLiteStore.inMemory(withModels: ["m"])
        let first = try store.append("m", rows: 3, idPrefix: "same").batchID
        try store.indexPendingPredictionIDs()
        let second = try store.append("m", rows: 3, idPrefix: "same").batchID
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "same-1")), [second, 1], "pending batch is newer")
        try store.indexPendingPredictionIDs()
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "same-1")), [second, 1], "still the newer one once indexed")
        XCTAssertNotEqual(first, second)
        let third = try store.append("m", rows: 2, idPrefix: "same").batchID
        let fourth = try store.append("m", rows: 2, idPrefix: "same").batchID
        try store.indexPendingPredictionIDs()
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "same-1")), [fourth, 1], "the later of two pending batches wins")
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "same-2")), [second, 2])
        XCTAssertNotEqual(third, fourth)
    }
}
