import DriftCore
import Foundation
import PostgresNIO

// Closed windows, drift and quality episodes and their transitions.
extension PostgresStore {
    public func insertWindow(_ window: WindowRecord) throws {
        let w = window.summary
        let reportJSON = try StoredJSON.encode(window.report)
        do {
            try requiringModel(w.model) {
                try write { s in
                    try s.execute("""
                        INSERT INTO windows (model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share, report_json)
                        VALUES (\(w.model), \(w.seq), \(w.startedAt.timeIntervalSince1970), \(w.endedAt.timeIntervalSince1970),
                                \(w.batches.lowerBound), \(w.batches.upperBound), \(w.rows), \(w.drifted), \(w.driftShare), \(reportJSON))
                        """)
                }
            }
        } catch where Self.sqlState(error) == "23505" {
            throw DriftStoreError.conflict("window \(w.seq) of model '\(w.model)' is already stored")
        }
    }

    public func windows(model: String, limit: Int) throws -> [WindowRecord] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("""
                SELECT model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share, report_json
                FROM windows WHERE model = \(model) ORDER BY seq DESC LIMIT \(limit)
                """).map(WindowRecord.init(postgres:))
        }
    }

    public func windowSummaries(model: String, limit: Int) throws -> [WindowSummary] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("""
                SELECT model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share
                FROM windows WHERE model = \(model) ORDER BY seq DESC LIMIT \(limit)
                """).map(WindowSummary.init(postgres:))
        }
    }

    public func window(model: String, seq: Int) throws -> WindowRecord? {
        try read { s in
            try s.rows("""
                SELECT model, seq, started_at, ended_at, first_batch_id, last_batch_id, rows, drifted, drift_share, report_json
                FROM windows WHERE model = \(model) AND seq = \(seq)
                """).first.map(WindowRecord.init(postgres:))
        }
    }

    public func lastWindow(model: String) throws -> WindowSummary? {
        try windowSummaries(model: model, limit: 1).first
    }

    // MARK: episodes

    @discardableResult
    public func upsertEpisode(_ e: EpisodeRecord) throws -> EpisodeRecord {
        guard e.id >= 0 else { throw DriftStoreError.invalidArgument("episode id \(e.id) < 0") }
        let evidence = try StoredEvidence.json(e.evidence)
        let opened = e.openedAt.timeIntervalSince1970
        let confirmed = e.confirmedAt?.timeIntervalSince1970, resolved = e.resolvedAt?.timeIntervalSince1970
        return try requiringModel(e.model) {
            try write { s in
                var stored = e
                if e.id == 0 {
                    guard let id = try s.value("""
                        INSERT INTO episodes (model, kind, state, opened_at, confirmed_at, resolved_at, last_window_seq, evidence_json)
                        VALUES (\(e.model), \(e.kind.rawValue), \(e.state.rawValue), \(opened), \(confirmed), \(resolved), \(e.lastWindowSeq), \(evidence))
                        RETURNING id
                        """, as: Int64.self)
                    else { throw DriftStoreError.notFound("episode id after insert") }
                    stored.id = id
                    return stored
                }
                if let owner = try s.value("SELECT model FROM episodes WHERE id = \(e.id)", as: String.self), owner != e.model {
                    throw DriftStoreError.conflict("episode \(e.id) belongs to model '\(owner)', not '\(e.model)'")
                }
                // `xmax = 0` is true for a row this statement inserted (not one it updated).
                let inserted = try s.value("""
                    INSERT INTO episodes (id, model, kind, state, opened_at, confirmed_at, resolved_at, last_window_seq, evidence_json)
                    VALUES (\(e.id), \(e.model), \(e.kind.rawValue), \(e.state.rawValue), \(opened), \(confirmed), \(resolved), \(e.lastWindowSeq), \(evidence))
                    ON CONFLICT (id) DO UPDATE SET
                        state = excluded.state, opened_at = excluded.opened_at, confirmed_at = excluded.confirmed_at,
                        resolved_at = excluded.resolved_at, last_window_seq = excluded.last_window_seq, evidence_json = excluded.evidence_json
                    RETURNING (xmax = 0)
                    """, as: Bool.self)
                if inserted == true {
                    // An id given by the caller must not be handed out again by the identity column.
                    try s.execute("SELECT setval(pg_get_serial_sequence('episodes', 'id'), GREATEST((SELECT MAX(id) FROM episodes), 1))")
                }
                return stored
            }
        }
    }

    public func episodes(model: String, kind: EpisodeKind?, limit: Int) throws -> [EpisodeRecord] {
        guard limit > 0 else { return [] }
        let kindText = kind?.rawValue
        return try read { s in
            try s.rows("""
                SELECT id, model, kind, state, opened_at, confirmed_at, resolved_at, last_window_seq, evidence_json FROM episodes
                WHERE model = \(model) AND (\(kindText)::text IS NULL OR kind = \(kindText)) ORDER BY id DESC LIMIT \(limit)
                """).map(EpisodeRecord.init(postgres:))
        }
    }

    public func episode(id: Int64) throws -> EpisodeRecord? {
        try read { s in
            try s.rows("""
                SELECT id, model, kind, state, opened_at, confirmed_at, resolved_at, last_window_seq, evidence_json FROM episodes
                WHERE id = \(id)
                """).first.map(EpisodeRecord.init(postgres:))
        }
    }

    public func insertTransition(_ t: TransitionRecord) throws {
        let evidence = try StoredEvidence.json(t.evidence)
        try write { s in
            guard let owner = try s.value("SELECT model FROM episodes WHERE id = \(t.episodeID)", as: String.self) else {
                throw DriftStoreError.notFound("episode \(t.episodeID)")
            }
            guard owner == t.model else {
                throw DriftStoreError.conflict("episode \(t.episodeID) belongs to model '\(owner)', not '\(t.model)'")
            }
            try s.execute("""
                INSERT INTO episode_transitions (episode_id, model, from_state, to_state, at, window_seq, evidence_json)
                VALUES (\(t.episodeID), \(t.model), \(t.from.rawValue), \(t.to.rawValue), \(t.at.timeIntervalSince1970), \(t.windowSeq), \(evidence))
                """)
        }
    }

    public func transitions(episodeID: Int64) throws -> [TransitionRecord] {
        try read { s in
            try s.rows("""
                SELECT t.id, t.episode_id, t.model, t.from_state, t.to_state, t.at, t.window_seq, t.evidence_json, e.kind
                FROM episode_transitions t JOIN episodes e ON e.id = t.episode_id
                WHERE t.episode_id = \(episodeID) ORDER BY t.id
                """).map(TransitionRecord.init(postgres:))
        }
    }
}

