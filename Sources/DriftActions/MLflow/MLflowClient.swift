import AsyncHTTPClient
import DriftCore
import Foundation
import NIOCore
import NIOHTTP1

/// The MLflow REST API (2.0, as served by MLflow 3.x) — the calls driftwatch makes: registry
/// reads, run reads, artifacts, and the writes of `MLflowCall`. Errors are `DeliveryError`s
/// (`status` and MLflow's `error_code` as `code`).
public struct MLflowClient: Sendable {
    public let spec: MLflowSpec
    public var http: HTTPClient = OutboundHTTP.client
    /// Bounds how long a slow MLflow holds a baseline request or an outbox attempt.
    public var timeout: TimeAmount = .seconds(10)
    /// Artifact downloads (a training CSV can be large); asked only after an API call answered.
    public var downloadTimeout: TimeAmount = .seconds(300)

    public init(spec: MLflowSpec) { self.spec = spec }

    /// A registered model's version.
    public struct ModelVersion: Sendable, Equatable {
        public var name: String
        public var version: String
        public var runID: String
        public var source: String
        public var status: String
        public var number: Int { Int(version) ?? 0 }

        init(_ m: ModelVersionMessage) {
            name = m.name
            version = m.version
            runID = m.runID ?? ""
            source = m.source ?? ""
            status = m.status ?? "READY"
        }
    }

    /// A run's identity, params and latest metrics.
    public struct Run: Sendable {
        public var id: String
        public var experimentID: String
        public var name: String?
        public var params: [String: String]
        public var metrics: [String: Double]
    }

    // MARK: transport

    private var base: String { spec.url.withoutTrailingSlash }

    /// Read at every call: a mounted token may rotate.
    private func token() throws -> String? {
        if let file = spec.tokenFile {
            return try readBearerToken(file: file, of: "MLflow")
        }
        if let name = spec.tokenEnv {
            guard let t = ProcessInfo.processInfo.environment[name], !t.isEmpty else {
                throw DeliveryError(message: "the MLflow token variable \(name) is not set", retryable: false)
            }
            return t
        }
        return nil
    }

