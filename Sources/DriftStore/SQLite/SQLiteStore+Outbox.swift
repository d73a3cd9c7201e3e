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

    /// Pending actions whose next attempt is at or before `now`, earliest due first (ties by
    /// enqueue order).
    public func dueActions(now: Date, limit: Int) throws -> [ActionRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox
                    WHERE state = 'pending' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, id LIMIT ?
                    """,
                arguments: [now.unixSeconds, limit]
            ).map(ActionRecord.init(row:))
        }
    }

    /// The pending action of `kind` due first, whenever that is (the dispatcher's probe of a
    /// peer that was unreachable).
    public func earliestPendingAction(kind: String) throws -> ActionRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM outbox WHERE state = 'pending' AND kind = ? ORDER BY next_attempt_at, id LIMIT 1",
                arguments: [kind]
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

    /// A model's actions, newest first, optionally in one state.
    public func actions(model: String, state: ActionState?, limit: Int) throws -> [ActionRecord] {
        guard limit > 0 else { return [] }
        return try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE model = ? AND (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?",
                arguments: [model, state?.rawValue, state?.rawValue, limit]
            ).map(ActionRecord.init(row:))
        }
    }

    /// The action with this key (keys are unique across the store).
    public func action(key: String) throws -> ActionRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE key = ?", arguments: [key]).map(ActionRecord.init(row:))
        }
    }

    /// Actions per kind in `state` (the `driftwatch_actions_pending` and `_given_up` gauges).
    public func actionCounts(state: ActionState) throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) FROM outbox WHERE state = ? GROUP BY kind", arguments: [state.rawValue]) {
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

    /// Marks the action delivered (counts the attempt), pending or given up. Delivered is
    /// final; marking it again is a no-op.
    public func markDelivered(id: Int64, now: Date) throws {
        try updateGuarded(
            id: id,
            sql: """
                UPDATE outbox SET state = 'delivered', attempts = attempts + 1, updated_at = ?
                WHERE id = ? AND state <> 'delivered'
                """,
            arguments: [now.unixSeconds, id])
    }

    /// Records a failed attempt that will be retried: counts it, keeps `error`, and makes the
    /// action due again at `nextAttempt` (the caller computes the backoff). The action stays
    /// pending. A late failure report for an action no longer pending is ignored.
    public func markRetry(id: Int64, error: String, now: Date, nextAttempt: Date) throws {
        try updateGuarded(
            id: id,
            sql: """
                UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
                WHERE id = ? AND state = 'pending'
                """,
            arguments: [error, nextAttempt.unixSeconds, now.unixSeconds, id])
    }

    /// Records the last failed attempt: counts it, keeps `error`, and gives the action up.
    public func markGivenUp(id: Int64, error: String, now: Date) throws {
        try updateGuarded(
            id: id,
            sql: """
                UPDATE outbox SET state = 'given_up', attempts = attempts + 1, last_error = ?, updated_at = ?
                WHERE id = ? AND state = 'pending'
                """,
            arguments: [error, now.unixSeconds, id])
    }

    /// An admin's retry: a given-up (or pending) action is pending and due now, with a fresh
    /// budget of attempts (its last error is kept until the next attempt). A delivered action
    /// is a conflict. Returns the action as it is now.
    @discardableResult
    public func retryAction(model: String, key: String, now: Date) throws -> ActionRecord {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE key = ? AND model = ?", arguments: [key, model]) else {
                throw DriftStoreError.notFound("action \(key) of model \(model)")
            }
            let action = try ActionRecord(row: row)
            guard action.state != .delivered else {
                throw DriftStoreError.conflict("action \(key) was delivered; there is nothing to retry")
            }
            try db.execute(
                sql: "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                arguments: [now.unixSeconds, now.unixSeconds, action.id])
            var retried = action
            retried.state = .pending
            retried.attempts = 0
            retried.nextAttemptAt = now
            retried.updatedAt = now
            return retried
        }
    }

    /// Makes every pending action of `kind` due now (its peer answered again); returns how many.
    @discardableResult
    public func makeDue(kind: String, now: Date) throws -> Int {
        try write { db in
            try db.execute(
                sql: "UPDATE outbox SET next_attempt_at = ? WHERE kind = ? AND state = 'pending' AND next_attempt_at > ?",
                arguments: [now.unixSeconds, kind, now.unixSeconds])
            return db.changesCount
        }
    }

    /// Runs an update guarded by the action's state; throws `.notFound` only when the action
    /// does not exist at all.
    private func updateGuarded(id: Int64, sql: String, arguments: StatementArguments) throws {
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
        let key: String = try row.decode(forColumn: "key")
        let state = try storedEnum(ActionState.self, row, "state", table: "outbox", key: key)
        self.init(
            id: try row.decode(forColumn: "id"),
            model: try row.decode(forColumn: "model"),
            kind: try row.decode(forColumn: "kind"),
            key: key,
            payloadJSON: try row.decode(forColumn: "payload_json"),
            state: state,
            attempts: try row.decode(forColumn: "attempts"),
            nextAttemptAt: try row.date("next_attempt_at"),
            lastError: try row.decode(forColumn: "last_error"),
            episodeID: try row.decode(forColumn: "episode_id"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
