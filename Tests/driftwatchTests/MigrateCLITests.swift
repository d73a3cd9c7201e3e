import DriftCore
import DriftTestSupport
import Foundation
import XCTest

/// `driftwatch migrate` with the real binaries: a single-node SQLite store with a closed window
/// and an open one is copied into a real PostgreSQL (started by the test), and `serve --store`
/// on the copy shows the same model, windows and open rows; bad invocations are one line, exit 2.
final class MigrateCLITests: XCTestCase {
    func testASQLiteStoreMovesToPostgresAndServesTheSame() throws {
        let postgres = try PostgresServer()
        defer { postgres.destroy() }
        let url = try postgres.makeDatabase()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-migrate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        // The single-node service: one closed 300-row window and 100 rows of the open one.
        var single = try ServeBinaryTests.Server(dataDir: dir + "/data")
        var model = AmountModel(port: single.port, seed: 9)
        model.post(single.port, 300)
        model.post(single.port, 100)
        XCTAssertEqual(AmountModel.windows(single.port, atLeast: 1).count, 1, "window 1 was not stored")
        single.kill(SIGTERM)

        let copied = try runDriftwatch(["migrate", "--from", dir + "/data", "--to", url])
        XCTAssertEqual(copied.status, 0, copied.stderr)
        XCTAssertTrue(copied.stdout.contains("  batches: 2 rows"), copied.stdout)
        XCTAssertTrue(copied.stdout.contains("  windows: 1 rows"), copied.stdout)
        XCTAssertTrue(copied.stdout.contains("copied "), copied.stdout)

        // serve on the copy: the same window, and the open window completes with 200 more rows.
        single = try ServeBinaryTests.Server(dataDir: dir + "/unused", arguments: ["--store", url])
        defer { single.kill(SIGTERM) }
        XCTAssertEqual(AmountModel.windows(single.port, atLeast: 1).count, 1)
        model.post(single.port, 200)
        XCTAssertEqual(AmountModel.windows(single.port, atLeast: 2).count, 2, "the open window did not continue from the copied rows")

        // Again into the same (now non-empty) database: refused, one line.
        let again = try runDriftwatch(["migrate", "--from", dir + "/data", "--to", url])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.hasPrefix("driftwatch: conflict: the target postgres://driftwatch@127.0.0.1:"), again.stderr)
        XCTAssertTrue(again.stderr.contains("already holds 1 model(s): migrate into an empty database"), again.stderr)
        XCTAssertEqual(again.stderr.split(separator: "\n").count, 1, again.stderr)

        // Schema only.
        let schema = try runDriftwatch(["migrate", "--store", url])
        XCTAssertEqual(schema.status, 0, schema.stderr)
        XCTAssertTrue(schema.stdout.contains("schema current"), schema.stdout)
    }

    func testBadInvocationsAreOneLineAndExit2() throws {
        let noTarget = try runDriftwatch(["migrate", "--from", "/tmp"])
        XCTAssertEqual(noTarget.status, 2)
        XCTAssertTrue(noTarget.stderr.contains("give --store URL (schema only) or --from DIR --to URL (copy)"), noTarget.stderr)
        let notPostgres = try runDriftwatch(["migrate", "--store", "mysql://x@y/z"])
        XCTAssertEqual(notPostgres.status, 2)
        XCTAssertTrue(notPostgres.stderr.contains("is not postgres://user@host:5432/database"), notPostgres.stderr)
        let badParameter = try runDriftwatch(["migrate", "--store", "postgres://u@127.0.0.1:1/db?sslmod=disable"])
        XCTAssertEqual(badParameter.status, 2)
        XCTAssertTrue(badParameter.stderr.contains("parameter 'sslmod' is unknown"), badParameter.stderr)
        let unreachable = try runDriftwatch(["migrate", "--store", "postgres://u@127.0.0.1:1/db?sslmode=disable"])
        XCTAssertEqual(unreachable.status, 2)
        XCTAssertTrue(unreachable.stderr.hasPrefix("driftwatch: cannot open store at postgres://u@127.0.0.1:1/db:"), unreachable.stderr)
        XCTAssertEqual(unreachable.stderr.split(separator: "\n").count, 1, unreachable.stderr)
    }
}
