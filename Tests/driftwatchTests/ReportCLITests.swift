import DriftCore
import Foundation
import XCTest

/// `driftwatch report` against the real `driftwatch serve`: plain text when piped (no colour
/// codes), the drifted features first, `--format json`, one-line errors.
final class ReportCLITests: XCTestCase {
    func testReportPrintsTheDriftedFeaturesAndJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ServeBinaryTests.Server(dataDir: dir)
        defer { server.kill(SIGTERM) }
        let port = server.port
        let settings = #"{"features":[{"name":"amount","kind":"numeric"},{"name":"country","kind":"categorical"}],"prediction":{"name":"score","kind":"numeric"},"window":{"rows":300},"min_rows":100}"#
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud", body: Data(settings.utf8)).status, 201)
        var g = SeededGenerator(seed: 5)
        var csv = "amount,country,score\n"
        for k in 0..<1000 { csv += "\(Double.random(in: 0..<100, using: &g)),\(k % 2 == 0 ? "DE" : "FR"),\(Double.random(in: 0..<1, using: &g))\n" }
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv").status, 201)
        let rows = (0..<300).map { k in "{\"id\":\"r\(k)\",\"features\":{\"amount\":\(Double.random(in: 200..<300, using: &g)),\"country\":\"\(k % 2 == 0 ? "DE" : "FR")\"},\"prediction\":\(Double.random(in: 0..<1, using: &g))}" }
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "POST", "/v1/models/fraud/observations", body: Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8)).status, 202)
        // The window is evaluated in the background.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? JSONSerialization.jsonObject(with: ServeBinaryTests.blockingCall(port, "GET", "/v1/models/fraud/drift").data) as? [String: Any])?["report"] == nil {
            usleep(50_000)
        }

        let text = try runDriftwatch(["report", "--model", "fraud", "--server", "http://127.0.0.1:\(port)"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertFalse(text.stdout.contains("\u{1B}["), "no colour codes when piped")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "fraud: SUSPECTED since " + (lines.first?.components(separatedBy: "since ").last ?? ""))
        let table = lines.drop { !$0.hasPrefix("feature") }
        XCTAssertTrue(table.dropFirst().first?.hasPrefix("amount   DRIFTED") == true, text.stdout)
        XCTAssertTrue(text.stdout.contains("runbook: https://"), text.stdout)

        let json = try runDriftwatch(["report", "--model", "fraud", "--server", "http://127.0.0.1:\(port)", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["state"] as? String, "suspected")

        let missing = try runDriftwatch(["report", "--model", "nobody", "--server", "http://127.0.0.1:\(port)"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("driftwatch: http://127.0.0.1:\(port)/v1/models/nobody/report: HTTP 404: no model named"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1)
        let down = try runDriftwatch(["report", "--model", "fraud", "--server", "http://127.0.0.1:1"])
        XCTAssertEqual(down.status, 2)
        XCTAssertTrue(down.stderr.hasPrefix("driftwatch: cannot reach http://127.0.0.1:1"), down.stderr)
    }
}
