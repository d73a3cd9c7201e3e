import DriftCore
import Foundation
import GRDB

// Transactional outbox for side effects (alert pushes, Kubernetes calls): the action is
// written in the store first, then delivered by a worker that retries with backoff.
extension SQLiteStore {
    /// Enqueues an action, due immediately. Idempotent on `key` (unique across the store):
    /// enqueuing an existing key changes nothing and returns the original action's id.
    @discardableResult
    public func enqueueAction(
        model: String, kind: String, key: String, payloadJSON: String, now: Date, episodeID: Int64? = nil
    ) throws -> Int64 {
        guard !key.isEmpty else { throw DriftStoreError.invalidArgument("action key is empty") }
        return try requiringModel(model) {
            try write { db in
                if let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM outbox WHERE key = ?", arguments: [key])
                {
                    return id
                }
                try db.execute(
                    sql: """
                        INSERT INTO outbox (model, kind, key, payload_json, state, attempts,
                                            next_attempt_at, last_error, created_at, updated_at, episode_id)
                        VALUES (?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ?, ?)
                        """,
                    arguments: [
                        model, kind, key, payloadJSON, now.unixSeconds, now.unixSeconds,
                        now.unixSeconds, episodeID,
                    ])
                return db.lastInsertedRowID
            }
        }
    }

    /// Undelivered actions whose next attempt is at or before `now`, earliest due first
    /// (ties by enqueue order).
    public func dueActions(now: Date, limit: Int) throws -> [ActionRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox
                    WHERE state <> 'delivered' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, id LIMIT ?
                    """,
                arguments: [now.unixSeconds, limit]
            ).map(ActionRecord.init(row:))
        }
    }

    /// The actions of an episode, in enqueue order.
    public func actions(episodeID: Int64) throws -> [ActionRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE episode_id = ? ORDER BY id", arguments: [episodeID])
                .map(ActionRecord.init(row:))
        }
    }

    /// Undelivered actions by kind (retrying or parked), for the `driftwatch_actions_pending` gauge.
    public func undeliveredActionCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) FROM outbox WHERE state <> 'delivered' GROUP BY kind") {
                counts[r[0]] = r[1]
            }
            return counts
        }
    }

    public func action(id: Int64) throws -> ActionRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id])
                .map(ActionRecord.init(row:))
        }
    }

    /// Marks the action delivered (counts the attempt). Delivered is final; marking it again
    /// is a no-op.
    public func markDelivered(id: Int64, now: Date) throws {
        try updateUndelivered(
            id: id,
            sql: """
                UPDATE outbox SET state = 'delivered', attempts = attempts + 1, updated_at = ?
                WHERE id = ? AND state <> 'delivered'
                """,
            arguments: [now.unixSeconds, id])
    }

    /// Records a failed attempt: counts it, keeps `error`, and makes the action due again at
    /// `nextAttempt` (the caller computes the backoff; `Date.distantFuture` parks it).
    /// A late failure report for an already delivered action is ignored.
    public func markFailed(id: Int64, error: String, now: Date, nextAttempt: Date) throws {
        try updateUndelivered(
            id: id,
            sql: """
                UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,
                                  next_attempt_at = ?, updated_at = ?
                WHERE id = ? AND state <> 'delivered'
                """,
            arguments: [error, nextAttempt.unixSeconds, now.unixSeconds, id])
    }

    /// Runs an update guarded by `state <> 'delivered'`; throws `.notFound` only when the
    /// action does not exist at all.
    private func updateUndelivered(id: Int64, sql: String, arguments: StatementArguments) throws {
        try write { db in
            try db.execute(sql: sql, arguments: arguments)
            if db.changesCount == 0,
                try Int.fetchOne(db, sql: "SELECT 1 FROM outbox WHERE id = ?", arguments: [id]) == nil
            {
                throw DriftStoreError.notFound("outbox action \(id)")
            }
        }
    }
}

extension ActionRecord {
    init(row: Row) throws {
        let stateText: String = try row.decode(forColumn: "state")
        guard let state = ActionState(rawValue: stateText) else {
            // The CHECK constraint makes this unreachable unless the file was edited by hand.
            throw DriftStoreError.conflict("outbox row has unknown state '\(stateText)'")
        }
        self.init(
            id: try row.decode(forColumn: "id"),
            model: try row.decode(forColumn: "model"),
            kind: try row.decode(forColumn: "kind"),
            key: try row.decode(forColumn: "key"),
            payloadJSON: try row.decode(forColumn: "payload_json"),
            state: state,
            attempts: try row.decode(forColumn: "attempts"),
            nextAttemptAt: try row.date("next_attempt_at"),
            lastError: try row.decode(forColumn: "last_error"),
            episodeID: try row.decode(forColumn: "episode_id"),
            updatedAt: try row.date("updated_at"))
    }
}
