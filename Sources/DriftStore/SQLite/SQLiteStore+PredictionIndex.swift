import DriftCore
import Foundation
import GRDB

// The prediction-id index for the delayed-label join: where (batch, row) a model's prediction
// id was observed.
//
// Layout (migration v3-id-generations):
// - `batch_ids`: one blob of (row, id) per batch, written with the batch and deleted with it.
//   It is the truth; everything below is an index over it.
// - `id_index_state.indexed_through`: batches with a larger id are not indexed yet ("pending").
//   Batch ids only grow (AUTOINCREMENT), so one watermark suffices.
// - `id_generations` + `prediction_keys_<gen>`: integer-keyed tables (key = 64-bit hash of
//   model and id → batch, row), one per run of consecutive batches, each filled up to
//   ``SQLiteStore/idGenerationCapacity`` ids and then left alone.
//
// Why generations instead of one table keyed by (model, id): random keys make every insert
// into a large B-tree touch a random page, so the one-table index slowed down as it outgrew
// the page cache (290k → 170k ids/s over its first 3M ids) and, at 140k observations/s, held
// the single writer half the time. A generation of at most 1M integer keys stays in the
// writer's 64 MiB page cache while it fills, so its cost per id stays flat however long the
// service runs, and retention drops whole tables instead of deleting rows one by one. This is
// the log-structured idea (O'Neil et al., "The Log-Structured Merge-Tree", 1996) without
// merging: a lookup probes each generation, newest first (one B-tree probe each).
//
// A hash key can collide: within a generation the later id replaces the earlier one; every
// hit is verified against the batch's blob, so a collision or an entry whose batch was pruned
// reads as "not found", never as another prediction. With N ids in one generation the
// chance of any collision is about N²/2⁶⁵ (3·10⁻⁸ for 1M).
extension SQLiteStore {
    /// Ids per index generation: ~1M integer rows (~30 MiB of pages) fit the writer's cache.
    public static let idGenerationCapacity = 1 << 20

    /// Moves the prediction ids of up to `maxBatches` unindexed batches (oldest first) into
    /// the current index generation, sorted by key, in one transaction. Starts a new
    /// generation when the current one holds `generationCapacity` ids or more. Returns how
    /// many ids were indexed (0 = nothing pending). The service calls it in the background.
    @discardableResult
    public func indexPendingPredictionIDs(
        maxBatches: Int = 256, generationCapacity: Int = SQLiteStore.idGenerationCapacity
    ) throws -> Int {
        try write { db in try Self.indexPending(db, maxBatches: maxBatches, capacity: generationCapacity) }
    }

    /// The same, suspending (not blocking a thread) while another transaction holds the
    /// writer: the service's background indexer runs on the cooperative pool, which has one
    /// thread per core.
    @discardableResult
    public func indexPendingPredictionIDs(
        maxBatches: Int = 256, generationCapacity: Int = SQLiteStore.idGenerationCapacity
    ) async throws -> Int {
        try await write { db in try Self.indexPending(db, maxBatches: maxBatches, capacity: generationCapacity) }
    }

    /// ``Store`` conformance: the suspending indexer with the default generation size.
    public func indexPredictionIDs(maxBatches: Int) async throws -> Int {
        try await indexPendingPredictionIDs(maxBatches: maxBatches, generationCapacity: Self.idGenerationCapacity)
    }

