import DriftSimulation
import DriftCore
@testable import DriftServer
@testable import DriftStore
import Foundation
import XCTest

/// A store that cannot write answers 503 with Retry-After and the cause, /readyz says why and
/// recovers when writes work again, the fault is counted, and nothing acknowledged is lost.
/// On a real small filesystem (a tmpfs the test mounts, as root); where mounting is not
/// allowed, SQLite's own page limit gives the same SQLITE_FULL, and the test says so.
final class StoreFaultTests: XCTestCase {
    func testAFullDiskIsA503ThatRecovers() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dw-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let mounted = run("/bin/mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", root]) == 0
        defer {
            if mounted { _ = run("/bin/umount", [root]) }
            try? FileManager.default.removeItem(atPath: root)
        }
        if !mounted { print("StoreFaultTests: cannot mount a tmpfs here (not root?): filling the store with SQLite's max_page_count instead") }
        let s = try LiveService(directory: root + "/data")
        try await s.running { s in
            assertStatus(try await s.call("PUT", "/v1/models/fraud", json: Demo.settings), 201)
            assertStatus(try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 2000), contentType: "text/csv"), 201)
            var gen = FraudDemoData(seed: 3, idPrefix: "p")
            assertStatus(try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: false, gen: &gen)), 202)

            // Fill the filesystem (or cap the database), then ingest until the store refuses.
            let store = try XCTUnwrap(s.service.store as? SQLiteStore)
            if mounted {
                _ = run("/bin/dd", ["if=/dev/zero", "of=\(root)/filler", "bs=1M"])
            } else {
                try await store.writer.writeWithoutTransaction { db in
                    let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                    try db.execute(sql: "PRAGMA max_page_count = \(pages + 8)")
                }
            }
            var accepted = 250
            var refusal: LiveService.Reply?
            for _ in 0..<400 {
                let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: false, gen: &gen))
                if r.status == 202 { accepted += 250; continue }
                refusal = r
                break
            }
            let r = try XCTUnwrap(refusal, "the store never refused a batch on a full disk")
            assertProblem(r, 503, "disk_full")
            XCTAssertEqual(r.headers["retry-after"], "10")
            XCTAssertTrue((r.json["detail"] as? String ?? "").contains("nothing of this request was stored"), r.text)
            let ready = try await s.call("GET", "/readyz")
            assertProblem(ready, 503, "writes fail (disk_full")
            let metrics = try await s.call("GET", "/metrics").text
            XCTAssertTrue(metrics.contains(#"driftwatch_store_errors_total{cause="disk_full"}"#), "no store error series")
            XCTAssertFalse(metrics.contains(#"driftwatch_store_errors_total{cause="disk_full"} 0"#), "the disk-full error was not counted")
            XCTAssertTrue(metrics.contains("driftwatch_store_free_bytes "), "no free-space gauge")

            // Space again: ready again without a restart, and ingest is accepted.
            if mounted {
                try FileManager.default.removeItem(atPath: "\(root)/filler")
            } else {
                try await store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
            }
            assertStatus(try await s.call("GET", "/readyz"), 200)
            assertStatus(try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(250, drift: false, gen: &gen)), 202)
            accepted += 250
            // Nothing acknowledged was lost, nothing refused was stored.
            XCTAssertEqual(try store.observationCount(model: "fraud"), accepted)
        }
    }

    private func assertStatus(_ r: LiveService.Reply, _ status: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
    }

    /// Runs a program, its output discarded; its exit status (-1 when it cannot start).
    private func run(_ path: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
