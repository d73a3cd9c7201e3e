import DriftCore
@testable import DriftServer
import Foundation
import XCTest

/// Multivariate drift in the service: the PCA reference is fitted at baseline upload, each
/// window's rows are read back from the store and compared; a correlation flip with unchanged
/// marginals drifts there, and the figures reach the report, /metrics and the page.
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
        for (seq, rho) in [(1, 0.9), (2, -0.9)] {
            r = try await s.call("POST", "/v1/models/ring/observations", json: "{\"observations\":[" + rows(2000, rho: rho, g: &g, json: true, idPrefix: "w\(seq)-").joined(separator: ",") + "]}")
            XCTAssertEqual(r.status, 202, r.text)
            let report = try await s.drift("ring", atLeast: seq)
            let mv = try XCTUnwrap(report["multivariate"] as? [String: Any], "\(report.keys)")
            XCTAssertEqual(mv["rows"] as? Int, 2000)
            XCTAssertEqual(mv["drifted"] as? Bool, rho < 0, "window \(seq): \(mv)")
            let drifted = (report["features"] as? [[String: Any]] ?? []).filter { $0["drifted"] as? Bool == true }.map { $0["name"] as? String ?? "" }
            XCTAssertEqual(drifted, [], "every marginal unchanged in window \(seq)")
        }
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_model_reconstruction_error{model="ring"}"#), metrics)
        XCTAssertTrue(metrics.contains(#"driftwatch_model_reconstruction_error_threshold{model="ring",bound="upper"}"#), metrics)
        let page = try await s.call("GET", "/models/ring", contentType: nil).text
        XCTAssertTrue(page.contains("<strong>drifted</strong>: how the features move together changed"), page)
    }
}