    private func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
                      limit: Int = 16 << 20, timeout: TimeAmount? = nil) async throws -> (Int, ByteBuffer) {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves "+" alone; MLflow's query parser would read it as a space.
        let encodedQuery = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        let url = base + path + encodedQuery
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "driftwatch/\(driftwatchVersion)")
        if let token = try token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: timeout ?? self.timeout)
            let answer = try await response.body.collect(upTo: limit)
            return (Int(response.status.code), answer)
        } catch {
            throw DeliveryError.transport("MLflow at \(base): \(method.rawValue) \(path)", error)
        }
    }

    /// One API call: the answer decoded as `Answer`; a non-2xx answer or one that does not
    /// decode is an error.
    private func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                                         body: (some Encodable)? = nil as EmptyBody?, as: Answer.Type) async throws -> Answer {
        let data = try body.map { try ActionJSON.wireEncoder.encode($0) }
        let (status, answer) = try await send(method, path, query: query, body: data)
        let bytes = Data(answer.readableBytesView)
        guard (200..<300).contains(status) else {
            // MLflow's error body when it is one; a proxy's page is shown as text.
            let body = ErrorBody<ErrorAnswer>(bytes)
            let text = body.structured?.message ?? body.text ?? ""
            throw DeliveryError.http("MLflow \(method.rawValue) \(path)", status: status, text: text, code: body.structured?.errorCode)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: bytes.isEmpty ? Data("{}".utf8) : bytes)
        } catch {
            throw DeliveryError(message: "MLflow \(method.rawValue) \(path): unreadable answer (\(error))", status: status, retryable: false)
        }
    }

    /// The body of a call that sends none.
    struct EmptyBody: Encodable {}

    // MARK: registry

    /// The version the alias (or the legacy stage) names.
    public func productionVersion() async throws -> ModelVersion {
        if let stage = spec.stage {
            let o = try await call(.POST, "/api/2.0/mlflow/registered-models/get-latest-versions",
                                   body: GetLatestVersions(name: spec.model, stages: [stage]), as: ModelVersionsAnswer.self)
            guard let v = (o.modelVersions ?? []).map(ModelVersion.init).max(by: { $0.number < $1.number }) else {
                throw DeliveryError(message: "MLflow: registered model \"\(spec.model)\" has no version in stage \(stage)", retryable: false)
            }
            return v
        }
        let alias = spec.productionAlias ?? "production"
        let o = try await call(.GET, "/api/2.0/mlflow/registered-models/alias", query: [("name", spec.model), ("alias", alias)],
                               as: ModelVersionAnswer.self)
        guard let v = o.modelVersion.map(ModelVersion.init) else {
            throw DeliveryError(message: "MLflow: alias \(alias) of \"\(spec.model)\" names no version", retryable: false)
        }
        return v
    }

    private var quotedModel: String { "'" + spec.model.replacingOccurrences(of: "'", with: "\\'") + "'" }

    /// The registered model's versions matching an MLflow search filter, oldest first.
    public func versions(filter: String) async throws -> [ModelVersion] {
        let o = try await call(.GET, "/api/2.0/mlflow/model-versions/search", query: [
            ("filter", filter), ("max_results", "200"), ("order_by", "version_number ASC"),
        ], as: ModelVersionsAnswer.self)
        return (o.modelVersions ?? []).map(ModelVersion.init)
    }

    /// Versions of the registered model registered after `version`, oldest first.
    public func versions(after version: Int) async throws -> [ModelVersion] {
        try await versions(filter: "name=\(quotedModel) AND version_number > \(version)")
    }

    /// The registered model's versions that came from `runID`.
    public func versions(ofRun runID: String) async throws -> [ModelVersion] {
        try await versions(filter: "name=\(quotedModel) AND run_id='\(runID)'")
    }

    /// Sets a tag on a model version (values over 5000 characters are cut).
    public func setVersionTag(version: String, key: String, value: String) async throws {
        _ = try await call(.POST, "/api/2.0/mlflow/model-versions/set-tag",
                           body: SetModelVersionTag(name: spec.model, version: version, key: key, value: String(value.prefix(5000))),
                           as: EmptyAnswer.self)
    }

    /// Points `alias` at `version`.
    public func setAlias(_ alias: String, version: String) async throws {
        _ = try await call(.POST, "/api/2.0/mlflow/registered-models/alias",
                           body: SetRegisteredModelAlias(name: spec.model, alias: alias, version: version), as: EmptyAnswer.self)
    }

    // MARK: runs

    /// A run's identity, params and metrics.
    public func run(_ id: String) async throws -> Run {
        let o = try await call(.GET, "/api/2.0/mlflow/runs/get", query: [("run_id", id)], as: RunAnswer.self)
        guard let run = o.run else { throw DeliveryError(message: "MLflow: run \(id) has no info", retryable: false) }
        var params: [String: String] = [:]
        for p in run.data?.params ?? [] { params[p.key] = p.value ?? "" }
        var metrics: [String: Double] = [:]
        for m in run.data?.metrics ?? [] { metrics[m.key] = m.value }
        return Run(id: id, experimentID: run.info.experimentID ?? "", name: run.info.runName, params: params, metrics: metrics)
    }

    /// An artifact of a run, through the tracking server (`/get-artifact`, which proxies the artifact store).
    public func artifact(runID: String, path: String, limit: Int) async throws -> [UInt8] {
        let (status, body) = try await send(.GET, "/get-artifact", query: [("path", path), ("run_uuid", runID)], limit: limit + 1,
                                            timeout: downloadTimeout)
        guard (200..<300).contains(status) else {
            let text = String(buffer: body).prefix(200).replacingOccurrences(of: "\n", with: " ")
            throw DeliveryError(message: "MLflow: artifact \(path) of run \(runID): HTTP \(status) \(text)", status: status,
                                retryable: status >= 500)
        }
        guard body.readableBytes <= limit else {
            throw DeliveryError(message: "MLflow: artifact \(path) is over the baseline limit of \(limit) bytes", retryable: false)
        }
        return Array(body.readableBytesView)
    }

    /// The experiment's id, created when missing.
    public func experimentID(_ name: String) async throws -> String {
        func byName() async throws -> String? {
            try await call(.GET, "/api/2.0/mlflow/experiments/get-by-name", query: [("experiment_name", name)],
                           as: ExperimentAnswer.self).experiment?.experimentID
        }
        do {
            if let id = try await byName() { return id }
        } catch let e as DeliveryError where e.code == "RESOURCE_DOES_NOT_EXIST" {}
        do {
            let o = try await call(.POST, "/api/2.0/mlflow/experiments/create", body: CreateExperiment(name: name), as: CreatedExperimentAnswer.self)
            if let id = o.experimentID { return id }
        } catch let e as DeliveryError where e.code == "RESOURCE_ALREADY_EXISTS" {
            // Created concurrently (or by a retry whose answer was lost): read it again.
            if let id = try await byName() { return id }
        }
        throw DeliveryError(message: "MLflow: experiment \(name) could not be read or created", retryable: true)
    }

    /// The monitoring run tagged `driftwatch.monitor = key` in the experiment, created when missing
    /// (searched first, so a retry after a lost answer finds the run instead of making a second).
    public func monitoringRun(experimentID: String, key: String, name: String, tags: [String: String]) async throws -> String {
        let escaped = key.replacingOccurrences(of: "'", with: "\\'")
        let found = try await call(.POST, "/api/2.0/mlflow/runs/search", body: SearchRuns(
            experimentIDs: [experimentID], filter: "tags.`driftwatch.monitor` = '\(escaped)'", maxResults: 1), as: RunsAnswer.self)
        if let id = found.runs?.first?.info.runID { return id }
        var all = tags
        all["driftwatch.monitor"] = key
        let created = try await call(.POST, "/api/2.0/mlflow/runs/create", body: CreateRun(
            experimentID: experimentID, runName: name, startTime: Int64(Date().timeIntervalSince1970 * 1000),
            tags: all.sorted { $0.key < $1.key }.map { RunTag(key: $0.key, value: $0.value) }), as: RunAnswer.self)
        guard let id = created.run?.info.runID else {
            throw DeliveryError(message: "MLflow: runs/create returned no run id", retryable: true)
        }
        return id
    }

    /// Metric points with the timestamps fixed when the call was decided: re-sending the same
    /// batch adds no second point (MLflow keys a point by key, value, timestamp and step).
    public func logBatch(runID: String, metrics: [MLflowMetric]) async throws {
        for start in stride(from: 0, to: metrics.count, by: 1000) {
            let slice = Array(metrics[start..<min(start + 1000, metrics.count)])
            _ = try await call(.POST, "/api/2.0/mlflow/runs/log-batch", body: LogBatch(runID: runID, metrics: slice), as: EmptyAnswer.self)
        }
    }
}
