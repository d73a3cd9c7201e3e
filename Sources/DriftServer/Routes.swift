import DriftActions
import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension DriftService {
    /// The whole HTTP API: method, path, who may call it, handler. The router, the
    /// authorization, the 405 answers and the OpenAPI document's test all read this one table.
    var routes: [APIRoute] {
        [
            APIRoute(.get, "/healthz", .open) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            },
            APIRoute(.get, "/readyz", .open) { _, _ in try await self.ready() },
            APIRoute(.get, "/metrics", .open) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
            },
            APIRoute(.get, "/openapi.json", .open) { _, _ in openAPIResponse() },

            APIRoute(.get, "/v1/models", .scope(.read)) { _, _ in try await self.listModels() },
            APIRoute(.put, "/v1/models/:model", .scope(.admin)) { request, context in try await self.putModel(request, context) },
            APIRoute(.get, "/v1/models/:model", .scope(.read)) { _, context in
                try jsonResponse(try await self.monitor(try context.parameters.require("model")).status())
            },
            APIRoute(.delete, "/v1/models/:model", .scope(.admin)) { _, context in
                try await self.deleteModel(try context.parameters.require("model"))
            },
            APIRoute(.put, "/v1/models/:model/baseline", .scope(.admin)) { request, context in try await self.putBaseline(request, context) },
            APIRoute(.post, "/v1/models/:model/observations", .scope(.ingest)) { request, context in
                try await self.postObservations(request, context)
            },
            APIRoute(.post, "/v1/models/:model/evaluate", .scope(.admin)) { _, context in
                try await self.evaluateNow(try context.parameters.require("model"))
            },
            APIRoute(.get, "/v1/models/:model/drift", .scope(.read)) { _, context in
                try await self.latestDrift(try context.parameters.require("model"))
            },
            APIRoute(.get, "/v1/models/:model/windows", .scope(.read)) { request, context in try await self.listWindows(request, context) },
            APIRoute(.get, "/v1/models/:model/episodes", .scope(.read)) { request, context in try await self.listEpisodes(request, context) },
            // Candidates come from the retraining job, with an ingest token like the sidecars'.
            APIRoute(.post, "/v1/models/:model/candidates", .scope(.ingest)) { request, context in try await self.postCandidate(request, context) },
            APIRoute(.get, "/v1/models/:model/candidates", .scope(.read)) { _, context in
                try await self.listCandidates(try context.parameters.require("model"))
            },
            APIRoute(.post, "/v1/models/:model/labels", .scope(.ingest)) { request, context in try await self.postLabels(request, context) },
            APIRoute(.get, "/v1/models/:model/quality", .scope(.read)) { request, context in try await self.getQuality(request, context) },
            APIRoute(.get, "/v1/models/:model/report", .scope(.read)) { request, context in
                let name = try context.parameters.require("model")
                let episode = try self.episodeParameter(request.uri.queryParameters["episode"].map(String.init))
                return try jsonResponse(try await self.reportDocument(name, episodeID: episode))
            },
            APIRoute(.post, "/v1/kserve", .kserveLogger) { request, context in try await self.postKServe(request, context) },

            // The on-call pages (HTML, no external assets).
            APIRoute(.get, "/", .scope(.read)) { _, _ in try await self.indexPage() },
            APIRoute(.get, "/models/:model", .scope(.read)) { _, context in
                htmlResponse(renderModelPage(try await self.reportDocument(try context.parameters.require("model"), episodeID: nil)))
            },
            APIRoute(.get, "/models/:model/episodes/:episode", .scope(.read)) { _, context in
                let id = try self.episodeParameter(context.parameters.get("episode"))
                return htmlResponse(renderModelPage(try await self.reportDocument(try context.parameters.require("model"), episodeID: id)))
            },
        ]
    }

    // MARK: health

    func ready() async throws -> Response {
        do { try store.ping() } catch { throw Problem(.serviceUnavailable, "store not ready: \(error)") }
        var missing: [String] = []
        for m in await models.all() where await m.baseline == nil { missing.append(m.name) }
        let body = ["status": "ready", "models_without_baseline": missing.joined(separator: ",")]
        return try jsonResponse(body)
    }

    // MARK: models

    func listModels() async throws -> Response {
        var out: [ModelMonitor.Status] = []
        for m in await models.all() { out.append(try await m.status()) }
        return try jsonResponse(["models": out])
    }

    func putModel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        guard isValidModelName(name) else { throw Problem.badRequest("model name \"\(name)\" must match \(modelNamePattern)") }
        try requireJSON(request, what: "model settings")
        let body = try await readBody(request, .settings)
        let settings = try decodeJSONBody(ModelSettings.self, body, what: "model settings")
        do { try settings.validate() } catch { throw Problem.unprocessable("model settings: \(error)") }
        guard !settings.features.isEmpty else { throw Problem.unprocessable("model settings: \"features\" must name at least one feature") }
        if await models.monitor(name) == nil { try await checkModelCapacity() }
        _ = try store.upsertModel(name: name, settingsJSON: try encodeSettings(settings), now: clock())
        let created: Bool
        if let existing = await models.monitor(name) {
            await existing.update(settings: settings)
            created = false
        } else {
            await models.insert(makeMonitor(name: name, settings: settings))
            created = true
        }
        return try jsonResponse(try await monitor(name).status(), status: created ? .created : .ok)
    }

    /// A new model would pass `max_models`: 409, before anything is stored.
    func checkModelCapacity() async throws {
        let count = await models.all().count
        guard count < config.maxModels else {
            throw Problem.conflict("the service holds \(count) models, the limit (max_models); delete a model or raise max_models")
        }
    }

    func deleteModel(_ name: String) async throws -> Response {
        _ = try await monitor(name)
        _ = try store.deleteModel(named: name)
        await models.remove(name)
        metrics.removeModel(name)
        return Response(status: .noContent)
    }

    // MARK: baseline

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
            plan.fixedKinds = Dictionary(uniqueKeysWithValues: (settings.features + (settings.prediction.map { [$0] } ?? [])).map { ($0.name, $0.kind) })
        }
        let table = try parseBaselineTable(body, contentType: contentType, plan: plan, name: name, predictionName: predictionName)
        guard table.rows > 0 else { throw Problem.unprocessable("baseline has a header but no rows") }

        // The model's schema: given, or inferred from the baseline's columns.
        let schema: ModelSettings
        if let settings {
            let columns = Set(table.columns.map(\.name))
            let absent = (settings.features + (settings.prediction.map { [$0] } ?? [])).map(\.name).filter { !columns.contains($0) }
            if !absent.isEmpty {
                throw Problem.unprocessable("baseline lacks the model's column(s): \(absent.joined(separator: ", "))")
            }
            schema = settings
        } else {
            if let p = predictionName, table.column(named: p) == nil {
                throw Problem.unprocessable("prediction column \"\(p)\" is not in the baseline's header")
            }
            let features = table.columns.filter { $0.name != predictionName }.map { ModelSettings.FeatureSpec(name: $0.name, kind: $0.kind) }
            let prediction = predictionName.flatMap { p in table.column(named: p).map { ModelSettings.FeatureSpec(name: p, kind: $0.kind) } }
            schema = ModelSettings(features: features, prediction: prediction)
            do { try schema.validate() } catch { throw Problem.unprocessable("baseline columns: \(error)") }
            guard !features.isEmpty else { throw Problem.unprocessable("baseline has no feature columns") }
        }
        let wanted = Set((schema.features + (schema.prediction.map { [$0] } ?? [])).map(\.name))
        var kept = table
        kept.columns = table.columns.filter { wanted.contains($0.name) }
        let profile = BaselineProfile(table: kept, config: schema.detector)
        let blob = BaselineCodec.encode(profile)
        if existing == nil {
            try await checkModelCapacity()
            _ = try store.upsertModel(name: name, settingsJSON: try encodeSettings(schema), now: clock())
            await models.insert(makeMonitor(name: name, settings: schema))
        }
        let metadata = String(decoding: try reportEncoder.encode(["content_type": contentType ?? "", "bytes": String(body.count)]), as: UTF8.self)
        let source = mlflow.map { "MLflow run \($0.link.runID) artifact \($0.link.artifact)" } ?? "PUT /v1/models/\(name)/baseline"
        let record = try store.insertBaseline(model: name, source: source, rows: table.rows,
                                              profile: Data(blob), metadataJSON: metadata, now: clock())
        if let mlflow {
            try store.saveMLflowLink(model: name, baselineVersion: record.version,
                                     json: String(decoding: try reportEncoder.encode(mlflow.link), as: UTF8.self))
            // Versions registered so far are not candidates: the registry watch starts here.
            if let newest = try? await mlflow.client.versions(after: 0).map(\.number).max() {
                try store.setMLflowLastVersion(model: name, version: newest)
            }
        }
        let m = try await monitor(name)
        let multivariate = MultivariateBaseline.fit(baseline: kept, settings: schema, version: record.version)
        if let multivariate {
            try store.saveMultivariateBaseline(model: name, baselineVersion: record.version,
                                               json: String(decoding: try reportEncoder.encode(multivariate), as: UTF8.self))
        }
        await m.install(baseline: profile, version: record.version, multivariate: multivariate, mlflowLink: mlflow?.link)
        var labelledRows: Int?
        if let spec = schema.quality {
            // The labelled baseline: its quality (the reference for degradation) and the
            // calibrator of the estimate.
            guard case .numeric(let labelColumn)? = table.column(named: spec.label) else {
                throw Problem.unprocessable("quality: the baseline needs a numeric label column \"\(spec.label)\" (0/1 for binary)")
            }
            guard let p = schema.prediction?.name, case .numeric(let scoreColumn)? = table.column(named: p) else {
                throw Problem.unprocessable("quality: the baseline's prediction column must be numeric (the score)")
            }
            if let q = QualityBaseline.make(spec: spec, version: record.version, scores: scoreColumn.values, labels: labelColumn.values) {
                try store.saveQualityBaseline(model: name, baselineVersion: record.version,
                                              json: String(decoding: try reportEncoder.encode(q), as: UTF8.self))
                await m.install(qualityBaseline: q)
                labelledRows = q.rows
            }
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
            features: profile.features.map { FeatureSummary(name: $0.name, kind: $0.kind, values: $0.quality.usable, missing: $0.quality.missing) },
            prediction: schema.prediction?.name, labelled_rows: labelledRows, mlflow: mlflow?.link)
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
        let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "text/csv"
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

    // MARK: ingest

    func postObservations(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        let receivedAt = clock()
        // The body is read before an ingest slot is taken: a slow or stalled sender waits on
        // its own deadline and never holds a slot that a working sender needs.
        let body = try await readIngestBody(request, model: name)
        guard await gate.enter() else {
            metrics.rejected(model: name, reason: "backpressure", 1)
            var p = Problem(.tooManyRequests, "the store is behind; retry after 1 s")
            p.headers[.retryAfter] = "1"
            throw p
        }
        do {
            let response = try await ingest(request, body: body, receivedAt: receivedAt, monitor: m, name: name)
            await gate.leave()
            return response
        } catch {
            await gate.leave()
            throw error
        }
    }

    private func ingest(_ request: Request, body: [UInt8], receivedAt: Date, monitor m: ModelMonitor, name: String) async throws -> Response {
        guard let format = IngestFormat(contentType: request.headers[.contentType], body: body) else {
            metrics.rejected(model: name, reason: "unsupported_media_type", 1)
            throw Problem(.unsupportedMediaType, "observations must be application/json (rows or columnar), application/x-ndjson or application/x-protobuf; got \(request.headers[.contentType] ?? "no Content-Type")")
        }
        let decoded: DecodedBatch
        do {
            decoded = try decodeObservations(body, format: format, maxRows: config.maxRowsPerRequest)
        } catch let e as IngestDecodingError {
            metrics.rejected(model: name, reason: "malformed", 1)
            throw Problem(e)
        }
        if !decoded.rejected.isEmpty { metrics.rejected(model: name, reason: "invalid_row", decoded.rejected.count) }
        guard await m.baseline != nil else {
            throw Problem.conflict("model \"\(name)\" has no baseline yet: PUT /v1/models/\(name)/baseline first")
        }
        let key = request.headers[.idempotencyKey]
        if let key, key.isEmpty || key.utf8.count > 256 {
            throw Problem.badRequest("Idempotency-Key must be 1–256 characters")
        }
        var appended: ModelMonitor.Appended?
        if decoded.batch.count > 0 {
            let payload = encodeBatchForStorage(decoded.batch)
            appended = try await m.append(decoded.batch, payload: payload, idempotencyKey: key, receivedAt: receivedAt)
        }
        return try jsonResponse(IngestAnswer(
            accepted: appended.map { $0.duplicate ? $0.rows : decoded.batch.count } ?? 0,
            rejected: decoded.rejected.count, rejections: Array(decoded.rejected.prefix(1000)),
            batchID: appended?.batchID, duplicate: appended?.duplicate ?? false,
            windowRows: appended?.windowRows, windowClosed: appended?.closed), status: .accepted)
    }

    struct IngestAnswer: Encodable {
        var accepted: Int
        var rejected: Int
        var rejections: [RejectedRow]
        var batchID: Int64?
        var duplicate: Bool
        var windowRows: Int?
        var windowClosed: Int?
        enum CodingKeys: String, CodingKey {
            case accepted, rejected, rejections, batchID = "batch_id", duplicate, windowRows = "window_rows", windowClosed = "window_closed"
        }
    }

    // MARK: windows and episodes

    func evaluateNow(_ name: String) async throws -> Response {
        let m = try await monitor(name)
        do {
            return try jsonResponse(try await m.closeNow())
        } catch let refusal as ModelMonitor.CloseRefusal {
            switch refusal {
            case .noBaseline: throw Problem.conflict("model \"\(name)\" has no baseline yet: PUT /v1/models/\(name)/baseline first")
            case .tooFewRows(let rows, let minRows):
                throw Problem.conflict("the open window holds \(rows) rows; min_rows is \(minRows)")
            }
        }
    }

    func latestDrift(_ name: String) async throws -> Response {
        let m = try await monitor(name)
        struct DriftAnswer: Encodable {
            var model: String
            var report: WindowReport?
            var episode: ModelMonitor.Status.EpisodeStatus
        }
        let status = try await m.status()
        return try jsonResponse(DriftAnswer(model: name, report: await m.lastReport, episode: status.episode))
    }

    func listWindows(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let limit = try limitParameter(request, default: 20)
        let windows = try store.windows(model: name, limit: limit)
        // Stored reports are JSON already: splice them, no re-encoding.
        var body = "{\"model\":\"\(name)\",\"windows\":["
        body += windows.map(\.reportJSON).joined(separator: ",")
        body += "]}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func listEpisodes(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let limit = try limitParameter(request, default: 20)
        let out = try store.episodes(model: name, limit: limit).map(episodeDocument)
        return try jsonResponse(["episodes": out])
    }

    private func limitParameter(_ request: Request, default d: Int) throws -> Int {
        guard let raw = request.uri.queryParameters.get("limit") else { return d }
        guard let n = Int(raw), (1...1000).contains(n) else { throw Problem.badRequest("limit must be an integer from 1 to 1000, got \"\(raw)\"") }
        return n
    }
}

