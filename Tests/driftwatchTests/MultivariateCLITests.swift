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
        XCTAssertEqual(flipped.status, 1, "multivariate drift alone makes the data drifted: \(flipped.stderr)")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(flipped.stdout.utf8)) as? [String: Any])
        let summary = try XCTUnwrap(report["summary"] as? [String: Any])
        XCTAssertEqual(summary["dataset_drifted"] as? Bool, false)
        XCTAssertEqual(summary["multivariate_drifted"] as? Bool, true)
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

/// `driftwatch check --calibration baseline_chunks`: the PSI threshold column and the JSON thresholds.
final class CalibrationCLITests: XCTestCase {
    func testCalibratedCheckShowsBothThresholds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-cal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var g = SeededGenerator(seed: 9)
        func csv(_ rows: Int, shift: Double) -> String {
            "x,y\n" + (0..<rows).map { _ in "\(g.normal() + shift),\(g.normal())" }.joined(separator: "\n") + "\n"
        }
        try csv(100_000, shift: 0).write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try csv(20_000, shift: 0.2).write(toFile: dir + "/current.csv", atomically: true, encoding: .utf8)
        let base = ["check", "--baseline", dir + "/train.csv", "--current", dir + "/current.csv", "--variance-share", "0"]

        let fixed = try runDriftwatch(base)
        XCTAssertEqual(fixed.status, 0, "0.2σ gives PSI ~0.04 < 0.1: \(fixed.stdout)")
        XCTAssertFalse(fixed.stdout.contains("psi_thr"))

        let calibrated = try runDriftwatch(base + ["--calibration", "baseline_chunks"])
        XCTAssertEqual(calibrated.status, 1, calibrated.stdout + calibrated.stderr)
        XCTAssertTrue(calibrated.stdout.contains("psi_thr"), calibrated.stdout)
        XCTAssertTrue(calibrated.stdout.contains("calibrated on baseline chunks of 20000 rows"), calibrated.stdout)

        let json = try runDriftwatch(base + ["--calibration", "baseline_chunks", "--format", "json"])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let x = try XCTUnwrap((report["features"] as? [[String: Any]])?.first { $0["name"] as? String == "x" })
        let thresholds = try XCTUnwrap(x["thresholds"] as? [String: Any])
        XCTAssertEqual(thresholds["decision"] as? String, "calibrated")
        let psi = try XCTUnwrap((thresholds["metrics"] as? [[String: Any]])?.first)
        XCTAssertEqual(psi["fixed"] as? Double, 0.1)
        XCTAssertLessThan(psi["calibrated"] as? Double ?? 1, 0.01)

        let bad = try runDriftwatch(base + ["--calibration", "chunks"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("calibration"), bad.stderr)
    }
}