extension WindowSummary {
    init(postgres row: PostgresRow) throws {
        let (model, seq, started, ended, first, last, rows, drifted, share) =
            try row.decode((String, Int, Double, Double, Int64, Int64, Int, Bool, Double).self)
        guard first <= last else {
            throw DriftStoreError.corruptRecord(table: "windows", key: "\(model) window \(seq)", reason: "first batch \(first) > last \(last)")
        }
        self.init(model: model, seq: seq, startedAt: Date(timeIntervalSince1970: started), endedAt: Date(timeIntervalSince1970: ended),
                  batches: first...last, rows: rows, drifted: drifted, driftShare: share)
    }
}

extension WindowRecord {
    init(postgres row: PostgresRow) throws {
        let summary = try WindowSummary(postgres: row)
        let json = try row.makeRandomAccess()["report_json"].decode(String.self)
        self.init(summary: summary,
                  report: try StoredJSON.decode(WindowReport.self, json, table: "windows", key: "\(summary.model) window \(summary.seq)"))
    }
}

extension EpisodeRecord {
    init(postgres row: PostgresRow) throws {
        let (id, model, kindText, stateText, opened, confirmed, resolved, lastSeq, evidence) =
            try row.decode((Int64, String, String, String, Double, Double?, Double?, Int, String).self)
        let key = "episode \(id)"
        let kind = try storedEnum(EpisodeKind.self, kindText, column: "kind", table: "episodes", key: key)
        self.init(
            id: id, model: model, kind: kind,
            state: try storedEnum(EpisodeRecordState.self, stateText, column: "state", table: "episodes", key: key),
            openedAt: Date(timeIntervalSince1970: opened), confirmedAt: confirmed.map(Date.init(timeIntervalSince1970:)),
            resolvedAt: resolved.map(Date.init(timeIntervalSince1970:)), lastWindowSeq: lastSeq,
            evidence: try StoredEvidence.decode(evidence, kind: kind, table: "episodes", key: key))
    }
}

extension TransitionRecord {
    init(postgres row: PostgresRow) throws {
        let (id, episodeID, model, from, to, at, windowSeq, evidence, kindText) =
            try row.decode((Int64, Int64, String, String, String, Double, Int, String, String).self)
        let key = "episode \(episodeID) transition \(id)"
        let table = "episode_transitions"
        self.init(
            episodeID: episodeID, model: model,
            from: try storedEnum(EpisodeState.self, from, column: "from_state", table: table, key: key),
            to: try storedEnum(EpisodeState.self, to, column: "to_state", table: table, key: key),
            at: Date(timeIntervalSince1970: at), windowSeq: windowSeq,
            evidence: try StoredEvidence.decode(
                evidence, kind: try storedEnum(EpisodeKind.self, kindText, column: "kind", table: "episodes", key: key), table: table, key: key))
    }
}
