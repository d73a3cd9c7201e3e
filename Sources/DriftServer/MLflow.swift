import AsyncHTTPClient
import DriftCore
import DriftStore
import Foundation
import NIOCore
import NIOHTTP1

/// A failed MLflow call: what went wrong in one line, and whether a retry can help.
struct MLflowError: Error, CustomStringConvertible {
    var message: String
    var status: Int?
    /// MLflow's `error_code` (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, …).
    var code: String?
    var retryable: Bool
    var description: String { message }
}

/// The MLflow REST API (2.0, as served by MLflow 3.x) — the calls driftwatch makes. Every value
/// MLflow wants as a string (versions, params) is sent as one; empty lists come back as absent keys.
struct MLflowClient: Sendable {
    let spec: MLflowSpec
    var http: HTTPClient = .shared
    /// A refused connection is retried by AsyncHTTPClient until the deadline: 10 s bounds how
    /// long an unreachable MLflow holds a baseline request or an outbox attempt.
    var timeout: TimeAmount = .seconds(10)
    /// Artifact downloads (a training CSV can be large); asked only after an API call answered.
    var downloadTimeout: TimeAmount = .seconds(300)

    struct ModelVersion: Sendable, Equatable {
        var name: String
        var version: String
        var runID: String
        var source: String
        var status: String
        var number: Int { Int(version) ?? 0 }

        init?(_ o: [String: Any]) {
            guard let name = o["name"] as? String, let version = o["version"] as? String else { return nil }
            self.name = name
            self.version = version
            runID = o["run_id"] as? String ?? ""
            source = o["source"] as? String ?? ""
            status = o["status"] as? String ?? "READY"
        }
    }

    struct Run: Sendable {
        var id: String
        var experimentID: String
        var name: String?
        var params: [String: String]
        var metrics: [String: Double]
    }

    // MARK: transport

    private var base: String { spec.url.hasSuffix("/") ? String(spec.url.dropLast()) : spec.url }

    /// Read at every call: a mounted token may rotate.
    private func token() throws -> String? {
        if let file = spec.tokenFile {
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw MLflowError(message: "cannot read the MLflow token file \(file)", retryable: true)
            }
            return t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let name = spec.tokenEnv {
            guard let t = ProcessInfo.processInfo.environment[name], !t.isEmpty else {
                throw MLflowError(message: "the MLflow token variable \(name) is not set", retryable: false)
            }
            return t
        }
        return nil
    }

