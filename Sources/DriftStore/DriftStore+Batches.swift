import Foundation
import GRDB

// Ingest batches: one row (one opaque blob) per batch, plus one row per prediction id in
// `prediction_ids` for the delayed-label join. This is the ingest hot path.
extension DriftStore {
    public enum AppendOutcome: Sendable, Equatable {
        /// Newly stored (and committed) under this id.
        case stored(batchID: Int64)
        /// A batch with the same idempotency key was already stored for this model: nothing was
        /// written; these are the original batch's id and row count.
        case duplicate(batchID: Int64, rows: Int)

        public var batchID: Int64 {
            switch self {
            case .stored(let id), .duplicate(let id, _): id
            }
        }
    }

    /// Stores one batch and indexes its prediction ids, in one transaction. When this returns,
    /// the batch is committed (see the durability notes on ``DriftStore``), so the caller may
    /// acknowledge it.
    ///
    /// - `idempotencyKey`: unique per model; a retry with the same key returns `.duplicate`
    ///   with the original batch's id and rows and stores nothing (for as long as the original
    ///   batch is retained: pruning forgets its key).
    /// - `predictionIDs`: `row` is the 0-based row inside this batch. An id seen before for the
    ///   same model is re-pointed to this batch (the latest observation wins the label join).
    /// - Throws ``DriftStoreError/unknownModel(_:)`` if the model was never upserted.
    ///
    /// Cost (release build, 2 cores, 500-row batches, 40 KB payload): the blob alone is well
    /// under 1 ms. The id index dominates: each id is a B-tree insert keyed by
    /// (model, prediction id), so random ids (UUIDv4) dirty about one 4 KB page per id per
    /// commit (~2 MB of WAL per batch plus checkpoint copies), while time-ordered ids
    /// (counters, UUIDv7, ULID) append to the right edge and cost little I/O. Pass no ids for
    /// models that never join delayed labels.
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
            try writer.write { db in
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
                    let pending = try db.cachedStatement(sql: "INSERT INTO pending_ids (batch_id, model, ids) VALUES (?, ?, ?)")
                    try pending.execute(arguments: [batchID, model, PendingIDs.encode(predictionIDs)])
                }
                return .stored(batchID: batchID)
            }
        }
    }

    /// Rows per multi-row INSERT of the id index: one statement execution per chunk instead
    /// of per id cuts the per-statement overhead (step, reset, GRDB hooks).
    static let idChunk = 32

    /// The model's batches with id > `afterBatchID`, ascending, at most `limit`, with payloads.
    /// Rebuilding the open window after a restart: `afterBatchID = lastWindow.lastBatchID`.
    public func batches(model: String, afterBatchID: Int64, limit: Int) throws -> [BatchRecord] {
        guard limit > 0 else { return [] }
        return try writer.read { db in
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

    /// Observations (rows) in the model's retained batches.
    public func observationCount(model: String) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(rows), 0) FROM batches WHERE model = ?",
                arguments: [model]) ?? 0
        }
    }

    /// Moves the prediction ids of up to `maxBatches` batches (oldest first) from their
    /// pending blobs into the `prediction_ids` index, sorted, in one transaction. Returns how
    /// many ids were indexed (0 = nothing pending). The service calls it in the background.
    @discardableResult
    public func indexPendingPredictionIDs(maxBatches: Int = 256) throws -> Int {
        try writer.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT batch_id, model, ids FROM pending_ids ORDER BY batch_id LIMIT ?",
                arguments: [maxBatches])
            guard !rows.isEmpty else { return 0 }
            var entries: [(model: String, id: String, batchID: Int64, row: Int)] = []
            let clear = try db.cachedStatement(sql: "DELETE FROM pending_ids WHERE batch_id = ?")
            for r in rows {
                let batchID: Int64 = try r.decode(atIndex: 0)
                let model: String = try r.decode(atIndex: 1)
                let blob: Data = try r.decode(atIndex: 2)
                for (id, row) in PendingIDs.decode(blob) { entries.append((model, id, batchID, row)) }
                try clear.execute(arguments: [batchID])
            }
            // Key order makes the B-tree inserts sequential; for a repeated id the later batch
            // is inserted last and wins, as before.
            entries.sort { ($0.model, $0.id, $0.batchID) < ($1.model, $1.id, $1.batchID) }
            var start = 0
            while start < entries.count {
                let model = entries[start].model
                var end = start
                while end < entries.count && entries[end].model == model { end += 1 }
                try Self.insertSortedIDs(entries[start..<end], model: model, db: db)
                start = end
            }
            return entries.count
        }
    }

    private static func insertSortedIDs(
        _ entries: ArraySlice<(model: String, id: String, batchID: Int64, row: Int)>, model: String, db: Database
    ) throws {
        let head = "INSERT OR REPLACE INTO prediction_ids (model, prediction_id, batch_id, row) VALUES "
        let chunked = try db.cachedStatement(
            sql: head + Array(repeating: "(?, ?, ?, ?)", count: idChunk).joined(separator: ", "))
        let single = try db.cachedStatement(sql: head + "(?, ?, ?, ?)")
        var values: [(any DatabaseValueConvertible)?] = []
        values.reserveCapacity(idChunk * 4)
        var i = entries.startIndex
        while entries.endIndex - i >= idChunk {
            values.removeAll(keepingCapacity: true)
            for e in entries[i..<(i + idChunk)] {
                values.append(model)
                values.append(e.id)
                values.append(e.batchID)
                values.append(e.row)
            }
            try chunked.execute(arguments: StatementArguments(values))
            i += idChunk
        }
        for e in entries[i...] {
            try single.execute(arguments: [model, e.id, e.batchID, e.row])
        }
    }

    /// Where a prediction id was observed: batch id and row inside that batch. Batches whose
    /// ids are not indexed yet are newer than every indexed one, so they are searched first.
    public func lookupPrediction(model: String, id: String) throws -> (batchID: Int64, row: Int)? {
        try writer.read { db in
            let pending = try Row.fetchCursor(
                db, sql: "SELECT batch_id, ids FROM pending_ids WHERE model = ? ORDER BY batch_id DESC",
                arguments: [model])
            while let r = try pending.next() {
                let blob: Data = try r.decode(atIndex: 1)
                if let row = PendingIDs.decode(blob).last(where: { $0.id == id })?.row {
                    return (batchID: try r.decode(atIndex: 0), row: row)
                }
            }
            let statement = try db.cachedStatement(
                sql: "SELECT batch_id, row FROM prediction_ids WHERE model = ? AND prediction_id = ?")
            guard let row = try Row.fetchOne(statement, arguments: [model, id]) else { return nil }
            return (batchID: try row.decode(atIndex: 0), row: try row.decode(atIndex: 1))
        }
    }

    /// Deletes the model's batches received before `receivedBefore`, with their id-index rows,
    /// but never a batch after the last closed window's `lastBatchID` (those rebuild the open
    /// window after a restart); with no closed window nothing is deleted. Runs in chunks of
    /// ``pruneChunk`` batches, one transaction each, so ingest is not blocked for long.
    /// Returns the number of batches deleted.
    @discardableResult
    public func pruneBatches(model: String, receivedBefore: Date) throws -> Int {
        var total = 0
        while true {
            let deleted = try writer.write { db -> Int in
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
                let deleteIDs = try db.cachedStatement(
                    sql: "DELETE FROM prediction_ids WHERE batch_id = ?")
                let deletePending = try db.cachedStatement(sql: "DELETE FROM pending_ids WHERE batch_id = ?")
                let deleteBatch = try db.cachedStatement(sql: "DELETE FROM batches WHERE id = ?")
                for id in ids {
                    try deleteIDs.execute(arguments: [id])
                    try deletePending.execute(arguments: [id])
                    try deleteBatch.execute(arguments: [id])
                }
                return ids.count
            }
            total += deleted
            if deleted < Self.pruneChunk { return total }
        }
    }

    /// Batches deleted per pruning transaction: measured 0.5–1k batches/s of 500 ids, so a
    /// chunk holds the writer (and delays ingest) for roughly 60–130 ms.
    static let pruneChunk = 64
}

/// The prediction ids of one batch as a blob: u32 count, then per id u32 row, u32 byte
/// length, UTF-8 bytes (little-endian).
enum PendingIDs {
    static func encode(_ ids: [(id: String, row: Int)]) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(4 + ids.count * 16)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
        u32(ids.count)
        for (id, row) in ids {
            let bytes = Array(id.utf8)
            u32(row)
            u32(bytes.count)
            out.append(contentsOf: bytes)
        }
        return Data(out)
    }

    static func decode(_ data: Data) -> [(id: String, row: Int)] {
        let bytes = [UInt8](data)
        var offset = 0
        func u32() -> Int? {
            guard offset + 4 <= bytes.count else { return nil }
            defer { offset += 4 }
            return Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
        }
        guard let count = u32() else { return [] }
        var out: [(id: String, row: Int)] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard let row = u32(), let length = u32(), offset + length <= bytes.count else { break }
            out.append((String(decoding: bytes[offset..<(offset + length)], as: UTF8.self), row))
            offset += length
        }
        return out
    }
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