/// A baseline given as JSON columnar observations, as a Table (features plus the prediction column).
func tableFromBatch(_ batch: ObservationBatch, predictionName: String?, plan: CSVColumnPlan) -> Table {
    var columns: [Column] = []
    var all = batch.features.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    if let p = batch.predictions { all.append((predictionName ?? "prediction", p)) }
    for (name, column) in all where !plan.ignore.contains(name) {
        var q = QualityCounts()
        q.total = batch.count
        let forcedCategorical = plan.categorical.contains(name) || plan.fixedKinds[name] == .categorical
        var anyText = false
        for r in 0..<batch.count { if case .text = column.cell(at: r) { anyText = true; break } }
        if forcedCategorical || (anyText && plan.fixedKinds[name] != .numeric) {
            var dict: [String] = []
            var index: [String: Int32] = [:]
            var codes: [Int32] = []
            for r in 0..<batch.count {
                let label: String
                switch column.cell(at: r) {
                case .missing: q.missing += 1; codes.append(-1); continue
                case .text(let s): label = s
                case .number(let v): label = categoryLabel(v)
                }
                if let c = index[label] { codes.append(c) } else {
                    index[label] = Int32(dict.count)
                    codes.append(Int32(dict.count))
                    dict.append(label)
                }
            }
            columns.append(.categorical(CategoricalColumn(name: name, codes: codes, dictionary: dict, quality: q)))
        } else {
            var values: [Double] = []
            values.reserveCapacity(batch.count)
            for r in 0..<batch.count {
                switch column.cell(at: r) {
                case .missing: q.missing += 1; values.append(.nan)
                case .text: q.wrongType += 1; values.append(.nan)
                case .number(let v):
                    if v.isNaN { q.nan += 1 } else if v == .infinity { q.positiveInfinity += 1 } else if v == -.infinity { q.negativeInfinity += 1 }
                    values.append(v)
                }
            }
            columns.append(.numeric(NumericColumn(name: name, values: values, quality: q)))
        }
    }
    return Table(source: "baseline", rows: batch.count, columns: columns)
}

