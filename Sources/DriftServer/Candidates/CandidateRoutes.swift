import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension DriftService {
    /// `POST /v1/models/{model}/candidates`, called by the retraining job when it finishes:
    /// `{"version": "2026-11-29.1", "model_uri": "s3://…", "metrics": {"auc": 0.91}}`. Starts the
    /// shadow scorer (when configured) and the validation gate.
    func postCandidate(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        let body = try await readBody(request, .ingest)
        struct Posted: Decodable {
            var version: String
            var modelURI: String
            var metrics: [String: Double]?
            /// The MLflow model version this candidate is (its gate verdict is written there).
            var mlflowVersion: String?
            enum CodingKeys: String, CodingKey, CaseIterable {
                case version, modelURI = "model_uri", metrics, mlflowVersion = "mlflow_version"
            }
            init(from decoder: Decoder) throws {
                try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                version = try c.decode(String.self, forKey: .version)
                modelURI = try c.decode(String.self, forKey: .modelURI)
                metrics = try c.decodeIfPresent([String: Double].self, forKey: .metrics)
                mlflowVersion = try c.decodeIfPresent(String.self, forKey: .mlflowVersion)
            }
        }
        try requireJSON(request, what: "a candidate")
        let posted = try decodeJSONBody(Posted.self, body, what: "candidate")
        guard isValidModelName(posted.version), posted.version.utf8.count <= 63 else {
            throw Problem.unprocessable("candidate: version \"\(posted.version)\" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
        }
        guard let scheme = URL(string: posted.modelURI)?.scheme, !scheme.isEmpty else {
            throw Problem.unprocessable("candidate: model_uri \"\(posted.modelURI)\" needs a scheme (s3://, gs://, pvc://, https://)")
        }
        guard remediation != nil else {
            throw Problem.conflict("remediation is not configured: a candidate has no shadow scorer or gate to go to (config `remediation`)")
        }
        let record: CandidateRecord
        do {
            if let v = posted.mlflowVersion, Int(v) == nil {
                throw Problem.unprocessable("candidate: mlflow_version must be a model version number, got \"\(v)\"")
            }
            record = try await m.addCandidate(version: posted.version, modelURI: posted.modelURI, metrics: posted.metrics ?? [:],
                                              mlflowVersion: posted.mlflowVersion)
        } catch DriftStoreError.conflict(let message) {
            throw Problem.conflict(message)
        }
        return try jsonResponse(candidateAnswer(record), status: .created)
    }

    func listCandidates(_ name: String) async throws -> Response {
        _ = try await monitor(name)
        return try jsonResponse(["candidates": try store.candidates(model: name).map(candidateAnswer)])
    }

    struct CandidateAnswer: Encodable {
        var version: String
        var model_uri: String
        var metrics: [String: Double]
        var episode_id: Int64?
        var shadow: String
        var shadow_state: RemediationState?
        var verdict: GateVerdict
        var decision: GateDecision?
        var created_at: Double
        var mlflow_version: String?
    }

    private func candidateAnswer(_ c: CandidateRecord) throws -> CandidateAnswer {
        let shadowState = try store.remediations(model: c.model, kinds: [.shadow], limit: 200).first { $0.name == c.shadowName }?.state
        return CandidateAnswer(
            version: c.version, model_uri: c.modelURI,
            metrics: c.metrics, episode_id: c.episodeID, shadow: c.shadowName, shadow_state: shadowState, verdict: c.verdict,
            decision: c.decision,
            created_at: c.createdAt.timeIntervalSince1970, mlflow_version: c.mlflowVersion)
    }
}
