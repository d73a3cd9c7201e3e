import DriftCore
import Foundation
import GRDB

/// One thing driftwatch did about drift: a retraining run, a shadow scorer or a promotion,
/// with its last known state.
public struct RemediationRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var model: String
    public var episodeID: Int64?
    public var kind: RemediationKind
    public var name: String
    public var state: RemediationState
    public var detail: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// A retrained model posted by its training job, validated as a shadow scorer.
public struct CandidateRecord: Sendable, Equatable {
    public var model: String
    public var version: String
    public var modelURI: String
    /// The metrics its training job reported.
    public var metrics: [String: Double]
    public var episodeID: Int64?
    public var shadowName: String
    public var verdict: GateVerdict
    /// The gate's latest decision (nil before the first window judged it).
    public var decision: GateDecision?
    public var createdAt: Date
    public var updatedAt: Date
    /// The MLflow model version this candidate is (its gate verdict is written back there).
    public var mlflowVersion: String?

    public init(model: String, version: String, modelURI: String, metrics: [String: Double], episodeID: Int64?,
                shadowName: String, verdict: GateVerdict, decision: GateDecision?, createdAt: Date, updatedAt: Date,
                mlflowVersion: String? = nil) {
        self.mlflowVersion = mlflowVersion
        self.model = model
        self.version = version
        self.modelURI = modelURI
        self.metrics = metrics
        self.episodeID = episodeID
        self.shadowName = shadowName
        self.verdict = verdict
        self.decision = decision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension SQLiteStore {
    /// Records (or updates the state of) a remediation, unique per (model, kind, name).
    @discardableResult
    public func recordRemediation(
        model: String, episodeID: Int64?, kind: RemediationKind, name: String, state: RemediationState, detail: String?, now: Date
    ) throws -> RemediationRecord {
        try requiringModel(model) {
            try write { db in
                try db.execute(
                    sql: """
                        INSERT INTO remediations (model, episode_id, kind, name, state, detail, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (model, kind, name) DO UPDATE SET
                            state = excluded.state, detail = COALESCE(excluded.detail, detail),
                            updated_at = excluded.updated_at
                        """,
                    arguments: [model, episodeID, kind.rawValue, name, state.rawValue, detail, now.unixSeconds, now.unixSeconds])
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM remediations WHERE model = ? AND kind = ? AND name = ?",
                    arguments: [model, kind.rawValue, name])
                else { throw DriftStoreError.notFound("remediation \(kind) \(name)") }
                return try RemediationRecord(row: row)
            }
        }
    }

    /// Remediations, newest first: of one model or every model, of one episode or all, of the
    /// given kinds (nil: every kind).
    public func remediations(model: String?, episodeID: Int64?, kinds: [RemediationKind]?, limit: Int) throws -> [RemediationRecord] {
        let kindList = (kinds ?? RemediationKind.allCases).map(\.rawValue)
        let placeholders = Array(repeating: "?", count: kindList.count).joined(separator: ", ")
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM remediations
                    WHERE (? IS NULL OR model = ?) AND (? IS NULL OR episode_id = ?) AND kind IN (\(placeholders))
                    ORDER BY id DESC LIMIT ?
                    """,
                arguments: StatementArguments([model, model, episodeID, episodeID] as [(any DatabaseValueConvertible)?])
                    + StatementArguments(kindList) + StatementArguments([limit])
            ).map(RemediationRecord.init(row:))
        }
    }

    public func insertCandidate(_ c: CandidateRecord) throws {
        let metricsJSON = try StoredJSON.encode(c.metrics)
        let decisionJSON = try c.decision.map(StoredJSON.encode)
        try requiringModel(c.model) {
            try write { db in
                do {
                    try db.execute(
                        sql: """
                            INSERT INTO candidates (model, version, model_uri, metrics_json, episode_id, shadow_name,
                                                    verdict, decision_json, created_at, updated_at, mlflow_version)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [c.model, c.version, c.modelURI, metricsJSON, c.episodeID, c.shadowName,
                                    c.verdict.rawValue, decisionJSON, c.createdAt.unixSeconds, c.updatedAt.unixSeconds, c.mlflowVersion])
                } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
                    throw DriftStoreError.conflict("candidate \(c.version) of model \(c.model) already exists")
                }
            }
        }
    }

    /// Records the gate's decision (and so its verdict) on a candidate.
    public func updateCandidate(model: String, version: String, decision: GateDecision, now: Date) throws {
        let verdict = decision.verdict.rawValue
        let decisionJSON = try StoredJSON.encode(decision)
        try write { db in
            try db.execute(
                sql: "UPDATE candidates SET verdict = ?, decision_json = ?, updated_at = ? WHERE model = ? AND version = ?",
                arguments: [verdict, decisionJSON, now.unixSeconds, model, version])
            if db.changesCount == 0 { throw DriftStoreError.notFound("candidate \(version) of model \(model)") }
        }
    }

    /// The model's candidates, newest first.
    public func candidates(model: String, limit: Int = 50) throws -> [CandidateRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM candidates WHERE model = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                arguments: [model, limit]
            ).map(CandidateRecord.init(row:))
        }
    }
}

extension RemediationRecord {
    init(row: Row) throws {
        let name: String = try row.decode(forColumn: "name")
        let model: String = try row.decode(forColumn: "model")
        let key = "\(model) \(name)"
        self.init(
            id: try row.decode(forColumn: "id"), model: model,
            episodeID: try row.decode(forColumn: "episode_id"),
            kind: try storedEnum(RemediationKind.self, row, "kind", table: "remediations", key: key),
            name: name,
            state: try storedEnum(RemediationState.self, row, "state", table: "remediations", key: key),
            detail: try row.decode(forColumn: "detail"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension CandidateRecord {
    init(row: Row) throws {
        let model: String = try row.decode(forColumn: "model")
        let version: String = try row.decode(forColumn: "version")
        let key = "\(model) candidate \(version)"
        let decisionJSON: String? = try row.decode(forColumn: "decision_json")
        self.init(
            model: model, version: version, modelURI: try row.decode(forColumn: "model_uri"),
            metrics: try StoredJSON.decode([String: Double].self, try row.decode(forColumn: "metrics_json"), table: "candidates", key: key),
            episodeID: try row.decode(forColumn: "episode_id"), shadowName: try row.decode(forColumn: "shadow_name"),
            verdict: try storedEnum(GateVerdict.self, row, "verdict", table: "candidates", key: key),
            decision: try decisionJSON.map { try StoredJSON.decode(GateDecision.self, $0, table: "candidates", key: key) },
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            mlflowVersion: try row.decode(forColumn: "mlflow_version"))
    }
}
