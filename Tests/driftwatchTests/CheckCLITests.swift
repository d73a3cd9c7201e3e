import Foundation
import XCTest

/// `driftwatch check` as a CI pipeline runs it: exit codes, JSON shape, one-line errors.
final class CheckCLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("examples")

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func driftwatch(_ arguments: [String]) throws -> Run { try runDriftwatch(arguments) }

    func example(_ name: String) -> String { Self.examples.appendingPathComponent(name).path }

    func testCleanBatchExitsZeroAndDriftedBatchExitsOne() throws {
        let clean = try driftwatch(["check", "--baseline", example("train.csv"), "--current", example("live_clean.csv"), "--categorical", "hour"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertTrue(clean.stdout.contains("no dataset drift"), clean.stdout)
        let drifted = try driftwatch(["check", "--baseline", example("train.csv"), "--current", example("live_drifted.csv"), "--categorical", "hour"])
        XCTAssertEqual(drifted.status, 1, drifted.stderr)
        XCTAssertTrue(drifted.stdout.contains("DATASET DRIFT"))
        // Piped output is plain: no colour escapes.
        XCTAssertFalse(drifted.stdout.contains("\u{1B}["))
        // Drifted rows come first.
        let lines = drifted.stdout.split(separator: "\n")
        XCTAssertTrue(lines[1].contains("drifted"), String(lines[1]))
    }

    func testJSONReportShape() throws {
        let run = try driftwatch(["check", "--baseline", example("train.csv"), "--current", example("live_drifted.csv"),
                                  "--categorical", "hour", "--format", "json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["baseline"] as? [String: Any])?["rows"] as? Int, 20000)
        XCTAssertEqual((object["current"] as? [String: Any])?["rows"] as? Int, 5000)
        let features = try XCTUnwrap(object["features"] as? [[String: Any]])
        XCTAssertEqual(features.count, 9)
        let byName = Dictionary(uniqueKeysWithValues: features.map { ($0["name"] as! String, $0) })
        let amount = try XCTUnwrap(byName["amount"])
        XCTAssertEqual(amount["kind"] as? String, "numeric")
        for key in ["n_baseline", "n_current", "ks", "psi", "js", "wasserstein", "wasserstein_normed", "percentiles", "quality", "drifted", "reasons"] {
            XCTAssertNotNil(amount[key], "amount.\(key)")
        }
        let ks = try XCTUnwrap(amount["ks"] as? [String: Any])
        for key in ["statistic", "pvalue", "pvalue_adjusted", "method"] { XCTAssertNotNil(ks[key], "ks.\(key)") }
        let percentiles = try XCTUnwrap(amount["percentiles"] as? [String: Any])
        let base = try XCTUnwrap(percentiles["baseline"] as? [String: Double])
        XCTAssertEqual(Set(base.keys), ["p1", "p5", "p25", "p50", "p75", "p95", "p99"])
        let quality = try XCTUnwrap(byName["distance_km"]?["quality"] as? [String: Any])
        for key in ["missing", "missing_share", "nan", "infinite", "out_of_range_share", "unseen_categories", "wrong_type"] {
            XCTAssertNotNil(quality[key], "quality.\(key)")
        }
        XCTAssertGreaterThan(quality["missing"] as? Int ?? 0, 0)
        let country = try XCTUnwrap(byName["country"])
        XCTAssertEqual(country["kind"] as? String, "categorical")
        XCTAssertNil(country["ks"])
        let chi2 = try XCTUnwrap(country["chi2"] as? [String: Any])
        for key in ["statistic", "pvalue", "pvalue_adjusted", "dof"] { XCTAssertNotNil(chi2[key], "chi2.\(key)") }
        XCTAssertEqual((country["quality"] as? [String: Any])?["unseen_categories"] as? [String], ["BR"])
        XCTAssertEqual(country["drifted"] as? Bool, true)
        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        XCTAssertEqual(summary["features"] as? Int, 9)
        XCTAssertEqual(summary["dataset_drifted"] as? Bool, true)
        XCTAssertNotNil(summary["drifted_share"])
    }

    func testBadInputIsOneLineAndExitTwo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ragged = dir.appendingPathComponent("ragged.csv")
        try "amount,score\n1,2\n3\n".write(to: ragged, atomically: true, encoding: .utf8)
        let noColumn = dir.appendingPathComponent("nocol.csv")
        try "amount\n1\n".write(to: noColumn, atomically: true, encoding: .utf8)

        let cases: [([String], String)] = [
            (["check", "--baseline", "/nonexistent.csv", "--current", example("live_clean.csv")], "/nonexistent.csv: cannot open"),
            (["check", "--baseline", example("train.csv"), "--current", ragged.path], "ragged.csv:3: expected 2 fields as in the header"),
            (["check", "--baseline", ragged.path, "--current", example("live_clean.csv")], "ragged.csv:3: expected 2 fields as in the header, found 1"),
            (["check", "--baseline", example("train.csv"), "--current", noColumn.path], "missing baseline column(s): hour"),
            (["check", "--baseline", example("train.csv")], "Missing expected argument '--current"),
            (["check", "--baseline", example("train.csv"), "--current", example("live_clean.csv"), "--binning", "weird"], "binning"),
            (["check", "--baseline", example("train.csv"), "--current", example("live_clean.csv"), "--alpha", "2"], "alpha must be in (0, 1)"),
        ]
        for (arguments, expected) in cases {
            let run = try driftwatch(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(first.hasPrefix("driftwatch: "), first)
            XCTAssertTrue(first.contains(expected), "\(arguments): \(first)")
            XCTAssertTrue(run.stdout.isEmpty, "nothing on stdout on error")
        }
    }

    func testBenchStatsPrintsFigures() throws {
        let run = try driftwatch(["bench", "stats", "--baseline-rows", "20000", "--window-rows", "2000", "--features", "4", "--repeat", "1", "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(object["evaluate_ms"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(object["prepare_ms"] as? Double ?? 0, 0)
        XCTAssertEqual(object["features"] as? Int, 4)
    }
}

/// Runs the driftwatch binary built next to this test bundle; killed after 120 s.
/// The built `driftwatch` executable (beside the test bundle).
var driftwatchBinary: URL { Bundle.main.bundleURL.appendingPathComponent("driftwatch") }

func runDriftwatch(_ arguments: [String], environment: [String: String]? = nil) throws -> CheckCLITests.Run {
    let process = Process()
    process.executableURL = driftwatchBinary
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        XCTFail("driftwatch \(arguments) did not finish in 120 s")
    }
    process.waitUntilExit()
    return CheckCLITests.Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
}
