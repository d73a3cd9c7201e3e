import DriftActions
import DriftTabular
import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

// PUT /v1/models/{model}/baseline: a CSV or JSON body, or an MLflow run's artifact.
extension DriftService {
    func putBaseline(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        guard isValidModelName(name) else { throw Problem.badRequest("model name \"\(name)\" must match \(modelNamePattern)") }
        let q = request.uri.queryParameters
        var body: [UInt8]
        var contentType = request.headers[.contentType]
        var mlflow: (link: MLflowLink, client: MLflowClient)?
        if q.get("mlflow_run") != nil || q.get("source") == "mlflow" {
            let fetched = try await baselineFromMLflow(model: name, run: q.get("mlflow_run"), artifact: q.get("artifact"))
            body = fetched.bytes
            contentType = "text/csv"
            mlflow = (fetched.link, fetched.client)
        } else {
            body = try await readBody(request, .baseline)
        }
        func list(_ key: String) -> [String] {
            q.get(key).map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
        }
        let existing = await models.monitor(name)
        let settings = await existing?.settings
        let predictionName = q.get("prediction") ?? settings?.prediction?.name
        let idColumns = Set(list("id") + list("timestamp"))
        var plan = CSVColumnPlan(categorical: Set(list("categorical")), ignore: idColumns)
        if let settings {
            plan.fixedKinds = Dictionary(uniqueKeysWithValues: settings.columns.map { ($0.name, $0.kind) })
        }
        let table = try parseBaselineTable(body, contentType: contentType, plan: plan, name: name, predictionName: predictionName)
        let prepared = try PreparedBaseline(table: table, settings: settings, predictionName: predictionName)
        let schema = prepared.schema
        if existing == nil {
            try await checkModelCapacity()
            _ = try store.upsertModel(name: name, settings: schema, now: clock())
            await models.insert(makeMonitor(name: name, settings: schema))
        }
        let source = mlflow.map { "MLflow run \($0.link.runID) artifact \($0.link.artifact)" } ?? "PUT /v1/models/\(name)/baseline"
        let record = try store.insertBaseline(model: name, source: source, profile: prepared.profile,
                                              upload: BaselineUpload(contentType: contentType ?? "", bytes: body.count), now: clock())
        if let mlflow {
            try store.saveMLflowLink(model: name, MLflowLinkRecord(baselineVersion: record.version, link: mlflow.link))
            // Versions registered so far are not candidates: the registry watch starts here. If
            // the registry cannot be listed now, the watch starts from its first poll instead.
            do {
                if let newest = try await mlflow.client.versions(after: 0).map(\.number).max() {
                    try store.setMLflowLastVersion(model: name, version: newest)
                }
            } catch {
                logger.warning("mlflow registry not listed; the registry watch starts at its first poll",
                               metadata: ["model": .string(name), "error": .string("\(error)")])
            }
        }
        let m = try await monitor(name)
        let multivariate = prepared.multivariate(version: record.version)
        if let multivariate { try store.saveMultivariateBaseline(model: name, multivariate) }
        await m.install(baseline: prepared.profile, version: record.version, multivariate: multivariate, mlflowLink: mlflow?.link)
        let quality = prepared.quality(version: record.version)
        if let quality {
            try store.saveQualityBaseline(model: name, quality)
            await m.install(qualityBaseline: quality)
        }
        struct FeatureSummary: Encodable {
            var name: String
            var kind: FeatureKind
            var values: Int
            var missing: Int
        }
        struct BaselineAnswer: Encodable {
            var model: String
            var version: Int
            var rows: Int
            var created_model: Bool
            var features: [FeatureSummary]
            var prediction: String?
            var labelled_rows: Int?
            var mlflow: MLflowLink?
        }
        let answer = BaselineAnswer(
            model: name, version: record.version, rows: table.rows, created_model: existing == nil,
            features: prepared.profile.features.map { FeatureSummary(name: $0.name, kind: $0.kind, values: $0.quality.usable, missing: $0.quality.missing) },
            prediction: schema.prediction?.name, labelled_rows: quality?.rows, mlflow: mlflow?.link)
        return try jsonResponse(answer, status: .created)
    }

    /// The training data of an MLflow run: the run named, or the one behind the registered model's
    /// production alias (or stage); its artifact downloaded through the tracking server. MLflow
    /// errors are 502 (unreachable, 5xx) or 422 (no such run, alias or artifact) and change nothing.
    private func baselineFromMLflow(model name: String, run: String?, artifact: String?) async throws
        -> (bytes: [UInt8], link: MLflowLink, client: MLflowClient)
    {
        guard let spec = await models.monitor(name)?.settings.mlflow else {
            throw Problem.unprocessable("model \(name) has no MLflow settings: PUT /v1/models/\(name) with \"mlflow\": {\"url\": …, \"model\": …} first")
        }
        let path = artifact ?? spec.baselineArtifact
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw Problem.badRequest("artifact must be a path inside the run's artifacts, got \"\(path)\"")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") || lower.hasSuffix(".pq") {
            throw Problem(.unsupportedMediaType, "artifact \(path): Parquet is not read (no maintained Swift Parquet reader is available to this build); log the training data as CSV (optionally .csv.gz)")
        }
        if let run, !(1...64).contains(run.count) || !run.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            throw Problem.badRequest("mlflow_run must be a run id, got \"\(run)\"")
        }
        let client = MLflowClient(spec: spec)
        do {
            var runID = run
            var version: String?
            if runID == nil {
                let production = try await client.productionVersion()
                runID = production.runID
                version = production.version
            }
            guard let runID, !runID.isEmpty else { throw Problem.unprocessable("MLflow: the production version of \(spec.model) names no run") }
            let info = try await client.run(runID)
            if version == nil { version = try await client.versions(ofRun: runID).max { $0.number < $1.number }?.version }
            var bytes = try await client.artifact(runID: runID, path: path, limit: config.maxBaselineBytes)
            if lower.hasSuffix(".gz") {
                do { bytes = try gunzip(bytes, maxOutput: config.maxBaselineBytes) } catch {
                    throw Problem.unprocessable("artifact \(path): gzip could not be decoded: \(error)")
                }
            }
            let link = MLflowLink(url: spec.url, registeredModel: spec.model, runID: runID, experimentID: info.experimentID, runName: info.name,
                                  modelVersion: version, artifact: path, params: info.params, metrics: info.metrics)
            return (bytes, link, client)
        } catch let e as DeliveryError {
            if e.retryable || e.status == nil { throw Problem(.badGateway, e.message) }
            throw Problem.unprocessable(e.message)
        }
    }

    private func parseBaselineTable(_ body: [UInt8], contentType: String?, plan: CSVColumnPlan, name: String, predictionName: String?) throws -> Table {
        let type = contentType.map(mediaType(of:)) ?? "text/csv"
        switch type {
        case "text/csv", "application/csv":
            do {
                return try readCSVTable(bytes: body, source: "baseline", plan: plan)
            } catch let e as InputError {
                throw Problem.badRequest("baseline CSV: \(e.description)")
            }
        case "application/json":
            // JSON columnar, the same shape as columnar observations: {"features":{…},"predictions":[…]}.
            let decoded: DecodedBatch
            do {
                decoded = try decodeObservations(body, format: .jsonColumnar)
            } catch let e as IngestDecodingError {
                throw Problem.badRequest("baseline JSON: \(e.message)")
            }
            return tableFromBatch(decoded.batch, predictionName: predictionName, plan: plan)
        default:
            throw Problem(.unsupportedMediaType, "baseline must be text/csv (with a header row) or application/json (columnar), got \(type)")
        }
    }
}