    private static func indexPending(_ db: Database, maxBatches: Int, capacity generationCapacity: Int) throws -> Int {
        do {
            let through = try Self.indexedThrough(db)
            let rows = try Row.fetchAll(
                db, sql: "SELECT batch_id, model, ids FROM batch_ids WHERE batch_id > ? ORDER BY batch_id LIMIT ?",
                arguments: [through, maxBatches])
            guard let lastBatchID: Int64 = try rows.last?.decode(atIndex: 0) else { return 0 }
            var entries: [(key: Int64, batchID: Int64, row: Int64)] = []
            for r in rows {
                let batchID: Int64 = try r.decode(atIndex: 0)
                let model: String = try r.decode(atIndex: 1)
                let blob: Data = try r.decode(atIndex: 2)
                let modelHash = PredictionKey.seed(model: model)
                BatchIDs.forEach(blob) { row, id in
                    entries.append((PredictionKey.key(modelHash: modelHash, id: id), batchID, Int64(row)))
                }
            }
            // Key order makes the inserts sequential inside the generation's B-tree; for a
            // repeated key the later batch is inserted last and wins.
            entries.sort { ($0.key, $0.batchID, $0.row) < ($1.key, $1.batchID, $1.row) }
            let firstBatchID: Int64 = try rows[0].decode(atIndex: 0)
            let gen = try Self.generationForAppend(
                db, firstBatchID: firstBatchID, capacity: generationCapacity)
            try Self.insertKeys(entries, generation: gen, db: db)
            try db.execute(
                sql: "UPDATE id_generations SET last_batch_id = ?, ids = ids + ? WHERE gen = ?",
                arguments: [lastBatchID, entries.count, gen])
            try db.execute(
                sql: "UPDATE id_index_state SET indexed_through = ? WHERE id = 1", arguments: [lastBatchID])
            return entries.count
        }
    }

