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
        var model = AmountModel(port: active.port, seed: 4)
        model.post(active.port, 200)

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
        model.post(server.port, 100)
        let windows = AmountModel.windows(server.port, atLeast: 1)
        XCTAssertEqual(windows.count, 1)
        XCTAssertEqual(windows.first?["rows"] as? Int, 300, "the window holds the rows acknowledged before and after the takeover")
    }
}

/// The standby's server, started on another thread.
private final class StandbyBox: @unchecked Sendable {
    // @unchecked Sendable is safe: written once before `started` is signalled, read after waiting on it.
    var result: Result<ServeBinaryTests.Server, any Error>?
}
