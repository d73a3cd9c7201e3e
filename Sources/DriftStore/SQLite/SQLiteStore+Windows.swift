import DriftCore
import Foundation
import GRDB

// Closed windows, drift episodes and their transitions.
extension SQLiteStore {
    /// Stores a closed window. A window with the same (model, seq) is a conflict: closed
    /// windows are immutable.
    public func insertWindow(_ window: WindowRecord) throws {
        let w = window.summary
        let reportJSON = try StoredJSON.encode(window.report)
        do {
            try requiringModel(w.model) {
                try write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO windows (model, seq, started_at, ended_at, first_batch_id,
                                last_batch_id, rows, drifted, drift_share, report_json)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            w.model, w.seq, w.startedAt.unixSeconds, w.endedAt.unixSeconds,
                            w.batches.lowerBound, w.batches.upperBound, w.rows, w.drifted, w.driftShare,
                            reportJSON,
                        ])
                }
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw DriftStoreError.conflict("window \(w.seq) of model '\(w.model)' is already stored")
        }
    }

    /// The model's newest `limit` windows with their reports, newest (highest seq) first.
    public func windows(model: String, limit: Int) throws -> [WindowRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM windows WHERE model = ? ORDER BY seq DESC LIMIT ?",
                arguments: [model, limit]
            ).map(WindowRecord.init(row:))
        }
    }

    /// The model's newest `limit` windows without their reports, newest first.
    public func windowSummaries(model: String, limit: Int) throws -> [WindowSummary] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db, sql: Self.windowSummarySQL + " WHERE model = ? ORDER BY seq DESC LIMIT ?",
                arguments: [model, limit]
            ).map(WindowSummary.init(row:))
        }
    }

    /// One window with its report.
    public func window(model: String, seq: Int) throws -> WindowRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM windows WHERE model = ? AND seq = ?", arguments: [model, seq])
                .map(WindowRecord.init(row:))
        }
    }

    public func lastWindow(model: String) throws -> WindowSummary? {
        try windowSummaries(model: model, limit: 1).first
    }

    static let windowSummarySQL = """
        SELECT model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share FROM windows
        """

    // MARK: Episodes

    /// Inserts the episode when `id == 0` (returning it with its new id), otherwise replaces
    /// the stored episode with that id (inserting it under that id if absent). An id that
    /// belongs to another model is a conflict.
    @discardableResult
    public func upsertEpisode(_ e: EpisodeRecord) throws -> EpisodeRecord {
        guard e.id >= 0 else { throw DriftStoreError.invalidArgument("episode id \(e.id) < 0") }
        return try requiringModel(e.model) {
            try write { db in
                var stored = e
                let arguments: StatementArguments = [
                    e.model, e.state.rawValue, e.openedAt.unixSeconds, e.confirmedAt?.unixSeconds,
                    e.resolvedAt?.unixSeconds, e.lastWindowSeq, try StoredEvidence.json(e.evidence),
                ]
                if e.id == 0 {
                    try db.execute(
                        sql: """
                            INSERT INTO episodes (model, state, opened_at, confirmed_at, resolved_at,
                                                  last_window_seq, evidence_json, kind)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: arguments + [e.kind.rawValue])
                    stored.id = db.lastInsertedRowID
                    return stored
                }
                if let owner = try String.fetchOne(
                    db, sql: "SELECT model FROM episodes WHERE id = ?", arguments: [e.id]),
                    owner != e.model
                {
                    throw DriftStoreError.conflict(
                        "episode \(e.id) belongs to model '\(owner)', not '\(e.model)'")
                }
                try db.execute(
                    sql: """
                        INSERT INTO episodes (model, state, opened_at, confirmed_at, resolved_at,
                                              last_window_seq, evidence_json, id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET
                            state = excluded.state, opened_at = excluded.opened_at,
                            confirmed_at = excluded.confirmed_at, resolved_at = excluded.resolved_at,
                            last_window_seq = excluded.last_window_seq,
                            evidence_json = excluded.evidence_json
                        """,
                    arguments: arguments + [e.id])
                return stored
            }
        }
    }

    /// The model's newest `limit` episodes (of one kind, or all), newest (highest id) first.
    public func episodes(model: String, kind: EpisodeKind? = nil, limit: Int) throws -> [EpisodeRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM episodes WHERE model = ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?",
                arguments: [model, kind?.rawValue, kind?.rawValue, limit]
            ).map(EpisodeRecord.init(row:))
        }
    }

    public func episode(id: Int64) throws -> EpisodeRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM episodes WHERE id = ?", arguments: [id])
                .map(EpisodeRecord.init(row:))
        }
    }

    /// Appends a transition to an existing episode of the same model.
    public func insertTransition(_ t: TransitionRecord) throws {
        try write { db in
            guard
                let owner = try String.fetchOne(
                    db, sql: "SELECT model FROM episodes WHERE id = ?", arguments: [t.episodeID])
            else { throw DriftStoreError.notFound("episode \(t.episodeID)") }
            let evidenceJSON = try StoredEvidence.json(t.evidence)
            guard owner == t.model else {
                throw DriftStoreError.conflict(
                    "episode \(t.episodeID) belongs to model '\(owner)', not '\(t.model)'")
            }
            try db.execute(
                sql: """
                    INSERT INTO episode_transitions (episode_id, model, from_state, to_state, at,
                                                     window_seq, evidence_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    t.episodeID, t.model, t.from.rawValue, t.to.rawValue, t.at.unixSeconds, t.windowSeq,
                    evidenceJSON,
                ])
        }
    }

    /// The episode's transitions in the order they were inserted.
    public func transitions(episodeID: Int64) throws -> [TransitionRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT t.*, e.kind FROM episode_transitions t JOIN episodes e ON e.id = t.episode_id
                    WHERE t.episode_id = ? ORDER BY t.id
                    """,
                arguments: [episodeID]
            ).map(TransitionRecord.init(row:))
        }
    }
}

/// A TEXT column holding one of an enum's raw values; anything else is a corrupt record.
func storedEnum<E: RawRepresentable>(_ type: E.Type, _ row: Row, _ column: String, table: String, key: @autoclosure () -> String) throws -> E
where E.RawValue == String {
    try storedEnum(type, try row.decode(String.self, forColumn: column), column: column, table: table, key: key())
}

extension WindowSummary {
    init(row: Row) throws {
        let model: String = try row.decode(forColumn: "model")
        let seq: Int = try row.decode(forColumn: "seq")
        let first: Int64 = try row.decode(forColumn: "first_batch_id")
        let last: Int64 = try row.decode(forColumn: "last_batch_id")
        guard first <= last else {
            throw DriftStoreError.corruptRecord(table: "windows", key: "\(model) window \(seq)", reason: "first batch \(first) > last \(last)")
        }
        self.init(
            model: model, seq: seq, startedAt: try row.date("started_at"), endedAt: try row.date("ended_at"),
            batches: first...last, rows: try row.decode(forColumn: "rows"), drifted: try row.decode(forColumn: "drifted"),
            driftShare: try row.decode(forColumn: "drift_share"))
    }
}

extension WindowRecord {
    init(row: Row) throws {
        let summary = try WindowSummary(row: row)
        self.init(
            summary: summary,
            report: try StoredJSON.decode(WindowReport.self, try row.decode(forColumn: "report_json"), table: "windows",
                                          key: "\(summary.model) window \(summary.seq)"))
    }
}

extension EpisodeRecord {
    init(row: Row) throws {
        let id: Int64 = try row.decode(forColumn: "id")
        let key = "episode \(id)"
        let kind = try storedEnum(EpisodeKind.self, row, "kind", table: "episodes", key: key)
        self.init(
            id: id,
            model: try row.decode(forColumn: "model"),
            kind: kind,
            state: try storedEnum(EpisodeRecordState.self, row, "state", table: "episodes", key: key),
            openedAt: try row.date("opened_at"),
            confirmedAt: try row.optionalDate("confirmed_at"),
            resolvedAt: try row.optionalDate("resolved_at"),
            lastWindowSeq: try row.decode(forColumn: "last_window_seq"),
            evidence: try StoredEvidence.decode(try row.decode(forColumn: "evidence_json"), kind: kind, table: "episodes", key: key))
    }
}

extension TransitionRecord {
    init(row: Row) throws {
        let episodeID: Int64 = try row.decode(forColumn: "episode_id")
        let transitionID: Int64 = try row.decode(forColumn: "id")
        let key = "episode \(episodeID) transition \(transitionID)"
        let table = "episode_transitions"
        self.init(
            episodeID: episodeID,
            model: try row.decode(forColumn: "model"),
            from: try storedEnum(EpisodeState.self, row, "from_state", table: table, key: key),
            to: try storedEnum(EpisodeState.self, row, "to_state", table: table, key: key),
            at: try row.date("at"),
            windowSeq: try row.decode(forColumn: "window_seq"),
            evidence: try StoredEvidence.decode(try row.decode(forColumn: "evidence_json"),
                                               kind: try storedEnum(EpisodeKind.self, row, "kind", table: "episodes", key: key),
                                               table: table, key: key))
    }
}
