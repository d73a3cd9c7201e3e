import ArgumentParser
import AsyncHTTPClient
import DriftCore
import Foundation
import NIOCore
import NIOHTTP1

/// `driftwatch baseline`: sets a model's training baseline on a running service, from a CSV file
/// or from an MLflow run (the service downloads the run's training-data artifact).
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Set a model's baseline on the service: from a CSV file, an MLflow run, or the run behind MLflow's production alias.",
        discussion: """
            --file uploads a CSV. --mlflow-run RUN has the service read the run's training-data artifact \
            (--artifact, default the model's mlflow.baseline_artifact) through MLflow's REST API; --mlflow \
            does the same for the run behind the registered model's production alias (or stage). The model's \
            settings must name the MLflow server (\"mlflow\": {\"url\", \"model\", …}).
            """)

    @Option(help: "Model name.") var model: String
    @Option(help: "The driftwatch service.") var server = "http://127.0.0.1:8080"
    @Option(help: "A baseline CSV with a header row.") var file: String?
    @Option(name: .customLong("mlflow-run"), help: "An MLflow run id whose artifact is the training data.") var mlflowRun: String?
    @Flag(name: .customLong("mlflow"), help: "Use the run behind the registered model's production alias.") var mlflowProduction = false
    @Option(help: "The training-data artifact's path in the run (MLflow only).") var artifact: String?
    @Option(help: "The prediction column (CSV upload of a new model).") var prediction: String?
    @Option(help: "Comma-separated categorical columns (CSV upload).") var categorical: String?
    @Option(help: "table or json.") var format = "table"
    @Option(help: "Bearer token with the write scope (or DRIFTWATCH_TOKEN).") var token: String?

    func run() async throws {
        guard format == "table" || format == "json" else { throw UserFacingError(message: "--format must be table or json") }
        guard isValidModelName(model) else { throw UserFacingError(message: "model name \"\(model)\" must match \(modelNamePattern)") }
        let sources = [file != nil, mlflowRun != nil, mlflowProduction].filter { $0 }.count
        guard sources == 1 else { throw UserFacingError(message: "give exactly one of --file, --mlflow-run or --mlflow") }
        if artifact != nil && file != nil { throw UserFacingError(message: "--artifact goes with --mlflow-run or --mlflow, not --file") }

        var query: [URLQueryItem] = []
        var body = ByteBuffer()
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw UserFacingError(message: "\(file): cannot read") }
            body = ByteBuffer(bytes: data)
            if let prediction { query.append(URLQueryItem(name: "prediction", value: prediction)) }
            if let categorical { query.append(URLQueryItem(name: "categorical", value: categorical)) }
        } else {
            query.append(mlflowRun.map { URLQueryItem(name: "mlflow_run", value: $0) } ?? URLQueryItem(name: "source", value: "mlflow"))
            if let artifact { query.append(URLQueryItem(name: "artifact", value: artifact)) }
        }
        var components = URLComponents()
        components.queryItems = query
        let base = server.withoutTrailingSlash
        let url = base + "/v1/models/\(model)/baseline" + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        // A large CSV or an MLflow download takes a while.
        let (status, data) = try await requestService(.PUT, url: url, server: server, token: token, body: body, contentType: "text/csv",
                                                      timeout: .seconds(300))
        guard status == 201 else { throw serviceError(url: url, status: status, data: data) }
        guard let answer = try decodeServiceAnswer(BaselineAnswer.self, data: data, url: url, format: format) else { return }
        let prediction = answer.prediction
        let features = (answer.features ?? []).filter { $0.name != prediction }.count
        var line = "baseline version \(answer.version ?? 0) of \(model): \(answer.rows ?? 0) rows, \(features) features"
        if let prediction { line += " and the prediction \(prediction)" }
        if let m = answer.mlflow {
            line += "; MLflow run \(m.runID ?? "?") (\(m.artifact ?? "?"))"
            if let v = m.modelVersion { line += ", \(m.registeredModel ?? "model") version \(v)" }
        }
        print(line)
    }
}

/// The part of `PUT /v1/models/{model}/baseline`'s answer the text summary shows.
struct BaselineAnswer: Decodable {
    struct Feature: Decodable { var name: String }
    struct MLflow: Decodable {
        var runID: String?
        var artifact: String?
        var modelVersion: String?
        var registeredModel: String?
        enum CodingKeys: String, CodingKey { case runID = "run_id", artifact, modelVersion = "model_version", registeredModel = "registered_model" }
    }
    var version: Int?
    var rows: Int?
    var prediction: String?
    var features: [Feature]?
    var mlflow: MLflow?
}
