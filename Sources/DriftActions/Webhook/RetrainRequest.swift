/// What a retraining run is told: the webhook body as is, the env vars and labels of the Job,
/// the Argo parameters.
public struct RetrainRequest: Sendable, Codable, Equatable {
    public var model: String
    public var episodeID: Int64
    public var baselineVersion: Int?
    public var driftedFeatures: [String]
    /// Time range of the drifted data (Unix seconds): first drifted window start → confirming window end.
    public var driftFrom: Double
    public var driftTo: Double
    /// Where the job posts its candidate when it finishes.
    public var candidatesURL: String

    public init(model: String, episodeID: Int64, baselineVersion: Int?, driftedFeatures: [String], driftFrom: Double, driftTo: Double,
                candidatesURL: String) {
        self.model = model
        self.episodeID = episodeID
        self.baselineVersion = baselineVersion
        self.driftedFeatures = driftedFeatures
        self.driftFrom = driftFrom
        self.driftTo = driftTo
        self.candidatesURL = candidatesURL
    }

    enum CodingKeys: String, CodingKey {
        case model, episodeID = "episode_id", baselineVersion = "baseline_version", driftedFeatures = "drifted_features"
        case driftFrom = "drift_from", driftTo = "drift_to", candidatesURL = "candidates_url"
    }

    /// The run's name (Job, Workflow): one per episode.
    public var runName: String { dnsLabel("dw-retrain-\(model)-e\(episodeID)") }

    /// The `DRIFTWATCH_*` variables, in a fixed order.
    public var environment: [(String, String)] {
        [("DRIFTWATCH_MODEL", model), ("DRIFTWATCH_EPISODE_ID", String(episodeID)),
         ("DRIFTWATCH_BASELINE_VERSION", baselineVersion.map(String.init) ?? ""),
         ("DRIFTWATCH_DRIFTED_FEATURES", driftedFeatures.joined(separator: ",")),
         ("DRIFTWATCH_DRIFT_FROM", isoTime(driftFrom)), ("DRIFTWATCH_DRIFT_TO", isoTime(driftTo)),
         ("DRIFTWATCH_CANDIDATES_URL", candidatesURL)]
    }

    /// The labels of the run's objects.
    public var labels: [String: String] {
        ["app.kubernetes.io/managed-by": "driftwatch", "app.kubernetes.io/component": "retraining",
         "driftwatch.io/model": dnsLabel(model), "driftwatch.io/episode": String(episodeID)]
    }
}
