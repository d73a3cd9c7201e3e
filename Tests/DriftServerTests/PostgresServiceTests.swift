import DriftSimulation
import DriftCore
@testable import DriftServer
@testable import DriftStore
import DriftTestSupport
import Foundation
import XCTest

/// The service on the PostgreSQL store, against a real PostgreSQL 15 the test starts: it
/// monitors as on SQLite and resumes after a restart; PostgreSQL restarted under load makes
/// ingest answer 503 + Retry-After and recover without restarting driftwatch, and nothing
/// acknowledged is lost.
final class PostgresServiceTests: XCTestCase {
    private static let server = Result { try PostgresServer() }

    override class func tearDown() {
        if case .success(let server) = server { server.destroy() }
        super.tearDown()
    }

    func testTheServiceOnPostgresDetectsDriftAndResumesAfterARestart() async throws {
        let url = try Self.server.get().makeDatabase()
        let first = try LiveService(configure: { $0.store = url })
        var gen = FraudDemoData(seed: 11)
        try await first.running { s in
            do { let r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings); XCTAssertEqual(r.status, 201, r.text) }
            do { let r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv"); XCTAssertEqual(r.status, 201, r.text) }
            try await s.postWindow("fraud", drift: false, gen: &gen, seq: 1)
            let drifted = try await s.postWindow("fraud", drift: true, gen: &gen, seq: 2)
            XCTAssertEqual((drifted["summary"] as? [String: Any])?["dataset_drifted"] as? Int, 1, "window 2 drifts")
            // Half of window 3, acknowledged before the restart.
            for _ in 0..<2 {
                do { let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: true, gen: &gen)); XCTAssertEqual(r.status, 202, r.text) }
            }
            XCTAssertTrue(s.service.store is PostgresStore)
            do { let r = try await s.call("GET", "/readyz"); XCTAssertEqual(r.status, 200, r.text) }
        }
        // Another process on the same database: the same windows, and the open window goes on.
        let second = try LiveService(configure: { $0.store = url })
        try await second.running { s in
            let windows = try await s.call("GET", "/v1/models/fraud/windows")
            XCTAssertEqual(windows.status, 200, windows.text)
            for _ in 0..<2 {
                do { let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: true, gen: &gen)); XCTAssertEqual(r.status, 202, r.text) }
            }
            let third = try await s.drift("fraud", atLeast: 3)
            XCTAssertEqual(third["rows"] as? Int, 1000, "window 3 holds the rows from before and after the restart: \(third)")
            let stored = try s.service.store.observationCount(model: "fraud")
            XCTAssertEqual(stored, 3000)
        }
    }

    func testPostgresRestartedUnderLoadIs503ThenRecoversWithoutARestart() async throws {
        let server = try Self.server.get()
        let url = try server.makeDatabase()
        let s = try LiveService(configure: { $0.store = url })
        try await s.running { s in
            do { let r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings); XCTAssertEqual(r.status, 201, r.text) }
            do { let r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 2000), contentType: "text/csv"); XCTAssertEqual(r.status, 201, r.text) }
            var gen = FraudDemoData(seed: 5, idPrefix: "r")
            var accepted = 0, refused: LiveService.Reply?
            // Load before, during and after the outage.
            for i in 0..<60 {
                if i == 10 { server.stop() }
                if i == 40 { try server.start() }
                let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen))
                switch r.status {
                case 202: accepted += 100
                case 503: if refused == nil { refused = r }
                default: XCTFail("unexpected \(r.status): \(r.text)")
                }
                if i == 20 {
                    let ready = try await s.call("GET", "/readyz")
                    XCTAssertEqual(ready.status, 503, "readyz while PostgreSQL is down: \(ready.text)")
                }
            }
            let r = try XCTUnwrap(refused, "no request was refused while PostgreSQL was down")
            assertProblem(r, 503, "unreachable")
            XCTAssertNotNil(r.headers["retry-after"], "503 without Retry-After")
            // Back without a driftwatch restart.
            do { let r = try await s.call("GET", "/readyz"); XCTAssertEqual(r.status, 200, r.text) }
            do { let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen)); XCTAssertEqual(r.status, 202, r.text) }
            accepted += 100
            XCTAssertGreaterThanOrEqual(accepted, 2100, "ingest did not recover")
            let stored = try s.service.store.observationCount(model: "fraud")
            XCTAssertEqual(stored, accepted, "every acknowledged row is stored, no refused one")
            // The serve lock's connection died with the server: past the standby's grace period the
            // service takes the lock back (no other process did) and goes on serving.
            try await Task.sleep(for: .seconds(PostgresStore.reclaimGrace + 2))
            XCTAssertTrue((s.service.store as? PostgresStore)?.serveLease.connectionAlive ?? false, "the serve lock was not taken back")
            do { let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen)); XCTAssertEqual(r.status, 202, r.text) }
            accepted += 100
            let stillStored = try s.service.store.observationCount(model: "fraud")
            XCTAssertEqual(stillStored, accepted)
            let metrics = try await s.call("GET", "/metrics").text
            XCTAssertFalse(metrics.contains(#"driftwatch_store_errors_total{cause="unreachable"} 0"#), "the outage was not counted")
        }
    }
}
