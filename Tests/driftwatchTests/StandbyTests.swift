import DriftCore
import DriftTestSupport
import Foundation
import XCTest

/// Two `driftwatch serve --store postgres://…` on one database: the second is a hot standby
/// (not listening) until the first is killed with SIGKILL; it then takes over within seconds,
/// and the open window continues from the stored batches with nothing acknowledged lost.
final class StandbyTests: XCTestCase {
    func testAStandbyTakesOverWhenTheServerIsKilled() throws {
        let postgres = try PostgresServer()
        defer { postgres.destroy() }
        let url = try postgres.makeDatabase()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-standby-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let active = try ServeBinaryTests.Server(dataDir: dir + "/a", arguments: ["--store", url])
        let settings = #"{"features":[{"name":"amount","kind":"numeric"}],"window":{"rows":300},"min_rows":100}"#
        XCTAssertEqual(ServeBinaryTests.blockingCall(active.port, "PUT", "/v1/models/fraud", body: Data(settings.utf8)).status, 201)
        var g = SeededGenerator(seed: 4)
        let csv = "amount\n" + (0..<1000).map { _ in "\(Double.random(in: 0..<100, using: &g))" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(ServeBinaryTests.blockingCall(active.port, "PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv").status, 201)
        func post(_ port: Int, _ n: Int) {
            let rows = (0..<n).map { _ in "{\"features\":{\"amount\":\(Double.random(in: 0..<100, using: &g))}}" }
            let r = ServeBinaryTests.blockingCall(port, "POST", "/v1/models/fraud/observations", body: Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8))
            XCTAssertEqual(r.status, 202, String(decoding: r.data, as: UTF8.self))
        }
        post(active.port, 200)

        let standby = StandbyBox()
        let started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            standby.result = Result { try ServeBinaryTests.Server(dataDir: dir + "/b", arguments: ["--store", url]) }
            started.signal()
        }
        XCTAssertEqual(started.wait(timeout: .now() + 3), .timedOut, "the standby listened while the active server held the database")
        let killedAt = Date()
        active.kill(SIGKILL)
        XCTAssertEqual(started.wait(timeout: .now() + 20), .success, "the standby did not take over within 20 s")
        let takeover = Date().timeIntervalSince(killedAt)
        print("StandbyTests: the standby listened \(String(format: "%.2f", takeover)) s after the active server was killed with SIGKILL")
        let server = try XCTUnwrap(try standby.result?.get())
        defer { server.kill(SIGTERM) }
        XCTAssertLessThan(takeover, 10, "takeover slower than 10 s")
        XCTAssertTrue(server.logText.contains("standby: another driftwatch serves postgres://driftwatch@127.0.0.1:"), server.logText)

        // The open window continues: 200 rows before the kill, 100 after, one 300-row window.
        post(server.port, 100)
        let deadline = Date().addingTimeInterval(20)
        var windows: [[String: Any]] = []
        while windows.isEmpty, Date() < deadline {
            let r = ServeBinaryTests.blockingCall(server.port, "GET", "/v1/models/fraud/windows")
            windows = ((try? JSONSerialization.jsonObject(with: r.data)) as? [String: Any])?["windows"] as? [[String: Any]] ?? []  // polled until it parses
            if windows.isEmpty { usleep(100_000) }
        }
        XCTAssertEqual(windows.count, 1)
        XCTAssertEqual(windows.first?["rows"] as? Int, 300, "the window holds the rows acknowledged before and after the takeover")
    }
}

/// The standby's server, started on another thread.
private final class StandbyBox: @unchecked Sendable {
    // @unchecked Sendable is safe: written once before `started` is signalled, read after waiting on it.
    var result: Result<ServeBinaryTests.Server, any Error>?
}
