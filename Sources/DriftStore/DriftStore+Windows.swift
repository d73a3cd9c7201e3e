import Foundation
import GRDB

// Closed windows, drift episodes and their transitions.
extension DriftStore {
    /// Stores a closed window. A window with the same (model, seq) is a conflict: closed
    /// windows are immutable.
    public func insertWindow(_ w: WindowRecord) throws {
        guard w.firstBatchID <= w.lastBatchID else {
            throw DriftStoreError.invalidArgument(
                "window \(w.seq): firstBatchID \(w.firstBatchID) > lastBatchID \(w.lastBatchID)")
        }
        do {
            try requiringModel(w.model) {
                try writer.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO windows (model, seq, started_at, ended_at, first_batch_id,
                                last_batch_id, rows, drifted, drift_share, report_json)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            w.model, w.seq, w.startedAt.unixSeconds, w.endedAt.unixSeconds,
                            w.firstBatchID, w.lastBatchID, w.rows, w.drifted, w.driftShare,
                            w.reportJSON,
                        ])
                }
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw DriftStoreError.conflict("window \(w.seq) of model '\(w.model)' is already stored")
        }
    }

    /// The model's newest `limit` windows, newest (highest seq) first.
    public func windows(model: String, limit: Int) throws -> [WindowRecord] {
        guard limit > 0 else { return [] }
        return try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM windows WHERE model = ? ORDER BY seq DESC LIMIT ?",
                arguments: [model, limit]
            ).map(WindowRecord.init(row:))
        }
    }

    public func lastWindow(model: String) throws -> WindowRecord? {
        try windows(model: model, limit: 1).first
    }

    // MARK: Episodes

    /// Inserts the episode when `id == 0` (returning it with its new id), otherwise replaces
    /// the stored episode with that id (inserting it under that id if absent). An id that
    /// belongs to another model is a conflict.
    @discardableResult
    public func upsertEpisode(_ e: EpisodeRecord) throws -> EpisodeRecord {
        guard e.id >= 0 else { throw DriftStoreError.invalidArgument("episode id \(e.id) < 0") }
        return try requiringModel(e.model) {
            try writer.write { db in
                var stored = e
                let arguments: StatementArguments = [
                    e.model, e.state, e.openedAt.unixSeconds, e.confirmedAt?.unixSeconds,
                    e.resolvedAt?.unixSeconds, e.lastWindowSeq, e.evidenceJSON,
                ]
                if e.id == 0 {
                    try db.execute(
                        sql: """
                            INSERT INTO episodes (model, state, opened_at, confirmed_at, resolved_at,
                                                  last_window_seq, evidence_json, kind)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: arguments + [e.kind])
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
    public func episodes(model: String, kind: String? = nil, limit: Int) throws -> [EpisodeRecord] {
        guard limit > 0 else { return [] }
        return try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM episodes WHERE model = ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?",
                arguments: [model, kind, kind, limit]
            ).map(EpisodeRecord.init(row:))
        }
    }

    public func episode(id: Int64) throws -> EpisodeRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM episodes WHERE id = ?", arguments: [id])
                .map(EpisodeRecord.init(row:))
        }
    }

    /// Appends a transition to an existing episode of the same model.
    public func insertTransition(_ t: TransitionRecord) throws {
        try writer.write { db in
            guard
                let owner = try String.fetchOne(
                    db, sql: "SELECT model FROM episodes WHERE id = ?", arguments: [t.episodeID])
            else { throw DriftStoreError.notFound("episode \(t.episodeID)") }
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
                    t.episodeID, t.model, t.from, t.to, t.at.unixSeconds, t.windowSeq,
                    t.evidenceJSON,
                ])
        }
    }

    /// The episode's transitions in the order they were inserted.
    public func transitions(episodeID: Int64) throws -> [TransitionRecord] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM episode_transitions WHERE episode_id = ? ORDER BY id",
                arguments: [episodeID]
            ).map(TransitionRecord.init(row:))
        }
    }
}

extension WindowRecord {
    init(row: Row) throws {
        self.init(
            model: try row.decode(forColumn: "model"),
            seq: try row.decode(forColumn: "seq"),
            startedAt: try row.date("started_at"),
            endedAt: try row.date("ended_at"),
            firstBatchID: try row.decode(forColumn: "first_batch_id"),
            lastBatchID: try row.decode(forColumn: "last_batch_id"),
            rows: try row.decode(forColumn: "rows"),
            drifted: try row.decode(forColumn: "drifted"),
            driftShare: try row.decode(forColumn: "drift_share"),
            reportJSON: try row.decode(forColumn: "report_json"))
    }
}

extension EpisodeRecord {
    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            model: try row.decode(forColumn: "model"),
            state: try row.decode(forColumn: "state"),
            openedAt: try row.date("opened_at"),
            confirmedAt: try row.optionalDate("confirmed_at"),
            resolvedAt: try row.optionalDate("resolved_at"),
            lastWindowSeq: try row.decode(forColumn: "last_window_seq"),
            evidenceJSON: try row.decode(forColumn: "evidence_json"),
            kind: try row.decode(forColumn: "kind"))
    }
}

extension TransitionRecord {
    init(row: Row) throws {
        self.init(
            episodeID: try row.decode(forColumn: "episode_id"),
            model: try row.decode(forColumn: "model"),
            from: try row.decode(forColumn: "from_state"),
            to: try row.decode(forColumn: "to_state"),
            at: try row.date("at"),
            windowSeq: try row.decode(forColumn: "window_seq"),
            evidenceJSON: try row.decode(forColumn: "evidence_json"))
    }
}