    private func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], json: [String: Any]? = nil,
                      limit: Int = 16 << 20, timeout: TimeAmount? = nil) async throws -> (Int, ByteBuffer) {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves "+" alone; MLflow's query parser would read it as a space.
        let encodedQuery = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        let url = base + path + encodedQuery
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "driftwatch/\(driftwatchServiceVersion)")
        if let token = try token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
        }
        do {
            let response = try await http.execute(request, timeout: timeout ?? self.timeout)
            let body = try await response.body.collect(upTo: limit)
            return (Int(response.status.code), body)
        } catch let e as MLflowError {
            throw e
        } catch {
            throw MLflowError(message: "MLflow at \(base): \(method.rawValue) \(path): \(error)", retryable: true)
        }
    }

    private func call(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], json: [String: Any]? = nil) async throws -> [String: Any] {
        let (status, body) = try await send(method, path, query: query, json: json)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
        guard (200..<300).contains(status) else {
            let code = object?["error_code"] as? String
            let text = (object?["message"] as? String) ?? String(buffer: body).prefix(200).replacingOccurrences(of: "\n", with: " ")
            throw MLflowError(message: "MLflow \(method.rawValue) \(path): HTTP \(status) \(code.map { "\($0): " } ?? "")\(text)",
                              status: status, code: code, retryable: status >= 500 || status == 429 || status == 408)
        }
        return object ?? [:]
    }

    // MARK: registry

    /// The version the alias (or the legacy stage) names.
    func productionVersion() async throws -> ModelVersion {
        if let stage = spec.stage {
            let o = try await call(.POST, "/api/2.0/mlflow/registered-models/get-latest-versions", json: ["name": spec.model, "stages": [stage]])
            guard let v = (o["model_versions"] as? [[String: Any]] ?? []).compactMap(ModelVersion.init).max(by: { $0.number < $1.number }) else {
                throw MLflowError(message: "MLflow: registered model \"\(spec.model)\" has no version in stage \(stage)", retryable: false)
            }
            return v
        }
        let alias = spec.productionAlias ?? "production"
        let o = try await call(.GET, "/api/2.0/mlflow/registered-models/alias", query: [("name", spec.model), ("alias", alias)])
        guard let v = (o["model_version"] as? [String: Any]).flatMap(ModelVersion.init) else {
            throw MLflowError(message: "MLflow: alias \(alias) of \"\(spec.model)\" names no version", retryable: false)
        }
        return v
    }

    private var quotedModel: String { "'" + spec.model.replacingOccurrences(of: "'", with: "\\'") + "'" }

    func versions(filter: String) async throws -> [ModelVersion] {
        let o = try await call(.GET, "/api/2.0/mlflow/model-versions/search", query: [
            ("filter", filter), ("max_results", "200"), ("order_by", "version_number ASC"),
        ])
        return (o["model_versions"] as? [[String: Any]] ?? []).compactMap(ModelVersion.init)
    }

    /// Versions of the registered model registered after `version`, oldest first.
    func versions(after version: Int) async throws -> [ModelVersion] {
        try await versions(filter: "name=\(quotedModel) AND version_number > \(version)")
    }

    /// The registered model's versions that came from `runID`.
    func versions(ofRun runID: String) async throws -> [ModelVersion] {
        try await versions(filter: "name=\(quotedModel) AND run_id='\(runID)'")
    }

    func setVersionTag(version: String, key: String, value: String) async throws {
        _ = try await call(.POST, "/api/2.0/mlflow/model-versions/set-tag",
                           json: ["name": spec.model, "version": version, "key": key, "value": String(value.prefix(5000))])
    }

    func setAlias(_ alias: String, version: String) async throws {
        _ = try await call(.POST, "/api/2.0/mlflow/registered-models/alias", json: ["name": spec.model, "alias": alias, "version": version])
    }

    // MARK: runs

    func run(_ id: String) async throws -> Run {
        let o = try await call(.GET, "/api/2.0/mlflow/runs/get", query: [("run_id", id)])
        guard let run = o["run"] as? [String: Any], let info = run["info"] as? [String: Any] else {
            throw MLflowError(message: "MLflow: run \(id) has no info", retryable: false)
        }
        let data = run["data"] as? [String: Any] ?? [:]
        var params: [String: String] = [:]
        for p in data["params"] as? [[String: Any]] ?? [] {
            if let k = p["key"] as? String { params[k] = p["value"] as? String ?? "" }
        }
        var metrics: [String: Double] = [:]
        for m in data["metrics"] as? [[String: Any]] ?? [] {
            if let k = m["key"] as? String, let v = m["value"] as? Double { metrics[k] = v }
        }
        return Run(id: id, experimentID: info["experiment_id"] as? String ?? "", name: info["run_name"] as? String,
                   params: params, metrics: metrics)
    }

    /// An artifact of a run, through the tracking server (`/get-artifact`, which proxies the artifact store).
    func artifact(runID: String, path: String, limit: Int) async throws -> [UInt8] {
        let (status, body) = try await send(.GET, "/get-artifact", query: [("path", path), ("run_uuid", runID)], limit: limit + 1,
                                            timeout: downloadTimeout)
        guard (200..<300).contains(status) else {
            let text = String(buffer: body).prefix(200).replacingOccurrences(of: "\n", with: " ")
            throw MLflowError(message: "MLflow: artifact \(path) of run \(runID): HTTP \(status) \(text)", status: status,
                              retryable: status >= 500)
        }
        guard body.readableBytes <= limit else {
            throw MLflowError(message: "MLflow: artifact \(path) is over the baseline limit of \(limit) bytes", retryable: false)
        }
        return Array(body.readableBytesView)
    }

    /// The experiment's id, created when missing.
    func experimentID(_ name: String) async throws -> String {
        do {
            let o = try await call(.GET, "/api/2.0/mlflow/experiments/get-by-name", query: [("experiment_name", name)])
            if let id = (o["experiment"] as? [String: Any])?["experiment_id"] as? String { return id }
        } catch let e as MLflowError where e.code == "RESOURCE_DOES_NOT_EXIST" {}
        do {
            let o = try await call(.POST, "/api/2.0/mlflow/experiments/create", json: ["name": name])
            if let id = o["experiment_id"] as? String { return id }
        } catch let e as MLflowError where e.code == "RESOURCE_ALREADY_EXISTS" {
            // Created concurrently (or by a retry whose answer was lost): read it again.
            let o = try await call(.GET, "/api/2.0/mlflow/experiments/get-by-name", query: [("experiment_name", name)])
            if let id = (o["experiment"] as? [String: Any])?["experiment_id"] as? String { return id }
        }
        throw MLflowError(message: "MLflow: experiment \(name) could not be read or created", retryable: true)
    }

    /// The monitoring run tagged `driftwatch.monitor = key` in the experiment, created when missing
    /// (searched first, so a retry after a lost answer finds the run instead of making a second).
    func monitoringRun(experimentID: String, key: String, name: String, tags: [String: String]) async throws -> String {
        let escaped = key.replacingOccurrences(of: "'", with: "\\'")
        let found = try await call(.POST, "/api/2.0/mlflow/runs/search", json: [
            "experiment_ids": [experimentID], "filter": "tags.`driftwatch.monitor` = '\(escaped)'", "max_results": 1,
        ])
        if let run = (found["runs"] as? [[String: Any]])?.first, let id = (run["info"] as? [String: Any])?["run_id"] as? String {
            return id
        }
        var all = tags
        all["driftwatch.monitor"] = key
        let created = try await call(.POST, "/api/2.0/mlflow/runs/create", json: [
            "experiment_id": experimentID, "run_name": name, "start_time": Int64(Date().timeIntervalSince1970 * 1000),
            "tags": all.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
        ])
        guard let id = ((created["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String else {
            throw MLflowError(message: "MLflow: runs/create returned no run id", retryable: true)
        }
        return id
    }

    /// Metric points with the timestamps fixed when the call was decided: re-sending the same
    /// batch adds no second point (MLflow keys a point by key, value, timestamp and step).
    func logBatch(runID: String, metrics: [MLflowMetric]) async throws {
        for start in stride(from: 0, to: metrics.count, by: 1000) {
            let slice = metrics[start..<min(start + 1000, metrics.count)]
            _ = try await call(.POST, "/api/2.0/mlflow/runs/log-batch", json: [
                "run_id": runID,
                "metrics": slice.map { ["key": $0.key, "value": $0.value, "timestamp": $0.timestamp, "step": $0.step] as [String: Any] },
            ])
        }
    }
}

struct MLflowMetric: Codable, Sendable, Equatable {
    var key: String
    var value: Double
    /// Unix milliseconds.
    var timestamp: Int64
    var step: Int64

    /// MLflow metric keys take letters, digits, `_ - . / ` and space; anything else becomes `_`.
    static func key(_ s: String) -> String {
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
struct MLflowCall: Codable, Sendable, Equatable {
    /// The settings when the call was decided (server, model, token source, experiment).
    var spec: MLflowSpec
    /// driftwatch's model.
    var model: String
    /// The model version; nil = the production version at delivery.
    var version: String?
    var tags: [String: String] = [:]
    var metrics: [MLflowMetric] = []
    /// Move this alias to `version` after the tags.
    var alias: String?
    var episodeID: Int64?

    enum CodingKeys: String, CodingKey { case spec, model, version, tags, metrics, alias, episodeID = "episode_id" }
}

enum MLflowActions {
    static let kind = "mlflow"

    static func perform(_ call: MLflowCall) async throws {
        let client = MLflowClient(spec: call.spec)
        var version = call.version
        if version == nil { version = try await client.productionVersion().version }
        guard let version else { return }
        // The verdict tag last: whoever sees `driftwatch.drift_state` or `driftwatch.gate` sees the rest too.
        func last(_ key: String) -> Bool { key == "driftwatch.drift_state" || key == "driftwatch.gate" }
        for (key, value) in call.tags.sorted(by: { (last($0.key) ? 1 : 0, $0.key) < (last($1.key) ? 1 : 0, $1.key) }) {
            try await client.setVersionTag(version: version, key: key, value: value)
        }
        if !call.metrics.isEmpty {
            let experiment = try await client.experimentID(call.spec.experiment)
            let run = try await client.monitoringRun(
                experimentID: experiment, key: "\(call.model)/\(call.spec.model)/\(version)",
                name: "driftwatch \(call.model) · \(call.spec.model) v\(version)",
                tags: ["driftwatch.model": call.model, "driftwatch.registered_model": call.spec.model, "driftwatch.model_version": version])
            try await client.logBatch(runID: run, metrics: call.metrics)
        }
        if let alias = call.alias { try await client.setAlias(alias, version: version) }
    }
}
