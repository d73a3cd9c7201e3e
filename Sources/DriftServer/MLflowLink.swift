/// What a baseline taken from MLflow came from: stored with the baseline version, shown by
/// `GET /v1/models/{model}` and the baseline upload's answer.
struct MLflowLink: Codable, Sendable, Equatable {
    var url: String
    var registeredModel: String
    var runID: String
    var experimentID: String
    var runName: String?
    /// The registered model's version that came from the run (nil when none did).
    var modelVersion: String?
    var artifact: String
    var params: [String: String]
    var metrics: [String: Double]

    enum CodingKeys: String, CodingKey {
        case url, registeredModel = "registered_model", runID = "run_id", experimentID = "experiment_id", runName = "run_name"
        case modelVersion = "model_version", artifact, params, metrics
    }
}
