import DriftCore
import Foundation
import XCTest

/// `driftwatch actions list|retry` against the real `driftwatch serve`, whose Alertmanager
/// answers nothing (a closed port) and `max_attempts` is 1: the episode's firing notice is given
/// up, listed, and retried by the CLI; errors are one line.
final class ActionsCLITests: XCTestCase {
    func testGivenUpActionsAreListedAndRetried() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-actions-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/config.json"
        try #"{"alertmanager": {"urls": ["http://127.0.0.1:1"], "max_attempts": 1, "resend_seconds": 180}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServeBinaryTests.Server(dataDir: dir + "/data", arguments: ["--config", config])
        defer { server.kill(SIGTERM) }
        let port = server.port
        let base = "http://127.0.0.1:\(port)"
        let settings = #"{"features":[{"name":"amount","kind":"numeric"}],"window":{"rows":300},"min_rows":100,"confirm":{"windows":1,"of":1}}"#
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud", body: Data(settings.utf8)).status, 201)
        var g = SeededGenerator(seed: 5)
        let csv = "amount\n" + (0..<1000).map { _ in "\(Double.random(in: 0..<100, using: &g))" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv").status, 201)
        let rows = (0..<300).map { _ in "{\"features\":{\"amount\":\(Double.random(in: 200..<300, using: &g))}}" }
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "POST", "/v1/models/fraud/observations", body: Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8)).status, 202)

        let key = "alertmanager:episode:1:firing"
        var listed = try runDriftwatch(["actions", "list", "--model", "fraud", "--server", base, "--state", "given_up"])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !listed.stdout.contains(key) {
            usleep(100_000)
            listed = try runDriftwatch(["actions", "list", "--model", "fraud", "--server", base, "--state", "given_up"])
        }
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.hasPrefix("\(key)  given up after 1 attempt (retry: driftwatch actions retry --model fraud \(key))  last error: http://127.0.0.1:1/api/v2/alerts:"), listed.stdout)

        let retried = try runDriftwatch(["actions", "retry", "--model", "fraud", "--server", base, "--all-given-up"])
        XCTAssertEqual(retried.status, 0, retried.stderr)
        XCTAssertEqual(retried.stdout, "\(key): pending, due now\n")
        let json = try runDriftwatch(["actions", "list", "--model", "fraud", "--server", base, "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let actions = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["actions"] as? [[String: Any]]
        XCTAssertEqual(actions?.first { $0["key"] as? String == key }?["episode_id"] as? Int, 1, json.stdout)

        // Errors: one line, non-zero.
        let unknown = try runDriftwatch(["actions", "retry", "--model", "fraud", "--server", base, "alertmanager:episode:9:firing"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("HTTP 404: model fraud has no action \"alertmanager:episode:9:firing\""), unknown.stderr)
        let badState = try runDriftwatch(["actions", "list", "--model", "fraud", "--server", base, "--state", "failed"])
        XCTAssertNotEqual(badState.status, 0)
        XCTAssertTrue(badState.stderr.contains("--state must be one of pending, delivered, given_up; got \"failed\""), badState.stderr)
        let neither = try runDriftwatch(["actions", "retry", "--model", "fraud", "--server", base])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.stderr.contains("give action keys or --all-given-up"), neither.stderr)
    }
}
