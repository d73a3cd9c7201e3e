import DriftCore
import Foundation
import PostgresNIO

// The prediction-id index for the delayed-label join on PostgreSQL.
//
// - `batches.ids` holds each batch's (row, id) blob: the truth, deleted with the batch.
// - `unindexed_batches` queues the batches whose ids are not in the index yet; the background
//   indexer (one replica at a time, under an advisory lock) moves them into the index in bulk,
//   so ingest transactions never touch a B-tree keyed by random ids.
// - `prediction_keys` maps the 64-bit key of (model, id) (``PredictionKey``, shared with SQLite)
//   to (batch, row). It is partitioned by the batch's receive time, one partition per UTC day
//   (PostgreSQL's declarative range partitioning): the partition being filled stays small
//   enough to keep its index in memory however many ids the store holds, a lookup probes one
//   small index per retained day, and retention drops whole partitions instead of deleting
//   rows. This is the SQLite backend's generations idea, with the database doing the routing.
//
// A hash key can collide and an entry can outlive its batch (a model deleted): every hit is
// verified against the batch's own blob, so either reads as "not found", never as another
// prediction; the newest verified batch wins, as a later observation does on SQLite.
extension PostgresStore {
    /// `pg_advisory_xact_lock` key of the indexer and of partition maintenance ("drif" "tidx").
    static let indexerLock: Int64 = 0x6472_6966_7469_6478

    /// Seconds per index partition (one UTC day).
    static let keyPartitionSeconds = 86_400

    public func indexPredictionIDs(maxBatches: Int) async throws -> Int {
        try indexPendingPredictionIDs(maxBatches: maxBatches)
    }

    /// Moves the ids of up to `maxBatches` queued batches (oldest first) into the index, in one
    /// transaction; 0 when nothing is queued or another replica is indexing right now.
    @discardableResult
    public func indexPendingPredictionIDs(maxBatches: Int = 256) throws -> Int {
        guard maxBatches > 0 else { return 0 }
        return try write { s in
            guard try s.value("SELECT pg_try_advisory_xact_lock(\(Self.indexerLock))", as: Bool.self) == true else { return 0 }
            let queued = try s.rows("""
                SELECT u.batch_id, u.model, b.received_at, b.ids FROM unindexed_batches u JOIN batches b ON b.id = u.batch_id
                ORDER BY u.batch_id LIMIT \(maxBatches)
                """)
            guard !queued.isEmpty else { return 0 }
            var keys: [Int64] = [], batchIDs: [Int64] = [], rows: [Int32] = [], receivedAt: [Double] = []
            var days = Set<Int>()
            var done: [Int64] = []
            for r in queued {
                let (batchID, model, received, blob) = try r.decode((Int64, String, Double, Data?).self)
                done.append(batchID)
                guard let blob else { continue }
                days.insert(Self.partitionDay(received))
                let seed = PredictionKey.seed(model: model)
                BatchIDs.forEach(blob) { row, id in
                    keys.append(PredictionKey.key(modelHash: seed, id: id))
                    batchIDs.append(batchID)
                    rows.append(Int32(clamping: row))
                    receivedAt.append(received)
                }
            }
            for day in days.sorted() { try Self.ensureKeyPartition(day: day, s) }
            if !keys.isEmpty {
                try s.execute("""
                    INSERT INTO prediction_keys (key, batch_id, row, received_at)
                    SELECT * FROM unnest(\(keys)::int8[], \(batchIDs)::int8[], \(rows)::int4[], \(receivedAt)::float8[])
                    """)
            }
            try s.execute("DELETE FROM unindexed_batches WHERE batch_id = ANY(\(done)::int8[])")
            return keys.count
        }
    }

    public func pendingPredictionIDBatches() throws -> Int {
        try read { s in try s.value("SELECT COUNT(*)::bigint FROM unindexed_batches", as: Int.self) ?? 0 }
    }

