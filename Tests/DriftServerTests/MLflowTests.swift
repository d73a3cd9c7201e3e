import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real MLflow tracking server (MLflow 3.17.2 from PyPI in .venv-mlflow, which
/// scripts/setup-mlflow.sh makes; the test command runs it) with a SQLite backend and a local
/// artifact root, on 127.0.0.1 and a free port; stopped by process group.
final class MLflowServer: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards.
    let url: String
    let directory: String
    private let process: ChildProcess

    static var executable: String {
        if let e = ProcessInfo.processInfo.environment["DRIFTWATCH_MLFLOW"] { return e }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".venv-mlflow/bin/mlflow").path
    }

    init() async throws {
        let executable = Self.executable
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildProcessError(description: "\(executable) is missing: scripts/setup-mlflow.sh makes it (the test command scripts/test.sh runs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dw-mlflow-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/artifacts", withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        url = "http://127.0.0.1:\(port)"
        // Job execution off: it would start eight more processes (GenAI jobs) for nothing.
        process = try ChildProcess(
            name: "mlflow", executable: executable,
            arguments: ["server", "--backend-store-uri", "sqlite:///\(directory)/mlflow.db", "--artifacts-destination", directory + "/artifacts",
                        "--host", "127.0.0.1", "--port", String(port), "--workers", "1"],
            logDirectory: directory, environment: ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"], processGroup: true)
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let (status, _) = try? await request("GET", "/health"), status == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.stop()
        throw ChildProcessError(description: "MLflow did not answer /health within 90 s\n\(process.tail())")
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func request(_ method: String, _ path: String, json: [String: Any]? = nil, body: Data? = nil) async throws -> (Int, [String: Any]) {
        var r = URLRequest(url: URL(string: url + path)!)
        r.httpMethod = method
        r.timeoutInterval = 30
        if let json {
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            r.httpBody = try JSONSerialization.data(withJSONObject: json)
        } else if let body {
            r.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    @discardableResult
    func call(_ method: String, _ path: String, json: [String: Any]? = nil, body: Data? = nil) async throws -> [String: Any] {
        let (status, object) = try await request(method, path, json: json, body: body)
        guard (200..<300).contains(status) else { throw ChildProcessError(description: "MLflow \(method) \(path): HTTP \(status) \(object)") }
        return object
    }

    /// A training run with its data as `data/train.csv`, params and metrics, registered as a new
    /// version of `model` (with `alias` when given), through the REST API only.
    func registerTrainingRun(model: String, csv: Data, params: [String: String], metrics: [String: Double], alias: String?) async throws
        -> (runID: String, version: String, source: String)
    {
        let (status, found) = try await request("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=fraud-training")
        var experiment = (found["experiment"] as? [String: Any])?["experiment_id"] as? String
        if status != 200 || experiment == nil {
            experiment = try await call("POST", "/api/2.0/mlflow/experiments/create", json: ["name": "fraud-training"])["experiment_id"] as? String
        }
        let exp = try XCTUnwrap(experiment)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let run = try await call("POST", "/api/2.0/mlflow/runs/create", json: ["experiment_id": exp, "run_name": "train", "start_time": now])
        let runID = try XCTUnwrap((run["run"] as? [String: Any]).flatMap { ($0["info"] as? [String: Any])?["run_id"] as? String })
        try await call("POST", "/api/2.0/mlflow/runs/log-batch", json: [
            "run_id": runID,
            "params": params.map { ["key": $0.key, "value": $0.value] },
            "metrics": metrics.map { ["key": $0.key, "value": $0.value, "timestamp": now, "step": 0] as [String: Any] },
        ])
        try await call("PUT", "/api/2.0/mlflow-artifacts/artifacts/\(exp)/\(runID)/artifacts/data/train.csv", body: csv)
        try await call("PUT", "/api/2.0/mlflow-artifacts/artifacts/\(exp)/\(runID)/artifacts/model/MLmodel", body: Data("flavors: {}\n".utf8))
        try await call("POST", "/api/2.0/mlflow/runs/update", json: ["run_id": runID, "status": "FINISHED", "end_time": now + 1])
        _ = try? await call("POST", "/api/2.0/mlflow/registered-models/create", json: ["name": model])
        let source = "mlflow-artifacts:/\(exp)/\(runID)/artifacts/model"
        let created = try await call("POST", "/api/2.0/mlflow/model-versions/create", json: ["name": model, "source": source, "run_id": runID])
        let version = try XCTUnwrap((created["model_version"] as? [String: Any])?["version"] as? String)
        if let alias { try await call("POST", "/api/2.0/mlflow/registered-models/alias", json: ["name": model, "alias": alias, "version": version]) }
        return (runID, version, source)
    }

    /// The model version's tags.
    func tags(model: String, version: String) async throws -> [String: String] {
        let o = try await call("GET", "/api/2.0/mlflow/model-versions/get?name=\(model)&version=\(version)")
        var tags: [String: String] = [:]
        for t in (o["model_version"] as? [String: Any])?["tags"] as? [[String: Any]] ?? [] {
            if let k = t["key"] as? String { tags[k] = t["value"] as? String ?? "" }
        }
        return tags
    }

    /// Waits (bounded) until the version's tags satisfy `done`.
    func waitForTags(model: String, version: String, _ what: String, seconds: Double = 30,
                     _ done: ([String: String]) -> Bool) async throws -> [String: String] {
        let deadline = Date().addingTimeInterval(seconds)
        var tags: [String: String] = [:]
        while Date() < deadline {
            tags = try await self.tags(model: model, version: version)
            if done(tags) { return tags }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("MLflow: \(what) did not appear on \(model) v\(version) within \(Int(seconds)) s; tags: \(tags)\n\(process.tail())")
        return tags
    }
}

/// driftwatch against the real MLflow: the baseline from the run behind the production alias,
/// drift episodes as tags and metrics on that version, a new registry version picked up as a
/// candidate, its gate verdict written back and the alias promoted.
final class MLflowTests: XCTestCase {
    func testTheLoopIsTraceableInMLflow() async throws {
        let mlflow = try await MLflowServer()
        defer { mlflow.stop() }
        let live = try LiveService { cfg in
            var r = RemediationConfiguration()
            r.gate.minJoinedRows = 400  // the gate alone: no Kubernetes (shadow rows come from the test)
            cfg.remediation = r
            cfg.publicURL = "http://driftwatch.ml.svc:8080"
        }
        try await live.running { s in try await self.loop(s, mlflow) }
    }

    private func loop(_ s: LiveService, _ mlflow: MLflowServer) async throws {
        let trained = try await mlflow.registerTrainingRun(
            model: "fraud-model", csv: Demo.baselineCSV(), params: ["n_estimators": "100", "max_depth": "6"],
            metrics: ["auc": 0.91], alias: "production")
        XCTAssertEqual(trained.version, "1")

        let settings = Demo.settings.replacingOccurrences(of: #""resolve":{"clean_windows":2}}"#, with: """
            "resolve":{"clean_windows":2},"mlflow":{"url":"\(mlflow.url)","model":"fraud-model","poll_seconds":1,
             "promote_alias":"production","experiment":"driftwatch-monitoring"}}
            """)
        var r = try await s.call("PUT", "/v1/models/fraud", json: settings)
        XCTAssertEqual(r.status, 201, r.text)

        // The baseline: no run id, so the run behind the alias; params, metrics and version recorded.
        r = try await s.call("PUT", "/v1/models/fraud/baseline?source=mlflow", body: Data(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["rows"] as? Int, 5000)
        let link = try XCTUnwrap(r.json["mlflow"] as? [String: Any])
        XCTAssertEqual(link["run_id"] as? String, trained.runID)
        XCTAssertEqual(link["model_version"] as? String, "1")
        XCTAssertEqual(link["artifact"] as? String, "data/train.csv")
        XCTAssertEqual(link["params"] as? [String: String], ["n_estimators": "100", "max_depth": "6"])
        XCTAssertEqual(link["metrics"] as? [String: Double], ["auc": 0.91])
        r = try await s.call("GET", "/v1/models/fraud")
        XCTAssertEqual((r.json["mlflow"] as? [String: Any])?["run_id"] as? String, trained.runID)
        let page = try await s.call("GET", "/models/fraud", contentType: nil).text
        XCTAssertTrue(page.contains("Baseline from MLflow run <code>\(trained.runID)</code> (train), artifact <code>data/train.csv</code> · fraud-model version 1"), page)
        // The same by run id; a run that does not exist is a clear error and changes nothing.
        r = try await s.call("PUT", "/v1/models/fraud/baseline?mlflow_run=\(trained.runID)&artifact=data/train.csv", body: Data(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["version"] as? Int, 2)
        r = try await s.call("PUT", "/v1/models/fraud/baseline?mlflow_run=0123456789abcdef", body: Data(), contentType: "text/csv")
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertTrue((r.json["detail"] as? String ?? "").contains("RESOURCE_DOES_NOT_EXIST"), r.text)
        r = try await s.call("GET", "/v1/models/fraud")
        XCTAssertEqual(r.json["baseline_version"] as? Int, 2)

        // Drift: confirmed at window 3 → tags on version 1, window figures on the monitoring run.
        var gen = FraudDemoData(seed: 7)
        var seq = 0
        for drift in [false, true, true] {
            seq += 1
            _ = try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq)
        }
        r = try await s.call("GET", "/v1/models/fraud/episodes")
        let episode = try XCTUnwrap((r.json["episodes"] as? [[String: Any]])?.first)
        XCTAssertEqual(episode["state"] as? String, "confirmed")
        let episodeID = try XCTUnwrap(episode["id"] as? Int)
        var tags = try await mlflow.waitForTags(model: "fraud-model", version: "1", "the confirmed drift") { $0["driftwatch.drift_state"] == "confirmed" }
        XCTAssertEqual(tags["driftwatch.episode_id"], String(episodeID))
        XCTAssertEqual(tags["driftwatch.episode_url"], "http://driftwatch.ml.svc:8080/models/fraud/episodes/\(episodeID)")
        XCTAssertTrue(tags["driftwatch.drifted_features"]?.split(separator: ",").contains("amount") == true, "\(tags)")
        XCTAssertNotNil(tags["driftwatch.drift_confirmed_at"])

        // The same outbox action then logs the window's figures on the monitoring run (after the tags).
        var monitoring: [[String: Any]] = []
        for _ in 0..<150 {
            let (status, experiment) = try await mlflow.request("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=driftwatch-monitoring")
            if status == 200, let id = (experiment["experiment"] as? [String: Any])?["experiment_id"] as? String {
                let runs = try await mlflow.call("POST", "/api/2.0/mlflow/runs/search", json: ["experiment_ids": [id]])
                monitoring = runs["runs"] as? [[String: Any]] ?? []
                let metrics = (monitoring.first?["data"] as? [String: Any])?["metrics"] as? [[String: Any]] ?? []
                if metrics.contains(where: { $0["key"] as? String == "psi.amount" }) { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertEqual(monitoring.count, 1, "one monitoring run per model version")
        let runID = try XCTUnwrap((monitoring.first?["info"] as? [String: Any])?["run_id"] as? String)
        let runTags = ((monitoring.first?["data"] as? [String: Any])?["tags"] as? [[String: Any]] ?? [])
            .reduce(into: [String: String]()) { $0[$1["key"] as? String ?? ""] = $1["value"] as? String }
        XCTAssertEqual(runTags["driftwatch.monitor"], "fraud/fraud-model/1")
        XCTAssertEqual(runTags["driftwatch.model_version"], "1")
        var history = try await mlflow.call("GET", "/api/2.0/mlflow/metrics/get-history?run_id=\(runID)&metric_key=psi.amount")
        var points = history["metrics"] as? [[String: Any]] ?? []
        XCTAssertEqual(points.count, 1, "\(points)")
        XCTAssertEqual(points.first?["step"] as? Int, 3)
        XCTAssertGreaterThan(points.first?["value"] as? Double ?? 0, 0.1)

        // Resolution after two clean windows → the tag follows; one more point per metric.
        for _ in 0..<2 {
            seq += 1
            _ = try await s.postWindow("fraud", drift: false, gen: &gen, seq: seq)
        }
        tags = try await mlflow.waitForTags(model: "fraud-model", version: "1", "the resolution") { $0["driftwatch.drift_state"] == "resolved" }
        XCTAssertNotNil(tags["driftwatch.drift_resolved_at"])
        for _ in 0..<150 {
            history = try await mlflow.call("GET", "/api/2.0/mlflow/metrics/get-history?run_id=\(runID)&metric_key=driftwatch.drift_confirmed")
            points = (history["metrics"] as? [[String: Any]] ?? []).sorted { ($0["step"] as? Int ?? 0) < ($1["step"] as? Int ?? 0) }
            if points.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertEqual(points.map { $0["step"] as? Int }, [3, 5], "\(points)")
        XCTAssertEqual(points.map { $0["value"] as? Double }, [1, 0])

        // The retraining job registers version 2: driftwatch picks it up as a candidate.
        let candidate = try await mlflow.registerTrainingRun(
            model: "fraud-model", csv: Demo.baselineCSV(seed: 2), params: ["n_estimators": "200", "max_depth": "6"],
            metrics: ["auc": 0.93], alias: nil)
        XCTAssertEqual(candidate.version, "2")
        var listed: [String: Any]?
        for _ in 0..<100 where listed == nil {
            r = try await s.call("GET", "/v1/models/fraud/candidates")
            listed = (r.json["candidates"] as? [[String: Any]])?.first { $0["mlflow_version"] as? String == "2" }
            if listed == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let c = try XCTUnwrap(listed, "version 2 was not picked up from the registry: \(r.text)")
        XCTAssertEqual(c["version"] as? String, "v2")
        XCTAssertEqual(c["model_uri"] as? String, candidate.source)
        XCTAssertEqual(c["metrics"] as? [String: Double], ["auc": 0.93])

        // Shadow traffic that agrees with production → pass → tag on version 2, alias moved.
        var jitter = SeededGenerator(seed: 4)
        try await s.postShadowPairs("fraud", batches: 2, gen: &gen) { score, _ in min(1, score * (1 + Double.random(in: -0.02...0.02, using: &jitter))) }
        // The gate is judged when a window closes.
        seq += 1
        _ = try await s.postWindow("fraud", drift: false, gen: &gen, seq: seq)
        tags = try await mlflow.waitForTags(model: "fraud-model", version: "2", "the gate verdict") { $0["driftwatch.gate"] != nil }
        XCTAssertEqual(tags["driftwatch.gate"], "pass", "\(tags)")
        XCTAssertFalse(tags["driftwatch.gate_reasons"]?.isEmpty ?? true)
        // The alias moves after the tags, in the same outbox action.
        var production: String?
        for _ in 0..<100 {
            let alias = try await mlflow.call("GET", "/api/2.0/mlflow/registered-models/alias?name=fraud-model&alias=production")
            production = (alias["model_version"] as? [String: Any])?["version"] as? String
            if production == "2" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(production, "2", "promote_alias moved production to the candidate")

        // Every MLflow write was delivered once (outbox keys), none left pending.
        var metrics = ""
        for _ in 0..<50 {
            metrics = try await s.call("GET", "/metrics", contentType: nil).text
            if metrics.contains(#"driftwatch_actions_total{kind="mlflow",outcome="delivered"} 3"#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertTrue(metrics.contains(#"driftwatch_actions_total{kind="mlflow",outcome="delivered"} 3"#), metrics)
        XCTAssertTrue(metrics.contains(#"driftwatch_actions_pending{kind="mlflow"} 0"#), metrics)
    }

    /// MLflow down: ingest and windows go on, the writes wait in the outbox with their error.
    func testMLflowDownNeverBlocksIngest() async throws {
        let port = try freeLoopbackPort()  // nothing listens there
        try await LiveService().running { s in
            let settings = Demo.settings.replacingOccurrences(of: #""resolve":{"clean_windows":2}}"#, with: """
                "resolve":{"clean_windows":2},"mlflow":{"url":"http://127.0.0.1:\(port)","model":"fraud-model","poll_seconds":0}}
                """)
            var r = try await s.call("PUT", "/v1/models/fraud", json: settings)
            XCTAssertEqual(r.status, 201, r.text)
            r = try await s.call("PUT", "/v1/models/fraud/baseline?source=mlflow", body: Data(), contentType: "text/csv")
            XCTAssertEqual(r.status, 502, r.text)
            XCTAssertTrue((r.json["detail"] as? String ?? "").contains("MLflow at http://127.0.0.1:\(port)"), r.text)
            r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
            XCTAssertEqual(r.status, 201, r.text)
            var gen = FraudDemoData(seed: 9)
            for (seq, drift) in [false, true, true].enumerated() {
                _ = try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq + 1)
            }
            var action: [String: Any]?
            for _ in 0..<300 {
                r = try await s.call("GET", "/v1/models/fraud/episodes")
                action = ((r.json["episodes"] as? [[String: Any]])?.first?["actions"] as? [[String: Any]])?.first { $0["kind"] as? String == "mlflow" }
                if (action?["attempts"] as? Int ?? 0) >= 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let a = try XCTUnwrap(action, r.text)
            XCTAssertEqual(a["state"] as? String, "pending", "an attempt failed; pending, retried at next_attempt_at")
            XCTAssertTrue((a["last_error"] as? String ?? "").contains("127.0.0.1:\(port)"), "\(a)")
            XCTAssertNotNil(a["next_attempt_at"], "still to be retried")
            // Ingest was never held up: the next window is accepted and evaluated as usual.
            let report = try await s.postWindow("fraud", drift: false, gen: &gen, seq: 4)
            XCTAssertEqual(report["seq"] as? Int, 4)
        }
    }
}
