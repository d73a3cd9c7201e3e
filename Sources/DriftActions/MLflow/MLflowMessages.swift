// The MLflow REST API 2.0 bodies driftwatch sends and the answers it reads. Every value MLflow
// wants as a string (versions, params) is one; empty lists come back as absent keys.

/// `model-versions/set-tag`.
struct SetModelVersionTag: Encodable { var name, version, key, value: String }
/// `registered-models/alias` (POST).
struct SetRegisteredModelAlias: Encodable { var name, alias, version: String }
/// `registered-models/get-latest-versions`.
struct GetLatestVersions: Encodable { var name: String; var stages: [String] }
/// `experiments/create`.
struct CreateExperiment: Encodable { var name: String }
/// `runs/search`.
struct SearchRuns: Encodable {
    var experimentIDs: [String]
    var filter: String
    var maxResults: Int
    enum CodingKeys: String, CodingKey { case experimentIDs = "experiment_ids", filter, maxResults = "max_results" }
}
/// `runs/create`.
struct CreateRun: Encodable {
    var experimentID: String
    var runName: String
    var startTime: Int64
    var tags: [RunTag]
    enum CodingKeys: String, CodingKey { case experimentID = "experiment_id", runName = "run_name", startTime = "start_time", tags }
}
/// A run tag.
struct RunTag: Codable { var key, value: String }
/// `runs/log-batch`.
struct LogBatch: Encodable {
    var runID: String
    var metrics: [MLflowMetric]
    enum CodingKeys: String, CodingKey { case runID = "run_id", metrics }
}

/// An answer whose content driftwatch does not read (`{}`).
struct EmptyAnswer: Decodable {}
/// MLflow's error body.
struct ErrorAnswer: Decodable {
    var errorCode: String?
    var message: String?
    enum CodingKeys: String, CodingKey { case errorCode = "error_code", message }
}
/// `model_version` as MLflow answers it.
struct ModelVersionMessage: Decodable {
    var name: String
    var version: String
    var runID: String?
    var source: String?
    var status: String?
    enum CodingKeys: String, CodingKey { case name, version, runID = "run_id", source, status }
}
/// `get-latest-versions` and `model-versions/search`.
struct ModelVersionsAnswer: Decodable {
    var modelVersions: [ModelVersionMessage]?
    enum CodingKeys: String, CodingKey { case modelVersions = "model_versions" }
}
/// `registered-models/alias` (GET).
struct ModelVersionAnswer: Decodable {
    var modelVersion: ModelVersionMessage?
    enum CodingKeys: String, CodingKey { case modelVersion = "model_version" }
}
/// `runs/get`, `runs/create` (`run`), `runs/search` (`runs`).
struct RunMessage: Decodable {
    var info: Info
    var data: DataPart?

    struct Info: Decodable {
        var runID: String?
        var experimentID: String?
        var runName: String?
        enum CodingKeys: String, CodingKey { case runID = "run_id", experimentID = "experiment_id", runName = "run_name" }
    }
    struct DataPart: Decodable {
        var params: [Param]?
        var metrics: [Metric]?
    }
    struct Param: Decodable { var key: String; var value: String? }
    struct Metric: Decodable { var key: String; var value: Double }
}
/// `runs/get` and `runs/create`.
struct RunAnswer: Decodable { var run: RunMessage? }
/// `runs/search`.
struct RunsAnswer: Decodable { var runs: [RunMessage]? }
/// `experiments/get-by-name`.
struct ExperimentAnswer: Decodable {
    var experiment: Experiment?
    struct Experiment: Decodable {
        var experimentID: String
        enum CodingKeys: String, CodingKey { case experimentID = "experiment_id" }
    }
}
/// `experiments/create`.
struct CreatedExperimentAnswer: Decodable {
    var experimentID: String?
    enum CodingKeys: String, CodingKey { case experimentID = "experiment_id" }
}
