import Foundation
import GRDB
import PostgresNIO

/// `driftwatch migrate --from DIR --to postgres://…`: copies an embedded SQLite store into an
/// empty PostgreSQL store, row for row, keeping every id (batch ids are the cursors of windows,
/// episode ids are referenced by transitions, actions and remediations), so a replica started on
/// the copy resumes exactly where the single process stopped: the same open window, the same
/// pending actions, the same episodes. The SQLite id-index generations are not copied: the
/// copied batches are queued for PostgreSQL's indexer, which rebuilds the index from their ids.
///
/// The two schemas share their conventions (float8/REAL Unix seconds, JSON text), so a table
/// copies column by column; a table's rows are read in id order and written in chunks, one
/// transaction per chunk, and the whole copy is refused unless the target holds no model.
public enum StoreCopy {
    /// Rows copied per table, in copy order.
    public struct Report: Sendable {
        public var tables: [(table: String, rows: Int)]
    }

    /// One table: the SQLite query (its columns in the order of `columns`) and how to bind them.
    struct TableCopy {
        var table: String
        var select: String
        var columns: [String]
        /// Columns whose SQLite integers are PostgreSQL booleans.
        var booleans: Set<String> = []
        /// Identity columns whose values are kept (`OVERRIDING SYSTEM VALUE`), their sequences moved past them.
        var identity: String?
    }

    static let tables: [TableCopy] = [
        TableCopy(table: "models", select: "SELECT name, settings_json, created_at, updated_at FROM models ORDER BY name",
                  columns: ["name", "settings_json", "created_at", "updated_at"]),
        TableCopy(table: "baselines", select: "SELECT model, version, created_at, source, rows, profile, metadata_json FROM baselines ORDER BY model, version",
                  columns: ["model", "version", "created_at", "source", "rows", "profile", "metadata_json"]),
        TableCopy(table: "quality_baselines", select: "SELECT model, baseline_version, report_json FROM quality_baselines",
                  columns: ["model", "baseline_version", "report_json"]),
        TableCopy(table: "multivariate_baselines", select: "SELECT model, baseline_version, model_json FROM multivariate_baselines",
                  columns: ["model", "baseline_version", "model_json"]),
        TableCopy(table: "mlflow_links", select: "SELECT model, baseline_version, link_json FROM mlflow_links",
                  columns: ["model", "baseline_version", "link_json"]),
        TableCopy(table: "mlflow_registry", select: "SELECT model, last_version FROM mlflow_registry", columns: ["model", "last_version"]),
        TableCopy(table: "batches", select: """
            SELECT b.id, b.model, b.received_at, b.rows, b.first_event_time, b.last_event_time, b.idempotency_key,
                   COALESCE(b.payload, x''), i.ids
            FROM batches b LEFT JOIN batch_ids i ON i.batch_id = b.id ORDER BY b.id
            """,
                  columns: ["id", "model", "received_at", "rows", "first_event_time", "last_event_time", "idempotency_key", "payload", "ids"],
                  identity: "id"),
        TableCopy(table: "windows", select: """
            SELECT model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share, report_json FROM windows ORDER BY model, seq
            """,
                  columns: ["model", "seq", "started_at", "ended_at", "first_batch_id", "last_batch_id", "rows", "drifted", "drift_share", "report_json"],
                  booleans: ["drifted"]),
        TableCopy(table: "episodes", select: """
            SELECT id, model, kind, state, opened_at, confirmed_at, resolved_at, last_window_seq, evidence_json FROM episodes ORDER BY id
            """,
                  columns: ["id", "model", "kind", "state", "opened_at", "confirmed_at", "resolved_at", "last_window_seq", "evidence_json"],
                  identity: "id"),
        TableCopy(table: "episode_transitions", select: """
            SELECT id, episode_id, model, from_state, to_state, at, window_seq, evidence_json FROM episode_transitions ORDER BY id
            """,
                  columns: ["id", "episode_id", "model", "from_state", "to_state", "at", "window_seq", "evidence_json"], identity: "id"),
        TableCopy(table: "labels", select: """
            SELECT model, prediction_id, label, label_ts, received_at, state, batch_id, row, endpoint, score, segment FROM labels ORDER BY model, prediction_id
            """,
                  columns: ["model", "prediction_id", "label", "label_ts", "received_at", "state", "batch_id", "row", "endpoint", "score", "segment"]),
        TableCopy(table: "window_quality", select: "SELECT model, seq, report_json, updated_at FROM window_quality ORDER BY model, seq",
                  columns: ["model", "seq", "report_json", "updated_at"]),
        TableCopy(table: "outbox", select: """
            SELECT id, model, kind, key, payload_json, state, attempts, next_attempt_at, last_error, created_at, updated_at, episode_id FROM outbox ORDER BY id
            """,
                  columns: ["id", "model", "kind", "key", "payload_json", "state", "attempts", "next_attempt_at", "last_error", "created_at", "updated_at",
                            "episode_id"],
                  identity: "id"),
        TableCopy(table: "remediations", select: """
            SELECT id, model, episode_id, kind, name, state, detail, created_at, updated_at FROM remediations ORDER BY id
            """,
                  columns: ["id", "model", "episode_id", "kind", "name", "state", "detail", "created_at", "updated_at"], identity: "id"),
        // rowid order is the SQLite backend's tie-break of equal creation times; the target's
        // own `seq` identity, drawn in this order, keeps it.
        TableCopy(table: "candidates", select: """
            SELECT model, version, model_uri, metrics_json, episode_id, shadow_name, verdict, decision_json, created_at, updated_at, mlflow_version
            FROM candidates ORDER BY rowid
            """,
                  columns: ["model", "version", "model_uri", "metrics_json", "episode_id", "shadow_name", "verdict", "decision_json", "created_at",
                            "updated_at", "mlflow_version"]),
    ]

