import DriftCore
import Foundation
import PostgresNIO

// Delayed labels (keyed by prediction id, joined to their prediction) and window quality.
extension PostgresStore {
    public func storeLabels(model: String, _ labels: [LabelInput], receivedAt: Date) throws -> [LabelOutcome] {
        guard !labels.isEmpty else { return [] }
        let t = receivedAt.timeIntervalSince1970
        return try requiringModel(model) {
            try write { s in
                // One read for the known values, then one upsert per changed label; a label
                // repeated inside the request is compared with its predecessor in the request.
                let ids = labels.map(\.predictionID)
                var known: [String: Double] = [:]
                for r in try s.rows("SELECT prediction_id, label FROM labels WHERE model = \(model) AND prediction_id = ANY(\(ids)::text[])") {
                    let (id, label) = try r.decode((String, Double).self)
                    known[id] = label
                }
                return try labels.map { l in
                    if known[l.predictionID] == l.label { return .duplicate }
                    try s.execute("""
                        INSERT INTO labels (model, prediction_id, label, label_ts, received_at, state)
                        VALUES (\(model), \(l.predictionID), \(l.label), \(l.labelTime), \(t), 'pending')
                        ON CONFLICT (model, prediction_id) DO UPDATE SET
                            label = excluded.label, label_ts = excluded.label_ts, received_at = excluded.received_at,
                            state = 'pending', batch_id = NULL, row = NULL, endpoint = NULL, score = NULL, segment = NULL
                        """)
                    known[l.predictionID] = l.label
                    return .stored
                }
            }
        }
    }

    public func pendingLabels(model: String, limit: Int) throws -> [PendingLabel] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("""
                SELECT prediction_id, received_at FROM labels WHERE model = \(model) AND state = 'pending'
                ORDER BY received_at LIMIT \(limit)
                """).map {
                let (id, received) = try $0.decode((String, Double).self)
                return PendingLabel(predictionID: id, receivedAt: Date(timeIntervalSince1970: received))
            }
        }
    }

    /// One statement for all joins: the joins travel as one JSON array (nulls included), which
    /// `jsonb_to_recordset` turns into rows.
    public func markLabelsJoined(model: String, _ joins: [LabelJoin]) throws {
        guard !joins.isEmpty else { return }
        let rows = try StoredJSON.encode(joins.map(JoinRow.init))
        try write { s in
            try s.execute("""
                UPDATE labels SET state = 'joined', batch_id = j.batch_id, row = j.row, endpoint = j.endpoint, score = j.score, segment = j.segment
                FROM jsonb_to_recordset(\(rows)::jsonb)
                    AS j(prediction_id text, batch_id int8, row int4, endpoint text, score float8, segment text)
                WHERE labels.model = \(model) AND labels.prediction_id = j.prediction_id
                """)
        }
    }

    /// A label join as one element of `markLabelsJoined`'s JSON array.
    private struct JoinRow: Encodable {
        var prediction_id: String
        var batch_id: Int64
        var row: Int
        var endpoint: String
        var score: Double?
        var segment: String?

        // A nil score or segment is left out, which jsonb_to_recordset reads as null.
        init(_ j: LabelJoin) {
            prediction_id = j.predictionID
            batch_id = j.batchID
            row = j.row
            endpoint = j.endpoint.rawValue
            score = j.score
            segment = j.segment
        }
    }

    public func markLabelsUnmatched(model: String, receivedBefore: Date) throws -> Int {
        try write { s in
            try s.execute("""
                UPDATE labels SET state = 'unmatched'
                WHERE model = \(model) AND state = 'pending' AND received_at < \(receivedBefore.timeIntervalSince1970)
                """)
        }
    }

    public func labelledPredictions(model: String, batches: ClosedRange<Int64>) throws -> [LabelledPrediction] {
        try read { s in
            try s.rows("""
                SELECT prediction_id, batch_id, score, label, segment FROM labels
                WHERE model = \(model) AND state = 'joined' AND batch_id BETWEEN \(batches.lowerBound) AND \(batches.upperBound)
                  AND endpoint = 'production' AND score IS NOT NULL
                """).map {
                let (id, batchID, score, label, segment) = try $0.decode((String, Int64, Double, Double, String?).self)
                return LabelledPrediction(predictionID: id, batchID: batchID, score: score, label: label, segment: segment)
            }
        }
    }

    public func labelValues(model: String, ids: [String]) throws -> [String: Double] {
        guard !ids.isEmpty else { return [:] }
        return try read { s in
            var out: [String: Double] = [:]
            for r in try s.rows("SELECT prediction_id, label FROM labels WHERE model = \(model) AND prediction_id = ANY(\(ids)::text[])") {
                let (id, label) = try r.decode((String, Double).self)
                out[id] = label
            }
            return out
        }
    }

    public func labelCounts(model: String) throws -> [LabelState: Int] {
        try read { s in
            var out: [LabelState: Int] = [:]
            for r in try s.rows("SELECT state, COUNT(*)::bigint FROM labels WHERE model = \(model) GROUP BY state") {
                let (state, n) = try r.decode((String, Int).self)
                out[try storedEnum(LabelState.self, state, column: "state", table: "labels", key: model)] = n
            }
            return out
        }
    }

    // MARK: window quality

    public func saveWindowQuality(model: String, _ quality: WindowQuality, now: Date) throws {
        let json = try StoredJSON.encode(quality)
        try requiringModel(model) {
            try write { s in
                try s.execute("""
                    INSERT INTO window_quality (model, seq, report_json, updated_at) VALUES (\(model), \(quality.seq), \(json), \(now.timeIntervalSince1970))
                    ON CONFLICT (model, seq) DO UPDATE SET report_json = excluded.report_json, updated_at = excluded.updated_at
                    """)
            }
        }
    }

    public func windowQualities(model: String, limit: Int) throws -> [WindowQuality] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("SELECT seq, report_json FROM window_quality WHERE model = \(model) ORDER BY seq DESC LIMIT \(limit)").map {
                let (seq, json) = try $0.decode((Int, String).self)
                return try StoredJSON.decode(WindowQuality.self, json, table: "window_quality", key: "\(model) window \(seq)")
            }
        }
    }

    public func windowQuality(model: String, seq: Int) throws -> WindowQuality? {
        try read { s in
            try s.value("SELECT report_json FROM window_quality WHERE model = \(model) AND seq = \(seq)", as: String.self)
                .map { try StoredJSON.decode(WindowQuality.self, $0, table: "window_quality", key: "\(model) window \(seq)") }
        }
    }
}
