import DriftCore
import Foundation
import PostgresNIO

// The transactional outbox: actions are written first, then delivered by the dispatcher.
extension PostgresStore {
    static let actionColumns = """
        id, model, kind, key, payload_json, state, attempts, next_attempt_at, last_error, episode_id, created_at, updated_at
        """

    @discardableResult
    public func enqueueAction(model: String, kind: String, key: String, payloadJSON: String, now: Date, episodeID: Int64?) throws -> Int64 {
        guard !key.isEmpty else { throw DriftStoreError.invalidArgument("action key is empty") }
        let t = now.timeIntervalSince1970
        return try requiringModel(model) {
            try write { s in
                // ON CONFLICT DO NOTHING: two replicas enqueuing one key at once store it once.
                if let id = try s.value("""
                    INSERT INTO outbox (model, kind, key, payload_json, state, attempts, next_attempt_at, created_at, updated_at, episode_id)
                    VALUES (\(model), \(kind), \(key), \(payloadJSON), 'pending', 0, \(t), \(t), \(t), \(episodeID))
                    ON CONFLICT (key) DO NOTHING RETURNING id
                    """, as: Int64.self) {
                    return id
                }
                guard let id = try s.value("SELECT id FROM outbox WHERE key = \(key)", as: Int64.self) else {
                    throw DriftStoreError.notFound("action \(key) after enqueue")
                }
                return id
            }
        }
    }

    public func dueActions(now: Date, limit: Int) throws -> [ActionRecord] {
        guard limit > 0 else { return [] }
        return try actionRows("""
            SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE state = 'pending' AND next_attempt_at <= \(now.timeIntervalSince1970)
            ORDER BY next_attempt_at, id LIMIT \(limit)
            """)
    }

    public func earliestPendingAction(kind: String) throws -> ActionRecord? {
        try actionRows("""
            SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE state = 'pending' AND kind = \(kind) ORDER BY next_attempt_at, id LIMIT 1
            """).first
    }

    public func actions(episodeID: Int64) throws -> [ActionRecord] {
        try actionRows("SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE episode_id = \(episodeID) ORDER BY id")
    }

    public func actions(model: String, state: ActionState?, limit: Int) throws -> [ActionRecord] {
        guard limit > 0 else { return [] }
        let stateText = state?.rawValue
        return try actionRows("""
            SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE model = \(model) AND (\(stateText)::text IS NULL OR state = \(stateText))
            ORDER BY id DESC LIMIT \(limit)
            """)
    }

    public func action(id: Int64) throws -> ActionRecord? {
        try actionRows("SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE id = \(id)").first
    }

    public func action(key: String) throws -> ActionRecord? {
        try actionRows("SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE key = \(key)").first
    }

    public func actionCounts(state: ActionState) throws -> [String: Int] {
        try read { s in
            var counts: [String: Int] = [:]
            for r in try s.rows("SELECT kind, COUNT(*)::bigint FROM outbox WHERE state = \(state.rawValue) GROUP BY kind") {
                let (kind, n) = try r.decode((String, Int).self)
                counts[kind] = n
            }
            return counts
        }
    }

    public func markDelivered(id: Int64, now: Date) throws {
        try updateGuarded(id: id, """
            UPDATE outbox SET state = 'delivered', attempts = attempts + 1, updated_at = \(now.timeIntervalSince1970)
            WHERE id = \(id) AND state <> 'delivered'
            """)
    }

    public func markRetry(id: Int64, error: String, now: Date, nextAttempt: Date) throws {
        try updateGuarded(id: id, """
            UPDATE outbox SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(nextAttempt.timeIntervalSince1970),
                updated_at = \(now.timeIntervalSince1970)
            WHERE id = \(id) AND state = 'pending'
            """)
    }

    public func markGivenUp(id: Int64, error: String, now: Date) throws {
        try updateGuarded(id: id, """
            UPDATE outbox SET state = 'given_up', attempts = attempts + 1, last_error = \(error), updated_at = \(now.timeIntervalSince1970)
            WHERE id = \(id) AND state = 'pending'
            """)
    }

    @discardableResult
    public func retryAction(model: String, key: String, now: Date) throws -> ActionRecord {
        let t = now.timeIntervalSince1970
        return try write { s in
            guard let row = try s.rows("""
                SELECT \(unescaped: Self.actionColumns) FROM outbox WHERE key = \(key) AND model = \(model) FOR UPDATE
                """).first
            else { throw DriftStoreError.notFound("action \(key) of model \(model)") }
            var action = try ActionRecord(postgres: row)
            guard action.state != .delivered else {
                throw DriftStoreError.conflict("action \(key) was delivered; there is nothing to retry")
            }
            try s.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(t), updated_at = \(t) WHERE id = \(action.id)")
            action.state = .pending
            action.attempts = 0
            action.nextAttemptAt = now
            action.updatedAt = now
            return action
        }
    }

    @discardableResult
    public func makeDue(kind: String, now: Date) throws -> Int {
        let t = now.timeIntervalSince1970
        return try write { s in
            try s.execute("UPDATE outbox SET next_attempt_at = \(t) WHERE kind = \(kind) AND state = 'pending' AND next_attempt_at > \(t)")
        }
    }

    private func actionRows(_ query: PostgresQuery) throws -> [ActionRecord] {
        try read { s in try s.rows(query).map(ActionRecord.init(postgres:)) }
    }

    /// An update guarded by the action's state; `.notFound` only when the action does not exist.
    private func updateGuarded(id: Int64, _ query: PostgresQuery) throws {
        try write { s in
            if try s.execute(query) == 0, try s.value("SELECT 1 FROM outbox WHERE id = \(id)", as: Int32.self) == nil {
                throw DriftStoreError.notFound("outbox action \(id)")
            }
        }
    }
}

extension ActionRecord {
    init(postgres row: PostgresRow) throws {
        let (id, model, kind, key, payload, stateText, attempts, next, lastError, episodeID, created, updated) =
            try row.decode((Int64, String, String, String, String, String, Int, Double, String?, Int64?, Double, Double).self)
        self.init(
            id: id, model: model, kind: kind, key: key, payloadJSON: payload,
            state: try storedEnum(ActionState.self, stateText, column: "state", table: "outbox", key: key),
            attempts: attempts, nextAttemptAt: Date(timeIntervalSince1970: next), lastError: lastError, episodeID: episodeID,
            createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: updated))
    }
}
