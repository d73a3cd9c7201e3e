import Foundation
import XCTest

/// `driftwatch config check FILE` and the precedence `serve` applies (flags > DRIFTWATCH_* > file > defaults).
final class ConfigCLITests: XCTestCase {
    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-config-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testCheckPrintsTheEffectiveConfigurationWithEveryDefault() throws {
        let example = CheckCLITests.examples.appendingPathComponent("driftwatch.json").path
        let run = try runDriftwatch(["config", "check", example])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["durability"] as? String, "process_crash")
        XCTAssertEqual(object["max_body_bytes"] as? Int, 16 << 20)
        let fraud = try XCTUnwrap((object["models"] as? [String: Any])?["fraud"] as? [String: Any])
        XCTAssertEqual((fraud["detector"] as? [String: Any])?["psi_threshold"] as? Double, 0.1, "nested defaults filled in")
        // A stable order: sorted keys, so two runs (and two versions) diff cleanly.
        let keys = run.stdout.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(try runDriftwatch(["config", "check", example]).stdout, run.stdout)
        // The effective configuration is itself a valid configuration, read back the same.
        let again = try runDriftwatch(["config", "check", try file(run.stdout)])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, run.stdout)
    }

    func testCheckPrintsEveryErrorOnItsOwnLine() throws {
        let path = try file("""
            {"prot": 8080, "durability": "powerloss",
             "models": {"a": {"features": [{"name": "x", "kind": "numerc"}], "window": {"rows": "many"}},
                        "b": {"features": [{"name": "y", "kind": "numeric"}], "detector": {"alpha": 2}}},
             "remediation": {"retrain": {"kind": "job", "job": {"image": "trainer:1", "gpu": 1}}}}
            """)
        let run = try runDriftwatch(["config", "check", path])
        XCTAssertEqual(run.status, 1)
        // Sorted by path, every one on its own line.
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr.split(separator: "\n").map(String.init), [
            #"\#(path): durability: expected one of process_crash, power_loss; got "powerloss"; did you mean "power_loss"?"#,
            #"\#(path): models.a.features[0].kind: expected one of numeric, categorical; got "numerc"; did you mean "numeric"?"#,
            #"\#(path): models.a.window.rows: expected an integer"#,
            #"\#(path): models.b.detector: alpha must be in (0, 1), got 2.0"#,
            #"\#(path): prot: unknown key; did you mean "port"?"#,
            #"\#(path): remediation.retrain.job.gpu: unknown key; did you mean "gpus"?"#,
        ])
        // Decoded but invalid: each block's problem.
        let invalid = try runDriftwatch(["config", "check", try file(#"{"port": 70000, "alertmanager": {"urls": ["ftp://am"]}}"#)])
        XCTAssertEqual(invalid.status, 1)
        XCTAssertEqual(invalid.stderr.split(separator: "\n").count, 2, invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains("port must be 0–65535, got 70000"), invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains(#"alertmanager.urls: "ftp://am" is not an http(s) URL"#), invalid.stderr)
        let missing = try runDriftwatch(["config", "check", "/nonexistent/driftwatch.json"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "/nonexistent/driftwatch.json: cannot read the config file\n")
        let syntax = try runDriftwatch(["config", "check", try file(#"{"port": 80,}"#)])
        XCTAssertEqual(syntax.status, 1)
        XCTAssertTrue(syntax.stderr.hasPrefix("\(syntax.stderr.split(separator: ":")[0]): not valid JSON: "), syntax.stderr)
        XCTAssertTrue(syntax.stderr.contains("at byte"), syntax.stderr)
    }

    func testServeTakesFlagsOverEnvironmentOverFile() throws {
        // Each layer is seen by the checks: an out-of-range port from the winning layer is the error.
        let path = try file(#"{"port": 70001}"#)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTWATCH_") }
        let fromFile = try runDriftwatch(["serve", "--config", path], environment: env)
        XCTAssertEqual(fromFile.status, 2)
        XCTAssertTrue(fromFile.stderr.contains("port must be 0–65535, got 70001"), fromFile.stderr)
        env["DRIFTWATCH_PORT"] = "70002"
        let fromEnv = try runDriftwatch(["serve", "--config", path], environment: env)
        XCTAssertTrue(fromEnv.stderr.contains("got 70002"), fromEnv.stderr)
        let fromFlag = try runDriftwatch(["serve", "--config", path, "--port", "70003"], environment: env)
        XCTAssertTrue(fromFlag.stderr.contains("got 70003"), fromFlag.stderr)
        // An environment value goes through the same strict decoding as the file.
        env["DRIFTWATCH_PORT"] = "eighty"
        let badEnv = try runDriftwatch(["serve", "--config", path], environment: env)
        XCTAssertEqual(badEnv.status, 2)
        XCTAssertTrue(badEnv.stderr.contains("port: expected an integer"), badEnv.stderr)
    }
}
