import DriftCore
import Foundation
import PostgresNIO

// Ingest batches: one row per batch (the opaque payload and the blob of its prediction ids),
// committed before the caller acknowledges. The ingest hot path.
extension PostgresStore {
    /// Stores one batch in one transaction (see ``Store/appendBatch(model:receivedAt:rows:firstEventTime:lastEventTime:idempotencyKey:payload:predictionIDs:)``).
    ///
    /// Commit order: the transaction takes the model's advisory lock before its batch id is
    /// drawn, so two replicas appending to one model commit in id order. A window owner that
    /// has read batch n therefore never later finds a batch < n it missed (identity values are
    /// drawn at insert time, and without the lock a transaction holding id 10 could commit after
    /// one holding id 11). The lock is per model and held only for the insert and commit.
    public func appendBatch(
        model: String, receivedAt: Date, rows: Int, firstEventTime: Double?, lastEventTime: Double?,
        idempotencyKey: String?, payload: Data, predictionIDs: [(id: String, row: Int)]
    ) throws -> AppendOutcome {
        guard rows >= 0, rows <= Int(Int32.max) else { throw DriftStoreError.invalidArgument("batch rows \(rows) is not in 0…\(Int32.max)") }
        if let key = idempotencyKey, key.isEmpty {
            throw DriftStoreError.invalidArgument("idempotency key is empty (pass nil for none)")
        }
        for entry in predictionIDs where entry.row < 0 || entry.row >= rows {
            throw DriftStoreError.invalidArgument("prediction id '\(entry.id)' points at row \(entry.row) of a \(rows)-row batch")
        }
        let ids: Data? = predictionIDs.isEmpty ? nil : BatchIDs.encode(predictionIDs)
        let lock = Self.modelLock(model)
        let t = receivedAt.timeIntervalSince1970
        return try requiringModel(model) {
            try write { s in
                try s.execute("SELECT pg_advisory_xact_lock(\(lock))")
                if let key = idempotencyKey,
                    let row = try s.rows("SELECT id, rows FROM batches WHERE model = \(model) AND idempotency_key = \(key)").first
                {
                    let (id, rows) = try row.decode((Int64, Int).self)
                    return .duplicate(batchID: id, rows: rows)
                }
                guard let id = try s.value("""
                    INSERT INTO batches (model, received_at, rows, first_event_time, last_event_time, idempotency_key, payload, ids)
                    VALUES (\(model), \(t), \(rows), \(firstEventTime), \(lastEventTime), \(idempotencyKey), \(payload), \(ids))
                    RETURNING id
                    """, as: Int64.self)
                else { throw DriftStoreError.notFound("batch id after insert") }
                if ids != nil {
                    try s.execute("INSERT INTO unindexed_batches (batch_id, model) VALUES (\(id), \(model))")
                }
                return .stored(batchID: id)
            }
        }
    }

    public func batches(model: String, afterBatchID: Int64, limit: Int) throws -> [BatchRecord] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("""
                SELECT id, model, received_at, rows, first_event_time, last_event_time, payload FROM batches
                WHERE model = \(model) AND id > \(afterBatchID) ORDER BY id LIMIT \(limit)
                """).map(BatchRecord.init(postgres:))
        }
    }

    public func batch(id: Int64) throws -> BatchRecord? {
        try read { s in
            try s.rows("""
                SELECT id, model, received_at, rows, first_event_time, last_event_time, payload FROM batches WHERE id = \(id)
                """).first.map(BatchRecord.init(postgres:))
        }
    }

    public func lastBatchReceivedAt(model: String) throws -> Date? {
        try read { s in
            try s.value("SELECT MAX(received_at) FROM batches WHERE model = \(model)", as: Double?.self)?.map(Date.init(timeIntervalSince1970:))
        }
    }

    public func observationCount(model: String) throws -> Int {
        try read { s in try s.value("SELECT COALESCE(SUM(rows), 0)::bigint FROM batches WHERE model = \(model)", as: Int.self) ?? 0 }
    }

    /// Deletes the model's batches received before the cut-off, never one after the last
    /// closed window (those rebuild the open window); in chunks, one transaction each. Then
    /// drops the id-index partitions no retained batch falls in.
    @discardableResult
    public func pruneBatches(model: String, receivedBefore: Date) throws -> Int {
        let cut = receivedBefore.timeIntervalSince1970
        var total = 0
        while true {
            let deleted = try write { s -> Int in
                guard let last = try s.value(
                    "SELECT last_batch_id FROM windows WHERE model = \(model) ORDER BY seq DESC LIMIT 1", as: Int64.self)
                else { return 0 }
                return try s.execute("""
                    DELETE FROM batches WHERE id IN (
                        SELECT id FROM batches WHERE model = \(model) AND received_at < \(cut) AND id <= \(last)
                        ORDER BY id LIMIT \(Self.pruneChunk))
                    """)
            }
            total += deleted
            if deleted < Self.pruneChunk { break }
        }
        if total > 0 { try dropEmptyKeyPartitions() }
        return total
    }

    /// Batches deleted per pruning transaction.
    static let pruneChunk = 256

    /// The advisory-lock key of a model's appends: the stable 64-bit hash the id index uses.
    static func modelLock(_ model: String) -> Int64 {
        Int64(bitPattern: PredictionKey.seed(model: model))
    }
}

extension BatchRecord {
    init(postgres row: PostgresRow) throws {
        let (id, model, received, rows, first, last, payload) = try row.decode((Int64, String, Double, Int, Double?, Double?, Data).self)
        self.init(id: id, model: model, receivedAt: Date(timeIntervalSince1970: received), rows: rows,
                  firstEventTime: first, lastEventTime: last, payload: payload)
    }
}