    /// Batches whose prediction ids are not indexed yet.
    public func pendingPredictionIDBatches() throws -> Int {
        try read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM batch_ids WHERE batch_id > ?",
                arguments: [try Self.indexedThrough(db)]) ?? 0
        }
    }

    /// Where a prediction id was last observed: batch id and row inside that batch. Unindexed
    /// batches are newer than every indexed one, so they are searched first (newest first),
    /// then the generations, newest first.
    public func lookupPrediction(model: String, id: String) throws -> PredictionLocation? {
        try lookupPredictions(model: model, ids: [id])[id]
    }

    /// `lookupPrediction` for many ids in one read: each unindexed blob is scanned once for
    /// all of them (not once per id), and the generations are probed only for the ids the blobs
    /// did not hold. A labels request of n ids over p pending batches costs O(p·rows + n·gens)
    /// instead of O(n·p·rows).
    public func lookupPredictions(model: String, ids: [String]) throws -> [String: PredictionLocation] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var found: [String: PredictionLocation] = [:]
            var wanted = Set(ids)
            let through = try Self.indexedThrough(db)
            let pending = try Row.fetchCursor(
                db,
                sql: "SELECT batch_id, ids FROM batch_ids WHERE model = ? AND batch_id > ? ORDER BY batch_id DESC",
                arguments: [model, through])
            while !wanted.isEmpty, let r = try pending.next() {
                let blob: Data = try r.decode(atIndex: 1)
                let batchID: Int64 = try r.decode(atIndex: 0)
                BatchIDs.take(&wanted, from: blob, batchID: batchID, into: &found)
            }
            guard !wanted.isEmpty else { return found }
            let seed = PredictionKey.seed(model: model)
            let generations = try Int64.fetchAll(db, sql: "SELECT gen FROM id_generations ORDER BY gen DESC")
            // Every hit is checked against its batch's own ids (a hash collision reads as not
            // found); a batch's ids are decoded once per call, not once per label.
            var batchIDs: [Int64: [Int: String]] = [:]
            let idsOfBatch = try db.cachedStatement(sql: "SELECT model, ids FROM batch_ids WHERE batch_id = ?")
            func idAt(_ batchID: Int64, _ row: Int) throws -> String? {
                if let known = batchIDs[batchID] { return known[row] }
                var byRow: [Int: String] = [:]
                if let r = try Row.fetchOne(idsOfBatch, arguments: [batchID]), try r.decode(atIndex: 0) as String == model {
                    let blob: Data = try r.decode(atIndex: 1)
                    BatchIDs.forEach(blob) { candidateRow, candidate in byRow[candidateRow] = candidate }
                }
                batchIDs[batchID] = byRow
                return byRow[row]
            }
            for id in ids where wanted.contains(id) {
                wanted.remove(id)
                let key = PredictionKey.key(modelHash: seed, id: id)
                for gen in generations {
                    let probe = try db.cachedStatement(sql: "SELECT batch_id, row FROM \(Self.keyTable(gen)) WHERE key = ?")
                    guard let hit = try Row.fetchOne(probe, arguments: [key]) else { continue }
                    let batchID: Int64 = try hit.decode(atIndex: 0)
                    let row: Int = try hit.decode(atIndex: 1)
                    if try idAt(batchID, row) == id {
                        found[id] = PredictionLocation(batchID: batchID, row: row)
                        break
                    }
                }
            }
            return found
        }
    }

    // MARK: Internals

    static func keyTable(_ gen: Int64) -> String { "prediction_keys_\(gen)" }

    static func indexedThrough(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT indexed_through FROM id_index_state WHERE id = 1") ?? 0
    }

    /// The newest generation if it has room, else a new one (its table created).
    private static func generationForAppend(_ db: Database, firstBatchID: Int64, capacity: Int) throws -> Int64 {
        if let newest = try Row.fetchOne(db, sql: "SELECT gen, ids FROM id_generations ORDER BY gen DESC LIMIT 1") {
            let ids: Int = try newest.decode(atIndex: 1)
            if ids < capacity { return try newest.decode(atIndex: 0) }
        }
        try db.execute(
            sql: "INSERT INTO id_generations (first_batch_id, last_batch_id, ids) VALUES (?, ?, 0)",
            arguments: [firstBatchID, firstBatchID])
        let gen = db.lastInsertedRowID
        // INTEGER PRIMARY KEY: the key is the rowid itself, the smallest and fastest table form.
        try db.execute(sql: """
            CREATE TABLE \(keyTable(gen)) (
                key      INTEGER PRIMARY KEY,
                batch_id INTEGER NOT NULL,
                row      INTEGER NOT NULL
            )
            """)
        return gen
    }

    /// Rows per multi-row INSERT: one statement execution per chunk instead of per id cuts
    /// the per-statement overhead (step, reset, GRDB hooks).
    static let idChunk = 64

    private static func insertKeys(
        _ entries: [(key: Int64, batchID: Int64, row: Int64)], generation gen: Int64, db: Database
    ) throws {
        let head = "INSERT OR REPLACE INTO \(keyTable(gen)) (key, batch_id, row) VALUES "
        let chunked = try db.cachedStatement(
            sql: head + Array(repeating: "(?, ?, ?)", count: idChunk).joined(separator: ", "))
        let single = try db.cachedStatement(sql: head + "(?, ?, ?)")
        var values: [Int64] = []
        values.reserveCapacity(idChunk * 3)
        var i = 0
        while entries.count - i >= idChunk {
            values.removeAll(keepingCapacity: true)
            for e in entries[i..<(i + idChunk)] {
                values.append(e.key)
                values.append(e.batchID)
                values.append(e.row)
            }
            try chunked.execute(arguments: StatementArguments(values))
            i += idChunk
        }
        for e in entries[i...] {
            try single.execute(arguments: [e.key, e.batchID, e.row])
        }
    }

    /// Drops every generation none of whose batches is left (after pruning or a model
    /// delete). A handful of generations, each checked with one index probe of `batches`.
    static func dropEmptyIDGenerations(_ db: Database) throws {
        let generations = try Row.fetchAll(db, sql: "SELECT gen, first_batch_id, last_batch_id FROM id_generations")
        for g in generations {
            let gen: Int64 = try g.decode(atIndex: 0)
            let alive = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM batch_ids WHERE batch_id BETWEEN ? AND ?)",
                arguments: [g[1] as Int64, g[2] as Int64]) ?? true
            if !alive {
                try db.execute(sql: "DROP TABLE IF EXISTS \(keyTable(gen))")
                try db.execute(sql: "DELETE FROM id_generations WHERE gen = ?", arguments: [gen])
            }
        }
    }
}