    /// Where each id was last observed: the queued (newest) batches' blobs first, newest
    /// first, then one index probe for the rest, every hit verified. One snapshot, so a batch
    /// the indexer moves meanwhile is seen exactly once.
    public func lookupPredictions(model: String, ids: [String]) throws -> [String: PredictionLocation] {
        guard !ids.isEmpty else { return [:] }
        return try read { s in
            try s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? s.execute("COMMIT") }  // read-only: nothing to lose if the commit fails
            var found: [String: PredictionLocation] = [:]
            var wanted = Set(ids)
            let queued = try s.rows("""
                SELECT u.batch_id, b.ids FROM unindexed_batches u JOIN batches b ON b.id = u.batch_id
                WHERE u.model = \(model) ORDER BY u.batch_id DESC
                """)
            for r in queued where !wanted.isEmpty {
                let (batchID, blob) = try r.decode((Int64, Data?).self)
                guard let blob else { continue }
                BatchIDs.take(&wanted, from: blob, batchID: batchID, into: &found)
            }
            guard !wanted.isEmpty else { return found }
            let seed = PredictionKey.seed(model: model)
            var idsOfKey: [Int64: [String]] = [:]
            for id in wanted { idsOfKey[PredictionKey.key(modelHash: seed, id: id), default: []].append(id) }
            let keys = Array(idsOfKey.keys)
            let hits = try s.rows("""
                SELECT key, batch_id, row FROM prediction_keys WHERE key = ANY(\(keys)::int8[]) ORDER BY batch_id DESC, row DESC
                """).map { try $0.decode((Int64, Int64, Int).self) }
            guard !hits.isEmpty else { return found }
            let hitBatches = Array(Set(hits.map(\.1)))
            var idAt: [Int64: [Int: String]] = [:]
            for r in try s.rows("SELECT id, ids FROM batches WHERE id = ANY(\(hitBatches)::int8[]) AND model = \(model)") {
                let (batchID, blob) = try r.decode((Int64, Data?).self)
                var byRow: [Int: String] = [:]
                if let blob { BatchIDs.forEach(blob) { row, id in byRow[row] = id } }
                idAt[batchID] = byRow
            }
            for (key, batchID, row) in hits {
                guard let id = idAt[batchID]?[row], wanted.contains(id), idsOfKey[key]?.contains(id) == true else { continue }
                found[id] = PredictionLocation(batchID: batchID, row: row)
                wanted.remove(id)
            }
            return found
        }
    }

    // MARK: partitions

    /// The UTC day number (days since 1970) of a receive time.
    static func partitionDay(_ receivedAt: Double) -> Int {
        Int((receivedAt / Double(keyPartitionSeconds)).rounded(.down))
    }

    static func keyPartitionName(day: Int) -> String { "prediction_keys_d\(day)" }

    /// Creates the day's partition if it does not exist (callers hold the indexer lock).
    static func ensureKeyPartition(day: Int, _ s: PostgresSession) throws {
        let low = Double(day * keyPartitionSeconds), high = Double((day + 1) * keyPartitionSeconds)
        try s.execute("""
            CREATE TABLE IF NOT EXISTS \(unescaped: keyPartitionName(day: day)) PARTITION OF prediction_keys
            FOR VALUES FROM (\(unescaped: "\(low)")) TO (\(unescaped: "\(high)"))
            """)
    }

    /// Drops every index partition whose day holds no retained batch and no queued one.
    func dropEmptyKeyPartitions() throws {
        try write { s in
            try s.execute("SELECT pg_advisory_xact_lock(\(Self.indexerLock))")
            let names = try s.rows("""
                SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'prediction_keys'::regclass
                """).map { try $0.decode(String.self) }
            let prefix = keyPartitionName(day: 0).dropLast()
            for name in names {
                guard name.hasPrefix(prefix), let day = Int(name.dropFirst(prefix.count)) else { continue }
                let low = Double(day * Self.keyPartitionSeconds), high = Double((day + 1) * Self.keyPartitionSeconds)
                let alive = try s.value(
                    "SELECT EXISTS (SELECT 1 FROM batches WHERE received_at >= \(low) AND received_at < \(high))", as: Bool.self) ?? true
                if !alive { try s.execute("DROP TABLE IF EXISTS \(unescaped: name)") }
            }
        }
    }

    private func keyPartitionName(day: Int) -> String { Self.keyPartitionName(day: day) }
}