// MARK: candidates

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
        let metricsJSON = String(decoding: try reportEncoder.encode(posted.metrics ?? [:]), as: UTF8.self)
        let record: CandidateRecord
        do {
            if let v = posted.mlflowVersion, Int(v) == nil {
                throw Problem.unprocessable("candidate: mlflow_version must be a model version number, got \"\(v)\"")
            }
            record = try await m.addCandidate(version: posted.version, modelURI: posted.modelURI, metricsJSON: metricsJSON,
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
        var shadow_state: String?
        var verdict: String
        var decision: GateDecision?
        var created_at: Double
        var mlflow_version: String?
    }

    private func candidateAnswer(_ c: CandidateRecord) throws -> CandidateAnswer {
        let shadowState = try store.remediations(model: c.model, kindPrefix: "shadow", limit: 200).first { $0.name == c.shadowName }?.state
        return CandidateAnswer(
            version: c.version, model_uri: c.modelURI,
            metrics: (try? JSONDecoder().decode([String: Double].self, from: Data(c.metricsJSON.utf8))) ?? [:],
            episode_id: c.episodeID, shadow: c.shadowName, shadow_state: shadowState, verdict: c.verdict,
            decision: c.decisionJSON.flatMap { try? JSONDecoder().decode(GateDecision.self, from: Data($0.utf8)) },
            created_at: c.createdAt.timeIntervalSince1970, mlflow_version: c.mlflowVersion)
    }
}