    /// Rows per insert statement (PostgreSQL takes at most 65,535 parameters per statement).
    static let chunk = 200

    /// Copies `source` into `target`; `progress` hears each table when it is done.
    public static func copy(from source: SQLiteStore, to target: PostgresStore,
                            progress: (String, Int) -> Void = { _, _ in }) throws -> Report {
        let models = try target.read { s in try s.value("SELECT COUNT(*)::bigint FROM models", as: Int.self) ?? 0 }
        guard models == 0 else {
            throw DriftStoreError.conflict("the target \(target.location) already holds \(models) model(s): migrate into an empty database")
        }
        var report = Report(tables: [])
        for table in tables {
            let copied = try copy(table, from: source, to: target)
            report.tables.append((table.table, copied))
            progress(table.table, copied)
        }
        // The copied batches' ids wait for the indexer, which rebuilds the label-join index.
        try target.write { s in
            try s.execute("INSERT INTO unindexed_batches (batch_id, model) SELECT id, model FROM batches WHERE ids IS NOT NULL")
        }
        return report
    }

    private static func copy(_ table: TableCopy, from source: SQLiteStore, to target: PostgresStore) throws -> Int {
        var total = 0
        try source.read { db in
            let cursor = try Row.fetchCursor(db, sql: table.select)
            var pending: [Row] = []
            func flush() throws {
                guard !pending.isEmpty else { return }
                let query = try insert(table, rows: pending)
                try target.write { s in try s.execute(query) }
                total += pending.count
                pending.removeAll(keepingCapacity: true)
            }
            while let row = try cursor.next() {
                pending.append(row.copy())
                if pending.count == chunk { try flush() }
            }
            try flush()
        }
        if let identity = table.identity {
            try target.write { s in
                try s.execute("""
                    SELECT setval(pg_get_serial_sequence(\(table.table), \(identity)), GREATEST((SELECT MAX(\(unescaped: identity)) FROM \(unescaped: table.table)), 1))
                    """)
            }
        }
        return total
    }

    /// One multi-row INSERT of `rows`, each SQLite value bound as its PostgreSQL counterpart.
    private static func insert(_ table: TableCopy, rows: [Row]) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: rows.count * table.columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for row in rows {
            var placeholders: [String] = []
            for (index, column) in table.columns.enumerated() {
                let value: DatabaseValue = row[index]
                switch value.storage {
                case .null: binds.appendNull()
                case .int64(let i):
                    if table.booleans.contains(column) { binds.append(i != 0) } else { binds.append(i) }
                case .double(let d): binds.append(d)
                case .string(let text): binds.append(text)
                case .blob(let data): try binds.append(data)
                }
                placeholders.append("$\(binds.count)")
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
        let sql = "INSERT INTO \(table.table) (\(table.columns.joined(separator: ", ")))\(overriding) VALUES " + tuples.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
