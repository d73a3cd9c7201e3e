import DriftCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Stores labels by prediction id (a changed label replaces the old one and is joined
    /// again). Returns each input's outcome, in order.
    public func storeLabels(model: String, _ labels: [LabelInput], receivedAt: Date) throws -> [LabelOutcome] {
        try requiringModel(model) {
            try write { db in
                let find = try db.cachedStatement(sql: "SELECT label FROM labels WHERE model = ? AND prediction_id = ?")
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO labels (model, prediction_id, label, label_ts, received_at, state)
                    VALUES (?, ?, ?, ?, ?, 'pending')
                    ON CONFLICT (model, prediction_id) DO UPDATE SET
                        label = excluded.label, label_ts = excluded.label_ts, received_at = excluded.received_at,
                        state = 'pending', batch_id = NULL, row = NULL, endpoint = NULL, score = NULL, segment = NULL
                    """)
                return try labels.map { l in
                    if let existing = try Double.fetchOne(find, arguments: [model, l.predictionID]), existing == l.label {
                        return .duplicate
                    }
                    try upsert.execute(arguments: [model, l.predictionID, l.label, l.labelTime, receivedAt.unixSeconds])
                    return .stored
                }
            }
        }
    }

    /// Pending labels of the model (oldest first).
    public func pendingLabels(model: String, limit: Int) throws -> [PendingLabel] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT prediction_id, received_at FROM labels WHERE model = ? AND state = 'pending' ORDER BY received_at LIMIT ?",
                arguments: [model, limit]
            ).map { PendingLabel(predictionID: try $0.decode(atIndex: 0), receivedAt: Date(timeIntervalSince1970: try $0.decode(atIndex: 1))) }
        }
    }

    public func markLabelsJoined(model: String, _ joins: [LabelJoin]) throws {
        try write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE labels SET state = 'joined', batch_id = ?, row = ?, endpoint = ?, score = ?, segment = ?
                WHERE model = ? AND prediction_id = ?
                """)
            for j in joins {
                try update.execute(arguments: [j.batchID, j.row, j.endpoint.rawValue, j.score, j.segment, model, j.predictionID])
            }
        }
    }

    /// Gives up on pending labels received before `before`; returns how many.
    public func markLabelsUnmatched(model: String, receivedBefore before: Date) throws -> Int {
        try write { db in
            try db.execute(
                sql: "UPDATE labels SET state = 'unmatched' WHERE model = ? AND state = 'pending' AND received_at < ?",
                arguments: [model, before.unixSeconds])
            return db.changesCount
        }
    }

    /// Joined production labels whose prediction is in batches `first...last`.
    public func labelledPredictions(model: String, batches: ClosedRange<Int64>) throws -> [LabelledPrediction] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT prediction_id, batch_id, score, label, segment FROM labels INDEXED BY labels_by_batch
                    WHERE model = ? AND state = 'joined' AND batch_id BETWEEN ? AND ? AND endpoint = 'production' AND score IS NOT NULL
                    """,
                arguments: [model, batches.lowerBound, batches.upperBound]
            ).map {
                LabelledPrediction(predictionID: try $0.decode(atIndex: 0), batchID: try $0.decode(atIndex: 1),
                                   score: try $0.decode(atIndex: 2), label: try $0.decode(atIndex: 3), segment: try $0.decode(atIndex: 4))
            }
        }
    }

    /// The labels known for these prediction ids (any state), by id.
    public func labelValues(model: String, ids: [String]) throws -> [String: Double] {
        try read { db in
            var out: [String: Double] = [:]
            let find = try db.cachedStatement(sql: "SELECT label FROM labels WHERE model = ? AND prediction_id = ?")
            for id in ids {
                if let v = try Double.fetchOne(find, arguments: [model, id]) { out[id] = v }
            }
            return out
        }
    }

    /// Label counts by state.
    public func labelCounts(model: String) throws -> [LabelState: Int] {
        try read { db in
            var out: [LabelState: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM labels WHERE model = ? GROUP BY state", arguments: [model]) {
                out[try storedEnum(LabelState.self, r, "state", table: "labels", key: model)] = try r.decode(forColumn: "n")
            }
            return out
        }
    }

    // MARK: quality reports

    /// The labelled baseline's quality (kept per baseline version).
    public func saveQualityBaseline(model: String, _ baseline: QualityBaseline) throws {
        try saveReference(baseline, version: baseline.baselineVersion, model: model, table: "quality_baselines", column: "report_json")
    }

    /// The quality of the model's newest baseline that has one.
    public func qualityBaseline(model: String) throws -> QualityBaseline? {
        try newestReference(QualityBaseline.self, model: model, table: "quality_baselines", column: "report_json")
    }

    /// The PCA reference of multivariate drift (kept per baseline version).
    public func saveMultivariateBaseline(model: String, _ baseline: MultivariateBaseline) throws {
        try saveReference(baseline, version: baseline.baselineVersion, model: model, table: "multivariate_baselines", column: "model_json")
    }

    /// The multivariate reference of the model's newest baseline that has one.
    public func multivariateBaseline(model: String) throws -> MultivariateBaseline? {
        try newestReference(MultivariateBaseline.self, model: model, table: "multivariate_baselines", column: "model_json")
    }

    /// A per-baseline-version reference (quality, PCA) as JSON in `table.column`.
    private func saveReference<T: Encodable>(_ value: T, version: Int, model: String, table: String, column: String) throws {
        let json = try StoredJSON.encode(value)
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO \(table) (model, baseline_version, \(column)) VALUES (?, ?, ?)",
                arguments: [model, version, json])
        }
    }

    /// The reference of the model's newest baseline version that has one.
    private func newestReference<T: Decodable>(_ type: T.Type, model: String, table: String, column: String) throws -> T? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT baseline_version, \(column) FROM \(table) WHERE model = ? ORDER BY baseline_version DESC LIMIT 1",
                arguments: [model]
            ).map { row in
                let version: Int = try row.decode(forColumn: "baseline_version")
                return try StoredJSON.decode(T.self, try row.decode(forColumn: column), table: table, key: "\(model) v\(version)")
            }
        }
    }

    /// Stores (or replaces) a window's quality.
    public func saveWindowQuality(model: String, _ quality: WindowQuality, now: Date) throws {
        let json = try StoredJSON.encode(quality)
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO window_quality (model, seq, report_json, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [model, quality.seq, json, now.unixSeconds])
        }
    }

    /// The model's newest `limit` window-quality reports, newest first.
    public func windowQualities(model: String, limit: Int) throws -> [WindowQuality] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, report_json FROM window_quality WHERE model = ? ORDER BY seq DESC LIMIT ?",
                arguments: [model, limit]
            ).map { row in
                let seq: Int = try row.decode(forColumn: "seq")
                return try StoredJSON.decode(WindowQuality.self, try row.decode(forColumn: "report_json"), table: "window_quality",
                                             key: "\(model) window \(seq)")
            }
        }
    }

    /// One window's quality.
    public func windowQuality(model: String, seq: Int) throws -> WindowQuality? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT report_json FROM window_quality WHERE model = ? AND seq = ?", arguments: [model, seq])
                .map { try StoredJSON.decode(WindowQuality.self, $0, table: "window_quality", key: "\(model) window \(seq)") }
        }
    }
}
