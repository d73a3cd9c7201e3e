import DriftCore
import Foundation
import PostgresNIO

// Remediations (retraining runs, shadow scorers, promotions) and the candidates they validate.
extension PostgresStore {
    static let remediationColumns = "id, model, episode_id, kind, name, state, detail, created_at, updated_at"
    static let candidateColumns = """
        model, version, model_uri, metrics_json, episode_id, shadow_name, verdict, decision_json, created_at, updated_at, mlflow_version
        """

    @discardableResult
    public func recordRemediation(model: String, episodeID: Int64?, kind: RemediationKind, name: String, state: RemediationState, detail: String?,
                                  now: Date) throws -> RemediationRecord {
        let t = now.timeIntervalSince1970
        return try requiringModel(model) {
            try write { s in
                guard let row = try s.rows("""
                    INSERT INTO remediations (model, episode_id, kind, name, state, detail, created_at, updated_at)
                    VALUES (\(model), \(episodeID), \(kind.rawValue), \(name), \(state.rawValue), \(detail), \(t), \(t))
                    ON CONFLICT (model, kind, name) DO UPDATE SET
                        state = excluded.state, detail = COALESCE(excluded.detail, remediations.detail), updated_at = excluded.updated_at
                    RETURNING \(unescaped: Self.remediationColumns)
                    """).first
                else { throw DriftStoreError.notFound("remediation \(kind) \(name)") }
                return try RemediationRecord(postgres: row)
            }
        }
    }

    public func remediations(model: String?, episodeID: Int64?, kinds: [RemediationKind]?, limit: Int) throws -> [RemediationRecord] {
        guard limit > 0 else { return [] }
        let kindList = (kinds ?? RemediationKind.allCases).map(\.rawValue)
        return try read { s in
            try s.rows("""
                SELECT \(unescaped: Self.remediationColumns) FROM remediations
                WHERE (\(model)::text IS NULL OR model = \(model)) AND (\(episodeID)::int8 IS NULL OR episode_id = \(episodeID))
                  AND kind = ANY(\(kindList)::text[])
                ORDER BY id DESC LIMIT \(limit)
                """).map(RemediationRecord.init(postgres:))
        }
    }

    public func insertCandidate(_ c: CandidateRecord) throws {
        let metricsJSON = try StoredJSON.encode(c.metrics)
        let decisionJSON = try c.decision.map(StoredJSON.encode)
        do {
            try requiringModel(c.model) {
                try write { s in
                    try s.execute("""
                        INSERT INTO candidates (model, version, model_uri, metrics_json, episode_id, shadow_name, verdict, decision_json,
                                                created_at, updated_at, mlflow_version)
                        VALUES (\(c.model), \(c.version), \(c.modelURI), \(metricsJSON), \(c.episodeID), \(c.shadowName), \(c.verdict.rawValue),
                                \(decisionJSON), \(c.createdAt.timeIntervalSince1970), \(c.updatedAt.timeIntervalSince1970), \(c.mlflowVersion))
                        """)
                }
            }
        } catch where Self.sqlState(error) == "23505" {
            throw DriftStoreError.conflict("candidate \(c.version) of model \(c.model) already exists")
        }
    }

    public func updateCandidate(model: String, version: String, decision: GateDecision, now: Date) throws {
        let decisionJSON = try StoredJSON.encode(decision)
        try write { s in
            let changed = try s.execute("""
                UPDATE candidates SET verdict = \(decision.verdict.rawValue), decision_json = \(decisionJSON), updated_at = \(now.timeIntervalSince1970)
                WHERE model = \(model) AND version = \(version)
                """)
            if changed == 0 { throw DriftStoreError.notFound("candidate \(version) of model \(model)") }
        }
    }

    public func candidates(model: String, limit: Int) throws -> [CandidateRecord] {
        guard limit > 0 else { return [] }
        return try read { s in
            try s.rows("""
                SELECT \(unescaped: Self.candidateColumns) FROM candidates WHERE model = \(model) ORDER BY created_at DESC, seq DESC LIMIT \(limit)
                """).map(CandidateRecord.init(postgres:))
        }
    }
}

extension RemediationRecord {
    init(postgres row: PostgresRow) throws {
        let (id, model, episodeID, kindText, name, stateText, detail, created, updated) =
            try row.decode((Int64, String, Int64?, String, String, String, String?, Double, Double).self)
        let key = "\(model) \(name)"
        self.init(
            id: id, model: model, episodeID: episodeID,
            kind: try storedEnum(RemediationKind.self, kindText, column: "kind", table: "remediations", key: key),
            name: name,
            state: try storedEnum(RemediationState.self, stateText, column: "state", table: "remediations", key: key),
            detail: detail, createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: updated))
    }
}

extension CandidateRecord {
    init(postgres row: PostgresRow) throws {
        let (model, version, uri, metricsJSON, episodeID, shadow, verdictText, decisionJSON, created, updated, mlflowVersion) =
            try row.decode((String, String, String, String, Int64?, String, String, String?, Double, Double, String?).self)
        let key = "\(model) candidate \(version)"
        self.init(
            model: model, version: version, modelURI: uri,
            metrics: try StoredJSON.decode([String: Double].self, metricsJSON, table: "candidates", key: key),
            episodeID: episodeID, shadowName: shadow,
            verdict: try storedEnum(GateVerdict.self, verdictText, column: "verdict", table: "candidates", key: key),
            decision: try decisionJSON.map { try StoredJSON.decode(GateDecision.self, $0, table: "candidates", key: key) },
            createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: updated), mlflowVersion: mlflowVersion)
    }
}
