import DriftCore
import Foundation
import GRDB

// Ingest batches: one row (one opaque blob) per batch, plus one blob of its prediction ids in
// `batch_ids` for the delayed-label join (indexed later, SQLiteStore+PredictionIndex.swift).
// This is the ingest hot path.
extension SQLiteStore {
    /// Stores one batch and its prediction ids, in one transaction. When this returns,
    /// the batch is committed (see the durability notes on ``SQLiteStore``), so the caller may
    /// acknowledge it.
    ///
    /// - `idempotencyKey`: unique per model; a retry with the same key returns `.duplicate`
    ///   with the original batch's id and rows and stores nothing (for as long as the original
    ///   batch is retained: pruning forgets its key).
    /// - `predictionIDs`: `row` is the 0-based row inside this batch. An id seen before for the
    ///   same model is re-pointed to this batch (the latest observation wins the label join).
    /// - Throws ``DriftStoreError/unknownModel(_:)`` if the model was never upserted.
    ///
    /// Cost (release build, 2 cores, 500-row batches, 40 KB payload): well under 1 ms; the
    /// ids are one more blob, appended in batch-id order. The background indexer
    /// (``indexPendingPredictionIDs(maxBatches:generationCapacity:)``) makes them findable
    /// by id; until then ``lookupPrediction(model:id:)`` scans the unindexed blobs.
    public func appendBatch(
        model: String, receivedAt: Date, rows: Int, firstEventTime: Double?,
        lastEventTime: Double?, idempotencyKey: String?, payload: Data,
        predictionIDs: [(id: String, row: Int)]
    ) throws -> AppendOutcome {
        // Validate before taking the write lock.
        guard rows >= 0 else { throw DriftStoreError.invalidArgument("batch rows \(rows) < 0") }
        if let key = idempotencyKey, key.isEmpty {
            throw DriftStoreError.invalidArgument("idempotency key is empty (pass nil for none)")
        }
        for entry in predictionIDs where entry.row < 0 || entry.row >= rows {
            throw DriftStoreError.invalidArgument(
                "prediction id '\(entry.id)' points at row \(entry.row) of a \(rows)-row batch")
        }
        return try requiringModel(model) {
            try write { db in
                if let key = idempotencyKey {
                    let find = try db.cachedStatement(
                        sql: "SELECT id, rows FROM batches WHERE model = ? AND idempotency_key = ?")
                    if let row = try Row.fetchOne(find, arguments: [model, key]) {
                        return .duplicate(
                            batchID: try row.decode(atIndex: 0), rows: try row.decode(atIndex: 1))
                    }
                }
                // Cached (prepared once per connection) statements; execute(arguments:) binds
                // strings and blobs without copying them.
                let insertBatch = try db.cachedStatement(
                    sql: """
                        INSERT INTO batches (model, received_at, rows, first_event_time,
                                             last_event_time, idempotency_key, payload)
                        VALUES (?, ?, ?, ?, ?, ?, COALESCE(?, x''))
                        """)
                // COALESCE: GRDB binds an empty Data as NULL (no base address).
                try insertBatch.execute(arguments: [
                    model, receivedAt.unixSeconds, rows, firstEventTime, lastEventTime,
                    idempotencyKey, payload,
                ])
                let batchID = db.lastInsertedRowID
                if !predictionIDs.isEmpty {
                    let ids = try db.cachedStatement(sql: "INSERT INTO batch_ids (batch_id, model, ids) VALUES (?, ?, ?)")
                    try ids.execute(arguments: [batchID, model, BatchIDs.encode(predictionIDs)])
                }
                return .stored(batchID: batchID)
            }
        }
    }

    /// The model's batches with id > `afterBatchID`, ascending, at most `limit`, with payloads.
    /// Rebuilding the open window after a restart: `afterBatchID = lastWindow.lastBatchID`.
    public func batches(model: String, afterBatchID: Int64, limit: Int) throws -> [BatchRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, model, received_at, rows, first_event_time, last_event_time, payload
                    FROM batches WHERE model = ? AND id > ? ORDER BY id LIMIT ?
                    """,
                arguments: [model, afterBatchID, limit]
            ).map(BatchRecord.init(row:))
        }
    }

    /// One batch with its payload (nil when pruned or never stored).
    public func batch(id: Int64) throws -> BatchRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, model, received_at, rows, first_event_time, last_event_time, payload FROM batches WHERE id = ?",
                arguments: [id]
            ).map(BatchRecord.init(row:))
        }
    }

    /// When the model's newest retained batch was received (nil: none).
    public func lastBatchReceivedAt(model: String) throws -> Date? {
        try read { db in
            try Double.fetchOne(
                db, sql: "SELECT MAX(received_at) FROM batches WHERE model = ?", arguments: [model]
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Observations (rows) in the model's retained batches.
    public func observationCount(model: String) throws -> Int {
        try read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(rows), 0) FROM batches WHERE model = ?",
                arguments: [model]) ?? 0
        }
    }

    /// Deletes the model's batches received before `receivedBefore`, with their prediction ids,
    /// but never a batch after the last closed window's `lastBatchID` (those rebuild the open
    /// window after a restart); with no closed window nothing is deleted. Runs in chunks of
    /// ``pruneChunk`` batches, one transaction each, so ingest is not blocked for long.
    /// Returns the number of batches deleted.
    @discardableResult
    public func pruneBatches(model: String, receivedBefore: Date) throws -> Int {
        var total = 0
        while true {
            let deleted = try write { db -> Int in
                guard
                    let lastBatchID = try Int64.fetchOne(
                        db,
                        sql: "SELECT last_batch_id FROM windows WHERE model = ? ORDER BY seq DESC LIMIT 1",
                        arguments: [model])
                else { return 0 }
                // By received time: the scan covers only batches older than the cutoff
                // (the (model, id) index would walk every batch up to lastBatchID).
                let ids = try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT id FROM batches INDEXED BY batches_by_received
                        WHERE model = ? AND received_at < ? AND id <= ? LIMIT ?
                        """,
                    arguments: [model, receivedBefore.unixSeconds, lastBatchID, Self.pruneChunk])
                guard !ids.isEmpty else { return 0 }
                let deleteIDs = try db.cachedStatement(sql: "DELETE FROM batch_ids WHERE batch_id = ?")
                let deleteBatch = try db.cachedStatement(sql: "DELETE FROM batches WHERE id = ?")
                for id in ids {
                    try deleteIDs.execute(arguments: [id])
                    try deleteBatch.execute(arguments: [id])
                }
                // Index entries of deleted batches stay in their generation (a lookup verifies
                // against the batch's blob) until the whole generation is dropped here.
                try Self.dropEmptyIDGenerations(db)
                return ids.count
            }
            total += deleted
            if deleted < Self.pruneChunk { return total }
        }
    }

    /// Batches deleted per pruning transaction: one transaction holds the writer (and delays
    /// ingest) only briefly.
    static let pruneChunk = 64
}

extension BatchRecord {
    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            model: try row.decode(forColumn: "model"),
            receivedAt: try row.date("received_at"),
            rows: try row.decode(forColumn: "rows"),
            firstEventTime: try row.decode(forColumn: "first_event_time"),
            lastEventTime: try row.decode(forColumn: "last_event_time"),
            payload: try row.decode(forColumn: "payload"))
    }
}
