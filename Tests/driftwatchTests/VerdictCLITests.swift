import DriftCore
import Foundation
import XCTest

/// `driftwatch check`'s exit code follows the window verdict: one feature of 36 with a major
/// effect, or the prediction, drifts the data even though the drifted share stays far under
/// `--drift-share`; `--major-psi` and `--prediction-rule` set the rule, and the footer says why.
final class VerdictCLITests: XCTestCase {
    /// 35 standard-normal features f0…f34 (f0 shifted by `shift`σ) and a score (shifted by `scoreShift`σ).
    func csv(rows: Int, seed: UInt64, shift: Double = 0, scoreShift: Double = 0) -> String {
        var g = SeededGenerator(seed: seed)
        var out = (0..<35).map { "f\($0)" }.joined(separator: ",") + ",score\n"
        for _ in 0..<rows {
            var cells = (0..<35).map { k in String(g.normal() + (k == 0 ? shift : 0)) }
            cells.append(String(g.normal() + scoreShift))
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    func testMajorFeatureAndPredictionSetTheExitCode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-verdict-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try csv(rows: 10_000, seed: 1).write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try csv(rows: 2000, seed: 2, shift: 1).write(toFile: dir + "/major.csv", atomically: true, encoding: .utf8)
        try csv(rows: 2000, seed: 3, scoreShift: 0.45).write(toFile: dir + "/score.csv", atomically: true, encoding: .utf8)
        let base = ["check", "--baseline", dir + "/train.csv", "--variance-share", "0"]

        // f0 moved 1σ (PSI ≈ 0.9): 1 of 36 columns, yet drift, by the major-effect rule.
        let major = try runDriftwatch(base + ["--current", dir + "/major.csv"])
        XCTAssertEqual(major.status, 1, major.stdout + major.stderr)
        XCTAssertTrue(major.stdout.contains("no dataset drift"), "the share rule alone does not hold: \(major.stdout)")
        XCTAssertTrue(major.stdout.contains("verdict (exit 1): window drifted — major_feature: f0 (PSI"), major.stdout)
        XCTAssertTrue(major.stdout.contains("drifted (major)"), major.stdout)
        let off = try runDriftwatch(base + ["--current", dir + "/major.csv", "--major-psi", "off"])
        XCTAssertEqual(off.status, 0, off.stdout + off.stderr)
        XCTAssertTrue(off.stdout.contains("verdict (exit 0): window not drifted"), off.stdout)
        XCTAssertEqual(try runDriftwatch(base + ["--current", dir + "/major.csv", "--major-psi", "5"]).status, 0)
        XCTAssertEqual(try runDriftwatch(base + ["--current", dir + "/major.csv", "--major-psi", "lots"]).status, 2, "not a number: usage error")

        // The score moved 0.45σ (PSI ≈ 0.2): with --prediction it is judged on its own and counts.
        let asFeature = try runDriftwatch(base + ["--current", dir + "/score.csv", "--format", "json"])
        XCTAssertEqual(asFeature.status, 0, "as one of 36 features a moderate shift is a per-feature flag: \(asFeature.stdout)")
        let counted = try runDriftwatch(base + ["--current", dir + "/score.csv", "--prediction", "score", "--format", "json"])
        XCTAssertEqual(counted.status, 1, counted.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(counted.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((report["features"] as? [[String: Any]])?.count, 35, "the prediction is not a feature")
        XCTAssertEqual((report["prediction"] as? [String: Any])?["name"] as? String, "score")
        let verdict = try XCTUnwrap((report["summary"] as? [String: Any])?["verdict"] as? [String: Any])
        XCTAssertEqual(verdict["by"] as? [String], ["prediction"])
        XCTAssertEqual(verdict["prediction"] as? String, "score")
        let ignored = try runDriftwatch(base + ["--current", dir + "/score.csv", "--prediction", "score", "--prediction-rule", "ignored"])
        XCTAssertEqual(ignored.status, 0, ignored.stdout)
        XCTAssertTrue(ignored.stdout.contains("score (prediction)"), ignored.stdout)

        let missing = try runDriftwatch(base + ["--current", dir + "/score.csv", "--prediction", "nope"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("--prediction names column \"nope\""), missing.stderr)
    }
}