// MARK: labels and quality

extension DriftService {
    /// `POST /v1/models/{model}/labels`: delayed labels by prediction id (rows, columnar or
    /// NDJSON). Joined now when the prediction is stored, else kept pending and retried until
    /// `label_horizon_hours`. Re-sending a label counts once (`duplicate`).
    func postLabels(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        guard await m.settings.quality != nil else {
            throw Problem.conflict("model \"\(name)\" has no quality settings: add \"quality\" (task, threshold, label…) with PUT /v1/models/\(name)")
        }
        let body = try await readBody(request, .ingest)
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "application/json"
        guard type == "application/json" || type == "application/x-ndjson" else {
            throw Problem(.unsupportedMediaType, "labels must be application/json or application/x-ndjson, got \(type)")
        }
        let decoded: DecodedLabels
        do {
            decoded = try decodeLabels(body, ndjson: type == "application/x-ndjson", maxRows: config.maxLabelRows)
        } catch {
            throw Problem(error)
        }
        let (labels, rejected) = (decoded.labels, decoded.rejected)
        if !rejected.isEmpty { metrics.labels(model: name, outcome: "rejected", rejected.count) }
        let counts = try await m.ingestLabels(labels, now: clock())
        struct Answer: Encodable {
            var accepted: Int
            var joined: Int
            var late: Int
            var pending: Int
            var duplicate: Int
            var rejected: Int
            var rejections: [RejectedRow]
        }
        return try jsonResponse(Answer(accepted: labels.count, joined: counts["joined"] ?? 0, late: counts["late"] ?? 0,
                                       pending: counts["pending"] ?? 0, duplicate: counts["duplicate"] ?? 0,
                                       rejected: rejected.count, rejections: Array(rejected.prefix(100))), status: .accepted)
    }

