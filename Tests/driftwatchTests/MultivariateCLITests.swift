import DriftCore
import Foundation
import XCTest

/// `driftwatch check` reports multivariate drift (PCA reconstruction error) on its own: a
/// correlation flip that leaves every marginal unchanged is caught there, not by the
/// univariate tests.
final class MultivariateCLITests: XCTestCase {
    /// x, y standard normal with correlation `rho`, z independent, a categorical c.
    func csv(rows: Int, rho: Double, seed: UInt64) -> String {
        var g = SeededGenerator(seed: seed)
        var out = "x,y,z,c\n"
        for _ in 0..<rows {
            let a = g.normal(), b = g.normal()
            let x = a, y = rho * a + (1 - rho * rho).squareRoot() * b
            out += "\(x),\(y),\(g.normal()),\(["a", "b", "c"][Int.random(in: 0..<3, using: &g)])\n"
        }
        return out
    }

    func testCorrelationFlipIsMultivariateDriftOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-mv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try csv(rows: 40_000, rho: 0.9, seed: 1).write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try csv(rows: 2000, rho: -0.9, seed: 2).write(toFile: dir + "/flipped.csv", atomically: true, encoding: .utf8)
        try csv(rows: 2000, rho: 0.9, seed: 3).write(toFile: dir + "/clean.csv", atomically: true, encoding: .utf8)

        let flipped = try runDriftwatch(["check", "--baseline", dir + "/train.csv", "--current", dir + "/flipped.csv", "--categorical", "c", "--format", "json"])
        XCTAssertEqual(flipped.status, 0, "no univariate dataset drift: \(flipped.stderr)")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(flipped.stdout.utf8)) as? [String: Any])
        let features = report["features"] as? [[String: Any]] ?? []
        XCTAssertEqual(features.filter { $0["drifted"] as? Bool == true }.count, 0, "every marginal unchanged")
        let mv = try XCTUnwrap(report["multivariate"] as? [String: Any])
        XCTAssertEqual(mv["drifted"] as? Bool, true, "\(mv)")
        XCTAssertGreaterThan(mv["reconstruction_error"] as? Double ?? 0, mv["upper_threshold"] as? Double ?? 1)

        let clean = try runDriftwatch(["check", "--baseline", dir + "/train.csv", "--current", dir + "/clean.csv", "--categorical", "c", "--format", "json"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let cleanReport = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((cleanReport["multivariate"] as? [String: Any])?["drifted"] as? Bool, false)

        let table = try runDriftwatch(["check", "--baseline", dir + "/train.csv", "--current", dir + "/flipped.csv", "--categorical", "c"])
        XCTAssertTrue(table.stdout.contains("multivariate (PCA,"), table.stdout)
        XCTAssertTrue(table.stdout.contains("DRIFTED"), table.stdout)
        let off = try runDriftwatch(["check", "--baseline", dir + "/train.csv", "--current", dir + "/flipped.csv", "--variance-share", "0", "--format", "json"])
        XCTAssertNil((try JSONSerialization.jsonObject(with: Data(off.stdout.utf8)) as? [String: Any])?["multivariate"])
        let bad = try runDriftwatch(["check", "--baseline", dir + "/train.csv", "--current", dir + "/flipped.csv", "--variance-share", "2"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "driftwatch: --variance-share must be in [0, 1], got 2.0\n")
    }
}
