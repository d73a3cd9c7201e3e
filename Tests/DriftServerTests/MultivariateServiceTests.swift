import DriftCore
@testable import DriftServer
import Foundation
import XCTest

/// Multivariate drift in the service: the PCA reference is fitted at baseline upload, each
/// window's rows are read back from the store and compared; a correlation flip with unchanged
/// marginals drifts there, counts as a drifted window for episodes (two flipped windows of three
/// confirm one, listed as "(multivariate)"), and the figures reach the report, /metrics and the page.
final class MultivariateServiceTests: XCTestCase {
    static let settings = """
        {"features":[{"name":"x","kind":"numeric"},{"name":"y","kind":"numeric"},{"name":"z","kind":"numeric"},
         {"name":"c","kind":"categorical"}],"window":{"rows":2000},"min_rows":200,"multivariate":{"variance_share":0.65}}
        """

    func rows(_ n: Int, rho: Double, g: inout SeededGenerator, json: Bool, idPrefix: String = "r") -> [String] {
        return (0..<n).map { k in
            let a = g.normal(), b = g.normal()
            let x = a, y = rho * a + (1 - rho * rho).squareRoot() * b, z = g.normal()
            let c = ["a", "b", "c"][Int.random(in: 0..<3, using: &g)]
            return json ? "{\"id\":\"\(idPrefix)\(k)\",\"features\":{\"x\":\(x),\"y\":\(y),\"z\":\(z),\"c\":\"\(c)\"}}" : "\(x),\(y),\(z),\(c)"
        }
    }

    func testCorrelationFlipDriftsMultivariateInTheService() async throws {
        try await LiveService().running(scenario)
    }

    private func scenario(_ s: LiveService) async throws {
        var r = try await s.call("PUT", "/v1/models/ring", json: Self.settings)
        XCTAssertEqual(r.status, 201, r.text)
        var g = SeededGenerator(seed: 31)
        r = try await s.call("PUT", "/v1/models/ring/baseline", body: Data(("x,y,z,c\n" + rows(40_000, rho: 0.9, g: &g, json: false).joined(separator: "\n") + "\n").utf8), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        for (seq, rho) in [(1, 0.9), (2, -0.9), (3, -0.9)] {
            r = try await s.call("POST", "/v1/models/ring/observations", json: "{\"observations\":[" + rows(2000, rho: rho, g: &g, json: true, idPrefix: "w\(seq)-").joined(separator: ",") + "]}")
            XCTAssertEqual(r.status, 202, r.text)
            let report = try await s.drift("ring", atLeast: seq)
            let mv = try XCTUnwrap(report["multivariate"] as? [String: Any], "\(report.keys)")
            XCTAssertEqual(mv["rows"] as? Int, 2000)
            XCTAssertEqual(mv["drifted"] as? Bool, rho < 0, "window \(seq): \(mv)")
            let drifted = (report["features"] as? [[String: Any]] ?? []).filter { $0["drifted"] as? Bool == true }.map { $0["name"] as? String ?? "" }
            XCTAssertEqual(drifted, [], "every marginal unchanged in window \(seq)")
            let summary = try XCTUnwrap(report["summary"] as? [String: Any])
            XCTAssertEqual(summary["dataset_drifted"] as? Bool, false)
            XCTAssertEqual(summary["multivariate_drifted"] as? Bool, rho < 0)
            XCTAssertEqual(report["episode_state"] as? String, ["ok", "suspected", "confirmed"][seq - 1], "window \(seq)")
        }
        r = try await s.call("GET", "/v1/models/ring/episodes")
        let episode = try XCTUnwrap((r.json["episodes"] as? [[String: Any]])?.first)
        XCTAssertEqual(episode["state"] as? String, "confirmed")
        XCTAssertEqual(episode["drifted_features"] as? [String], [multivariateEvidenceName], "\(episode)")
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_model_reconstruction_error{model="ring"}"#), metrics)
        XCTAssertTrue(metrics.contains(#"driftwatch_model_reconstruction_error_threshold{model="ring",bound="upper"}"#), metrics)
        let page = try await s.call("GET", "/models/ring", contentType: nil).text
        XCTAssertTrue(page.contains("<strong>drifted</strong>: how the features move together changed"), page)
    }
}

/// A model with `detector.calibration: baseline_chunks`: windows are judged against thresholds
/// calibrated on the baseline for their size, reported next to the fixed ones.
final class CalibratedServiceTests: XCTestCase {
    func testCalibratedModelReportsAndUsesBaselineThresholds() async throws {
        try await LiveService().running { s in
            let settings = """
                {"features":[{"name":"x","kind":"numeric"},{"name":"y","kind":"numeric"}],"window":{"rows":2000},"min_rows":200,
                 "detector":{"calibration":"baseline_chunks"}}
                """
            var r = try await s.call("PUT", "/v1/models/cal", json: settings)
            XCTAssertEqual(r.status, 201, r.text)
            var g = SeededGenerator(seed: 5)
            let baseline = (0..<40_000).map { _ in "\(g.normal()),\(g.normal())" }.joined(separator: "\n")
            r = try await s.call("PUT", "/v1/models/cal/baseline", body: Data(("x,y\n" + baseline + "\n").utf8), contentType: "text/csv")
            XCTAssertEqual(r.status, 201, r.text)
            // 0.3σ on x: PSI ≈ 0.09, under the fixed 0.1, far over a 2000-row window's noise.
            let rows = (0..<2000).map { k in "{\"id\":\"c\(k)\",\"features\":{\"x\":\(g.normal() + 0.3),\"y\":\(g.normal())}}" }
            r = try await s.call("POST", "/v1/models/cal/observations", json: "{\"observations\":[" + rows.joined(separator: ",") + "]}")
            XCTAssertEqual(r.status, 202, r.text)
            let report = try await s.drift("cal", atLeast: 1)
            let features = try XCTUnwrap(report["features"] as? [[String: Any]])
            let x = try XCTUnwrap(features.first { $0["name"] as? String == "x" })
            XCTAssertEqual(x["drifted"] as? Bool, true, "\(x["reasons"] ?? "")")
            XCTAssertLessThan(x["psi"] as? Double ?? 1, 0.1)
            let thresholds = try XCTUnwrap(x["thresholds"] as? [String: Any])
            XCTAssertEqual(thresholds["decision"] as? String, "calibrated")
            XCTAssertEqual(thresholds["window_rows"] as? Int, 2000)
            let y = try XCTUnwrap(features.first { $0["name"] as? String == "y" })
            XCTAssertEqual(y["drifted"] as? Bool, false)
            let page = try await s.call("GET", "/models/cal", contentType: nil).text
            XCTAssertTrue(page.contains("calibrated (fixed 0.1)"), page)
        }
    }
}
