import DriftSimulation
import DriftCore
@testable import DriftServer
import DriftStats
import Foundation
import XCTest

/// Delayed labels through the API: joins before and after the prediction, late labels,
/// duplicates, rejects; per-window realized quality equal to DriftStats' (scikit-learn-exact)
/// figures, segments, the CBPE estimate, and a quality_degraded episode.
final class LabelQualityTests: XCTestCase {
    static let settings = """
        {"features":[{"name":"amount","kind":"numeric"},{"name":"account_age_days","kind":"numeric"},
        {"name":"tx_last_24h","kind":"numeric"},{"name":"distance_km","kind":"numeric"},
        {"name":"merchant_category","kind":"categorical"},{"name":"country","kind":"categorical"}],
        "prediction":{"name":"score","kind":"numeric"},"window":{"rows":1000},"min_rows":200,
        "quality":{"task":"binary","threshold":0.1,"label":"label","segment":"country","metric":"roc_auc",
                   "tolerance":0.05,"min_labelled_rows":300,"confirm":{"windows":1,"of":1},"resolve":{"clean_windows":1}}}
        """

    /// A label drawn as Bernoulli(score): the score is calibrated, AUC well above 0.5.
    static func honestLabel(_ score: Double, _ g: inout SeededGenerator) -> Int { Double.random(in: 0..<1, using: &g) < score ? 1 : 0 }

    func testLabelsJoinAndQualityIsJudgedPerWindow() async throws {
        try await LiveService().running(scenario)
    }

    private func scenario(_ s: LiveService) async throws {
        var r = try await s.call("PUT", "/v1/models/fraud", json: Self.settings)
        XCTAssertEqual(r.status, 201, r.text)
        assertProblem(try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv"), 422, "numeric label column \"label\"")
        var g = SeededGenerator(seed: 8)
        var base = FraudDemoData(seed: 1, idPrefix: "b")
        var csv = FraudDemoData.csvHeader + ",label\n"
        for _ in 0..<20_000 {
            let row = base.next(drift: false)
            csv += FraudDemoData.csvLine(row) + ",\(Self.honestLabel(row.score, &g))\n"
        }
        r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["labelled_rows"] as? Int, 20_000)

        var gen = FraudDemoData(seed: 9, idPrefix: "w")
        func window() async throws -> [FraudDemoData.Row] {
            var rows: [FraudDemoData.Row] = []
            for _ in 0..<4 {
                let batch = (0..<250).map { _ in gen.next(drift: false) }
                rows += batch
                let body = "{\"observations\":[" + batch.map { FraudDemoData.jsonRow($0, ts: 1_764_000_000) }.joined(separator: ",") + "]}"
                let r = try await s.call("POST", "/v1/models/fraud/observations", json: body)
                XCTAssertEqual(r.status, 202, r.text)
            }
            return rows
        }
        func labels(_ rows: [FraudDemoData.Row], _ label: (FraudDemoData.Row) -> Int) -> String {
            "{\"labels\":[" + rows.map { "{\"id\":\"\($0.id)\",\"label\":\(label($0)),\"ts\":1764100000}" }.joined(separator: ",") + "]}"
        }