    /// `GET /v1/models/{model}/quality?limit=N`: baseline quality, per-window quality (realized,
    /// estimated, segments, verdict), label counts, quality-episode state.
    func getQuality(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        guard let spec = await m.settings.quality else {
            throw Problem.conflict("model \"\(name)\" has no quality settings")
        }
        let limit = try limitParameter(request, default: 20)
        struct Answer: Encodable {
            var task: String
            var metric: String
            var tolerance: Double
            var baseline: QualityBaseline?
            var labels: [String: Int]
            var episode_state: String
            var windows: [WindowQuality]
        }
        let windows = try store.windowQualities(model: name, limit: limit).compactMap {
            try? JSONDecoder().decode(WindowQuality.self, from: Data($0.json.utf8))
        }
        var baseline = await m.qualityBaselineReport
        baseline?.calibrator = nil  // internal; large
        return try jsonResponse(Answer(task: spec.task.rawValue, metric: spec.metric, tolerance: spec.tolerance, baseline: baseline,
                                       labels: try store.labelCounts(model: name),
                                       episode_state: (await m.qualityState ?? .ok).rawValue, windows: windows))
    }
}

// MARK: report pages

func htmlResponse(_ html: String) -> Response {
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
}

extension DriftService {
    func episodeParameter(_ text: String?) throws -> Int64? {
        guard let text else { return nil }
        guard let id = Int64(text), id > 0 else { throw Problem.badRequest("episode must be a positive integer, got \"\(text)\"") }
        return id
    }

    func indexPage() async throws -> Response {
        var rows: [(name: String, state: String, worst: [String], lastWindow: Double?, rows: Int)] = []
        for m in await models.all() {
            let s = try await m.status()
            rows.append((s.model, s.episode.state.rawValue, s.lastWindow?.worstFeatures ?? [], s.lastWindow?.endedAt, s.observationsStored))
        }
        return htmlResponse(renderIndexPage(rows))
    }
}
