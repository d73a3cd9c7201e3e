/// What a baseline taken from MLflow came from: stored with the baseline version, shown by
/// `GET /v1/models/{model}` and the baseline upload's answer.
public struct MLflowLink: Codable, Sendable, Equatable {
    public var url: String
    public var registeredModel: String
    public var runID: String
    public var experimentID: String
    public var runName: String?
    /// The registered model's version that came from the run (nil when none did).
    public var modelVersion: String?
    public var artifact: String
    public var params: [String: String]
    public var metrics: [String: Double]

    enum CodingKeys: String, CodingKey {
        case url, registeredModel = "registered_model", runID = "run_id", experimentID = "experiment_id", runName = "run_name"
        case modelVersion = "model_version", artifact, params, metrics
    }

    public init(url: String, registeredModel: String, runID: String, experimentID: String, runName: String?,
                modelVersion: String?, artifact: String, params: [String: String], metrics: [String: Double]) {
        self.url = url
        self.registeredModel = registeredModel
        self.runID = runID
        self.experimentID = experimentID
        self.runName = runName
        self.modelVersion = modelVersion
        self.artifact = artifact
        self.params = params
        self.metrics = metrics
    }
}
