import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import GRDB
@testable import DriftStore
import XCTest

final class APITests: XCTestCase {
    func testModelLifecycleAndErrors() async throws {
        let s = try LiveService()
        try await s.start()
        defer { Task { await s.stop() } }

        var r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["model"] as? String, "fraud")
        r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 200, "second PUT updates")
        r = try await s.call("GET", "/v1/models/fraud")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual((r.json["episode"] as? [String: Any])?["state"] as? String, "ok")
        XCTAssertEqual((r.json["window"] as? [String: Any])?["target_rows"] as? Int, 1000)
        XCTAssertEqual(r.json["observations_stored"] as? Int, 0)
        r = try await s.call("GET", "/v1/models")
        XCTAssertEqual((r.json["models"] as? [[String: Any]])?.count, 1)

        assertProblem(try await s.call("PUT", "/v1/models/bad%20name", json: Demo.settings), 400, "must match")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: "{not json"), 400, "model settings")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"weird"}]}"#), 400, "features")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"window":{"rows":10},"min_rows":50}"#), 422, "min_rows (50) cannot exceed window.rows (10)")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"confirm":{"windows":4,"of":3}}"#), 422, "confirm.windows")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"mlflow":{"url":"ftp://m","model":"m"}}"#), 422, "mlflow: url must be an http(s) URL")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"detector":{"calibration":"often"}}"#), 400, "calibration")
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"detector":{"major_ps":0.3}}"#), 400,
                      #"detector.major_ps: unknown key; did you mean "major_psi"?"#)
        assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"detector":{"major_psi":-1}}"#), 422, "major_psi must be ≥ 0")
        assertProblem(try await s.call("GET", "/v1/models/nope"), 404, "no model named \"nope\"")
        assertProblem(try await s.call("GET", "/v1/nothing/here"), 404, "no route")
        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", json: #"{"observations":[]}"#), 409, "no baseline yet")
        assertProblem(try await s.call("POST", "/v1/models/fraud/evaluate", json: ""), 409, "no baseline yet")

        r = try await s.call("DELETE", "/v1/models/fraud")
        XCTAssertEqual(r.status, 204)
        assertProblem(try await s.call("GET", "/v1/models/fraud"), 404, "no model")

        r = try await s.call("GET", "/healthz", contentType: nil)
        XCTAssertEqual(r.status, 200)
        r = try await s.call("GET", "/readyz", contentType: nil)
        XCTAssertEqual(r.status, 200)
    }

    func testBaselineIngestWindowsAndEpisodes() async throws {
        let s = try LiveService()
        try await s.start()
        defer { Task { await s.stop() } }

        // A baseline on an unknown model creates it, inferring kinds.
        var r = try await s.call("PUT", "/v1/models/inferred/baseline?prediction=score", body: Demo.baselineCSV(rows: 500), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["created_model"] as? Bool, true)
        XCTAssertEqual(r.json["prediction"] as? String, "score")
        let kinds = (r.json["features"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) { $0[$1["name"] as! String] = $1["kind"] as? String }
        XCTAssertEqual(kinds["country"], "categorical")
        XCTAssertEqual(kinds["amount"], "numeric")
        assertProblem(try await s.call("PUT", "/v1/models/bad/baseline", body: Data("a,b\n1\n".utf8), contentType: "text/csv"), 400, "baseline CSV: baseline:2: expected 2 fields")
        assertProblem(try await s.call("PUT", "/v1/models/bad/baseline", body: Data("a\n1\n".utf8), contentType: "image/png"), 415, "text/csv")

        r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 201)
        assertProblem(try await s.call("PUT", "/v1/models/fraud/baseline", body: Data("amount,score\n1,0.5\n".utf8), contentType: "text/csv"), 422, "lacks the model's column(s): account_age_days")
        r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["version"] as? Int, 1)

        // Rows with problems are rejected one by one; the rest is stored.
        var gen = FraudDemoData(seed: 99)
        let good = FraudDemoData.jsonRow(gen.next(drift: false), ts: 1_764_000_000)
        r = try await s.call("POST", "/v1/models/fraud/observations",
                             json: "{\"observations\":[\(good),{\"features\":[1,2]},{\"id\":\"x\",\"endpoint\":\"mars\",\"features\":{}}]}")
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["accepted"] as? Int, 1)
        XCTAssertEqual(r.json["rejected"] as? Int, 2)
        let reasons = (r.json["rejections"] as? [[String: Any]] ?? []).compactMap { $0["row"] as? Int }
        XCTAssertEqual(reasons, [1, 2])

        // Idempotency-Key: the retry counts once.
        let batch = Demo.rows(150, drift: false, gen: &gen)
        r = try await s.call("POST", "/v1/models/fraud/observations", json: batch, headers: ["Idempotency-Key": "k-1"])
        XCTAssertEqual(r.json["duplicate"] as? Bool, false)
        let firstID = r.json["batch_id"] as? Int
        r = try await s.call("POST", "/v1/models/fraud/observations", json: batch, headers: ["Idempotency-Key": "k-1"])
        XCTAssertEqual(r.status, 202)
        XCTAssertEqual(r.json["duplicate"] as? Bool, true)
        XCTAssertEqual(r.json["batch_id"] as? Int, firstID)
        XCTAssertEqual(r.json["accepted"] as? Int, 150)
        r = try await s.call("GET", "/v1/models/fraud")
        XCTAssertEqual((r.json["window"] as? [String: Any])?["rows"] as? Int, 151)
        XCTAssertEqual(r.json["observations_stored"] as? Int, 151)

        assertProblem(try await s.call("POST", "/v1/models/fraud/evaluate", json: ""), 409, "holds 151 rows; min_rows is 200")
        r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen))
        r = try await s.call("POST", "/v1/models/fraud/evaluate", json: "")
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["seq"] as? Int, 1)
        XCTAssertEqual(r.json["rows"] as? Int, 251)
        XCTAssertNotNil(r.json["prediction"], "prediction drift is evaluated like a feature")
        XCTAssertEqual((r.json["features"] as? [[String: Any]])?.count, 6)

        // Drifted windows: suspected, then confirmed (2 of 3); clean windows resolve it (2 clean).
        var states: [String] = []
        for (k, drift) in [true, true, false, false].enumerated() {
            for _ in 0..<4 {
                r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: drift, gen: &gen))
                XCTAssertEqual(r.status, 202, r.text)
            }
            XCTAssertEqual(r.json["window_closed"] as? Int, k + 2)
            let report = try await s.drift("fraud", atLeast: k + 2)
            states.append(report["episode_state"] as? String ?? "?")
        }
        XCTAssertEqual(states, ["suspected", "confirmed", "confirmed", "resolved"])
        // Re-sending the same settings keeps the episode state.
        r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual((r.json["episode"] as? [String: Any])?["state"] as? String, "resolved")

        r = try await s.call("GET", "/v1/models/fraud/windows?limit=2")
        XCTAssertEqual((r.json["windows"] as? [[String: Any]])?.count, 2)
        assertProblem(try await s.call("GET", "/v1/models/fraud/windows?limit=0"), 400, "limit must be")
        r = try await s.call("GET", "/v1/models/fraud/episodes")
        let episodes = try XCTUnwrap(r.json["episodes"] as? [[String: Any]])
        XCTAssertEqual(episodes.count, 1)
        XCTAssertEqual(episodes[0]["state"] as? String, "resolved")
        let transitions = (episodes[0]["transitions"] as? [[String: Any]] ?? []).map { "\($0["from"]!)→\($0["to"]!)" }
        XCTAssertEqual(transitions, ["ok→suspected", "suspected→confirmed", "confirmed→resolved"])

        // Metrics carry the window's figures.
        let m = try await s.call("GET", "/metrics", contentType: nil).text
        for needle in ["driftwatch_observations_total{model=\"fraud\",endpoint=\"production\"}",
                       "driftwatch_feature_psi{model=\"fraud\",feature=\"amount\"}",
                       "driftwatch_feature_ks_statistic", "driftwatch_feature_ks_pvalue", "driftwatch_feature_js_distance",
                       "driftwatch_feature_wasserstein_normed", "driftwatch_feature_quantile_shift{model=\"fraud\",feature=\"amount\",percentile=\"p50\"}",
                       "driftwatch_feature_drifted", "driftwatch_model_drift_share", "driftwatch_model_drift_confirmed{model=\"fraud\"} 0",
                       "driftwatch_window_rows", "driftwatch_window_evaluations_total{model=\"fraud\"} 5",
                       "driftwatch_window_evaluation_seconds_bucket", "driftwatch_prediction_value_bucket{model=\"fraud\",le=\"0.1\"}",
                       "driftwatch_data_quality_violations_total{model=\"fraud\",feature=\"country\",check=\"unseen_category\"}",
                       "driftwatch_observations_rejected_total{model=\"fraud\",reason=\"invalid_row\"} 2",
                       "driftwatch_build_info{version="] {
            XCTAssertTrue(m.contains(needle), "metrics lack \(needle)")
        }
    }

    func testOtherFormatsGzipLimitsAndUnknownFeatures() async throws {
        let s = try LiveService { $0.maxBodyBytes = 64 * 1024; $0.maxDecodedBytes = 64 * 1024 }
        try await s.start()
        defer { Task { await s.stop() } }
        _ = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        // A baseline may be larger than an ingest batch (max_baseline_bytes, not max_body_bytes).
        let big = Demo.baselineCSV(rows: 3000)
        XCTAssertGreaterThan(big.count, 64 * 1024)
        let b = try await s.call("PUT", "/v1/models/fraud/baseline", body: big, contentType: "text/csv")
        XCTAssertEqual(b.status, 201, b.text)

        var r = try await s.call("POST", "/v1/models/fraud/observations",
                                 json: #"{"ids":["a","b"],"features":{"amount":[10.5,null],"country":["DE","FR"],"extra":[1,2]},"predictions":[0.1,0.2]}"#)
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["accepted"] as? Int, 2)
        r = try await s.call("POST", "/v1/models/fraud/observations",
                             body: Data("{\"id\":\"n1\",\"features\":{\"amount\":3}}\n\n{broken\n{\"id\":\"n2\",\"features\":{\"amount\":4}}\n".utf8),
                             contentType: "application/x-ndjson")
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["accepted"] as? Int, 2)
        XCTAssertEqual(r.json["rejected"] as? Int, 1)

        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", body: Data("x".utf8), contentType: "text/plain"), 415, "application/json")
        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", json: "[1,2"), 400, "found an array")
        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", body: Data(repeating: 0x20, count: 70 * 1024)), 413, "over the limit")
        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", body: Data([0x1f, 0x8b, 0, 1, 2]), headers: ["Content-Encoding": "gzip"]), 400, "gzip")
        assertProblem(try await s.call("POST", "/v1/models/fraud/observations", json: "{}", headers: ["Content-Encoding": "br"]), 415, "br")

        let m = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(m.contains("driftwatch_data_quality_violations_total{model=\"fraud\",feature=\"extra\",check=\"unknown_feature\"} 2"), "unknown features are counted")
        XCTAssertTrue(m.contains("driftwatch_feature_missing_total{model=\"fraud\",feature=\"amount\"} 1"))
        XCTAssertTrue(m.contains("driftwatch_observations_rejected_total{model=\"fraud\",reason=\"too_large\"} 1"))

        // A deleted model's series leave /metrics.
        let deleted = try await s.call("DELETE", "/v1/models/fraud")
        XCTAssertEqual(deleted.status, 204)
        let after = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertFalse(after.contains("model=\"fraud\""), "series of the deleted model remain")
        XCTAssertTrue(after.contains("driftwatch_build_info"))
    }

    func testTokensScopesAndLoopbackRule() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("tokens").path
        try "# test tokens\nadmin-token-0123456789 admin\ningest-token-0123456789 ingest\nreader-token-0123456789 read\n".write(toFile: file, atomically: true, encoding: .utf8)
        let s = try LiveService { $0.tokensFile = file }
        try await s.start()
        defer { Task { await s.stop() } }
        assertProblem(try await s.call("GET", "/v1/models"), 401, "bearer token")
        assertProblem(try await s.call("GET", "/v1/models", headers: ["Authorization": "Bearer wrong-token-0123456789"]), 401, "unknown bearer token")
        var r = try await s.call("GET", "/v1/models", headers: ["Authorization": "Bearer reader-token-0123456789"])
        XCTAssertEqual(r.status, 200)
        assertProblem(try await s.call("PUT", "/v1/models/m", json: Demo.settings, headers: ["Authorization": "Bearer ingest-token-0123456789"]), 403, "lacks scope \"admin\"")
        r = try await s.call("PUT", "/v1/models/m", json: Demo.settings, headers: ["Authorization": "Bearer admin-token-0123456789"])
        XCTAssertEqual(r.status, 201)
        r = try await s.call("GET", "/metrics", contentType: nil)
        XCTAssertEqual(r.status, 200, "metrics stay open for Prometheus")
        assertProblem(try await s.call("POST", "/v1/kserve", json: "{}", headers: ["ce-specversion": "1.0"]), 401, "scope \"ingest\"")
        // kserve_without_token: KServe's payload logger sends no Authorization header.
        let open = try LiveService { $0.tokensFile = file; $0.kserveWithoutToken = true }
        try await open.start()
        assertProblem(try await open.call("POST", "/v1/kserve", json: "{}", headers: ["ce-specversion": "1.0"]), 400, "ce-id is missing")
        assertProblem(try await open.call("GET", "/v1/models"), 401, "bearer token")
        await open.stop()

        // Without tokens, a non-loopback address needs --insecure.
        XCTAssertThrowsError(try LiveService { $0.host = "0.0.0.0" }) { error in
            XCTAssertTrue("\(error)".contains("refusing to listen on 0.0.0.0 without tokens"), "\(error)")
        }
        XCTAssertNoThrow(try LiveService { $0.host = "0.0.0.0"; $0.insecure = true })
    }

    func testRestartRebuildsTheOpenWindowAndEpisodeState() async throws {
        let first = try LiveService()
        try await first.start()
        _ = try await first.call("PUT", "/v1/models/fraud", json: Demo.settings)
        _ = try await first.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 2000), contentType: "text/csv")
        var gen = FraudDemoData(seed: 5)
        for _ in 0..<4 { _ = try await first.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: true, gen: &gen)) }
        _ = try await first.drift("fraud", atLeast: 1)
        for _ in 0..<3 { _ = try await first.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen)) }
        await first.stop()

        let second = try LiveService(directory: first.directory)
        try await second.start()
        defer { Task { await second.stop() } }
        let r = try await second.call("GET", "/v1/models/fraud")
        XCTAssertEqual((r.json["window"] as? [String: Any])?["rows"] as? Int, 300, "open window rebuilt from stored batches")
        XCTAssertEqual((r.json["episode"] as? [String: Any])?["state"] as? String, "suspected")
        XCTAssertEqual(r.json["observations_stored"] as? Int, 1300)
        XCTAssertEqual((r.json["last_window"] as? [String: Any])?["seq"] as? Int, 1)
    }

    /// kill -9 after a batch filled a window (its 202 said `window_closed`) but before the
    /// window's evaluation was stored: the restart closes that window again at the same batch —
    /// the same rows, evaluated once — instead of reopening it and letting it grow.
    func testAWindowClosedButNotStoredBeforeACrashIsClosedAgainOnRestart() async throws {
        let first = try LiveService()
        try await first.start()
        _ = try await first.call("PUT", "/v1/models/fraud", json: Demo.settings)
        _ = try await first.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 2000), contentType: "text/csv")
        var gen = FraudDemoData(seed: 5)
        for _ in 0..<4 { _ = try await first.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: false, gen: &gen)) }
        let report = try await first.drift("fraud", atLeast: 1)
        XCTAssertEqual(report["rows"] as? Int, 1000)
        for _ in 0..<2 { _ = try await first.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen)) }
        await first.stop()
        // As if the process died before the evaluation's insert: the window row is gone.
        let store = try SQLiteStore(directory: first.directory)
        try await store.writer.write { db in try db.execute(sql: "DELETE FROM windows WHERE model = 'fraud' AND seq = 1") }
        try store.close()

        let second = try LiveService(directory: first.directory)
        try await second.start()
        defer { Task { await second.stop() } }
        let again = try await second.drift("fraud", atLeast: 1)
        XCTAssertEqual(again["seq"] as? Int, 1)
        XCTAssertEqual(again["rows"] as? Int, 1000, "the same rows as before the crash")
        let r = try await second.call("GET", "/v1/models/fraud")
        XCTAssertEqual((r.json["window"] as? [String: Any])?["rows"] as? Int, 200, "only the batches after it are open")
        let windows = try await second.call("GET", "/v1/models/fraud/windows")
        XCTAssertEqual((windows.json["windows"] as? [[String: Any]])?.count, 1, windows.text)
    }
}
