import DriftCore
import Foundation

/// One metric point of a monitoring run.
public struct MLflowMetric: Codable, Sendable, Equatable {
    public var key: String
    public var value: Double
    /// Unix milliseconds.
    public var timestamp: Int64
    public var step: Int64

    public init(key: String, value: Double, timestamp: Int64, step: Int64) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
    }

    /// MLflow metric keys take letters, digits, `_ - . / ` and space; anything else becomes `_`.
    public static func key(_ s: String) -> String {
        String(s.unicodeScalars.map { c -> Character in
            let ok = (c.value < 128 && (CharacterSet.alphanumerics.contains(c) || "_-./ ".unicodeScalars.contains(c)))
            return ok ? Character(c) : "_"
        }.prefix(250))
    }
}

/// One MLflow write, stored as an outbox action (kind `mlflow`) and delivered until MLflow takes
/// it: tags on a model version, window figures on the monitoring run, an alias moved. Every part
/// is idempotent (tags and aliases overwrite, metric points carry fixed timestamps, the run is
/// found before it is created), so a retry never duplicates anything.
public struct MLflowCall: Codable, Sendable, Equatable {
    /// The settings when the call was decided (server, model, token source, experiment).
    public var spec: MLflowSpec
    /// driftwatch's model.
    public var model: String
    /// The model version; nil = the production version at delivery.
    public var version: String?
    public var tags: [String: String] = [:]
    public var metrics: [MLflowMetric] = []
    /// Move this alias to `version` after the tags.
    public var alias: String?
    public var episodeID: Int64?

    public init(spec: MLflowSpec, model: String, version: String?, tags: [String: String] = [:], metrics: [MLflowMetric] = [],
                alias: String? = nil, episodeID: Int64?) {
        self.spec = spec
        self.model = model
        self.version = version
        self.tags = tags
        self.metrics = metrics
        self.alias = alias
        self.episodeID = episodeID
    }

    enum CodingKeys: String, CodingKey { case spec, model, version, tags, metrics, alias, episodeID = "episode_id" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decode(MLflowSpec.self, forKey: .spec)
        model = try c.decode(String.self, forKey: .model)
        version = try c.decodeIfPresent(String.self, forKey: .version)
        tags = try c.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
        metrics = try c.decodeIfPresent([MLflowMetric].self, forKey: .metrics) ?? []
        alias = try c.decodeIfPresent(String.self, forKey: .alias)
        episodeID = try c.decodeIfPresent(Int64.self, forKey: .episodeID)
    }

    /// Performs the call: the tags (the verdict tag last), the metrics on the monitoring run,
    /// then the alias.
    public func perform() async throws {
        let client = MLflowClient(spec: spec)
        let version: String
        if let v = self.version { version = v } else { version = try await client.productionVersion().version }
        // The verdict tag last: whoever sees `driftwatch.drift_state` or `driftwatch.gate` sees the rest too.
        func last(_ key: String) -> Bool { key == "driftwatch.drift_state" || key == "driftwatch.gate" }
        for (key, value) in tags.sorted(by: { (last($0.key) ? 1 : 0, $0.key) < (last($1.key) ? 1 : 0, $1.key) }) {
            try await client.setVersionTag(version: version, key: key, value: value)
        }
        if !metrics.isEmpty {
            let experiment = try await client.experimentID(spec.experiment)
            let run = try await client.monitoringRun(
                experimentID: experiment, key: "\(model)/\(spec.model)/\(version)",
                name: "driftwatch \(model) · \(spec.model) v\(version)",
                tags: ["driftwatch.model": model, "driftwatch.registered_model": spec.model, "driftwatch.model_version": version])
            try await client.logBatch(runID: run, metrics: metrics)
        }
        if let alias { try await client.setAlias(alias, version: version) }
    }
}