        // Window 1: predictions first, honest labels after — but before the window closes.
        let rows1 = try await window()
        _ = try await s.drift("fraud", atLeast: 1)
        // Window 1 is already closed by its 1000th row: these labels are late for it.
        let honest1 = rows1.map { Self.honestLabel($0.score, &g) }
        var k = 0
        r = try await s.call("POST", "/v1/models/fraud/labels", json: labels(rows1) { _ in defer { k += 1 }; return honest1[k] })
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["late"] as? Int, 1000, r.text)
        // The same labels again count once.
        k = 0
        r = try await s.call("POST", "/v1/models/fraud/labels", json: labels(rows1) { _ in defer { k += 1 }; return honest1[k] })
        XCTAssertEqual(r.json["duplicate"] as? Int, 1000, r.text)

        let q1 = try await qualityWindow(s, seq: 1) { ($0["labelled_rows"] as? Int ?? 0) >= 1000 }
        let expectedAUC = try XCTUnwrap(rocAUC(scores: rows1.map(\.score), labels: honest1.map { $0 == 1 }))
        XCTAssertEqual(q1["realized"] as? Double ?? -1, expectedAUC, accuracy: 1e-12, "realized ROC AUC is DriftStats' (= sklearn's) on the joined rows")
        XCTAssertEqual(q1["degraded"] as? Bool, false)
        XCTAssertNotNil((q1["estimated"] as? [String: Any])?["roc_auc"], "CBPE estimate from the calibrated baseline")
        let segments = q1["segments"] as? [[String: Any]] ?? []
        XCTAssertGreaterThan(segments.count, 1)
        XCTAssertNotNil(segments.first?["gap"])

        // Window 2: labels first (pending), then the predictions; joined when the window closes.
        let upcoming = (0..<1000).map { _ in gen.next(drift: false) }
        // Labels that say the opposite of the score: the model got worse.
        r = try await s.call("POST", "/v1/models/fraud/labels", json: labels(upcoming) { $0.score > 0.05 ? 0 : (Double.random(in: 0..<1, using: &g) < 0.2 ? 1 : 0) })
        XCTAssertEqual(r.json["pending"] as? Int, 1000, r.text)
        for chunk in stride(from: 0, to: 1000, by: 250) {
            let body = "{\"observations\":[" + upcoming[chunk..<(chunk + 250)].map { FraudDemoData.jsonRow($0, ts: 1_764_000_000) }.joined(separator: ",") + "]}"
            let posted = try await s.call("POST", "/v1/models/fraud/observations", json: body)
            XCTAssertEqual(posted.status, 202, posted.text)
        }
        let q2 = try await qualityWindow(s, seq: 2) { $0["degraded"] as? Bool != nil }
        XCTAssertEqual(q2["labelled_rows"] as? Int, 1000)
        XCTAssertEqual(q2["degraded"] as? Bool, true, "\(q2)")
        r = try await s.call("GET", "/v1/models/fraud/quality")
        XCTAssertEqual(r.json["episode_state"] as? String, "confirmed")
        XCTAssertEqual((r.json["labels"] as? [String: Int])?["joined"], 2000)
        r = try await s.call("GET", "/v1/models/fraud/episodes")
        let kinds = (r.json["episodes"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        XCTAssertTrue(kinds.contains("quality_degraded"), "\(r.json)")

        // Rejected rows and the metrics.
        r = try await s.call("POST", "/v1/models/fraud/labels", json: #"{"labels":[{"label":1},{"id":"x","label":"yes"}]}"#)
        XCTAssertEqual(r.json["rejected"] as? Int, 2, r.text)
        r = try await s.call("POST", "/v1/models/fraud/labels", body: Data("{\"id\":\"nd-1\",\"label\":true}\n\n{\"id\":\"nd-2\",\"label\":0}\n".utf8), contentType: "application/x-ndjson")
        XCTAssertEqual(r.json["pending"] as? Int, 2, r.text)
        r = try await s.call("POST", "/v1/models/fraud/labels", json: #"{"ids":["c-1","c-2"],"labels":[1,0],"ts":[1,2]}"#)
        XCTAssertEqual(r.json["accepted"] as? Int, 2, r.text)
        assertProblem(try await s.call("POST", "/v1/models/fraud/labels", json: #"{"ids":["a"],"labels":[1,0]}"#), 400, "\"ids\" has 1 entries but \"labels\" has 2")
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        for line in [#"driftwatch_labels_total{model="fraud",outcome="late"} 1000"#, #"driftwatch_labels_total{model="fraud",outcome="duplicate"} 1000"#,
                     #"driftwatch_labels_total{model="fraud",outcome="rejected"} 2"#, #"driftwatch_model_quality_degraded{model="fraud"} 1"#,
                     #"driftwatch_model_quality{model="fraud",metric="roc_auc",source="baseline"}"#,
                     #"driftwatch_model_quality{model="fraud",metric="roc_auc",source="estimated"}"#,
                     #"driftwatch_model_quality{model="fraud",metric="roc_auc",source="realized"}"#,
                     #"driftwatch_model_quality_segment{model="fraud",metric="roc_auc",segment="#] {
            XCTAssertTrue(metrics.contains(line), "missing \(line)")
        }
        // A model without quality settings refuses labels.
        let plain = try await s.call("PUT", "/v1/models/plain", json: Demo.settings)
        XCTAssertEqual(plain.status, 201, plain.text)
        assertProblem(try await s.call("POST", "/v1/models/plain/labels", json: #"{"labels":[]}"#), 409, "no quality settings")
    }

    private func qualityWindow(_ s: LiveService, seq: Int, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(20)
        var last: Any = "none"
        while Date() < deadline {
            let r = try await s.call("GET", "/v1/models/fraud/quality")
            last = r.json
            if let w = (r.json["windows"] as? [[String: Any]])?.first(where: { $0["seq"] as? Int == seq }), done(w) { return w }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("window \(seq) quality never ready: \(last)")
        return [:]
    }
}
