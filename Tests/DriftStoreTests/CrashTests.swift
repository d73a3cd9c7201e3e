import Foundation
import XCTest

@testable import DriftStore

#if os(Linux)
/// "Acknowledged means on disk" under kill -9: a child process (this test binary, running only
/// `CrashWriter`) appends batches and writes an acknowledgement line after each
/// `appendBatch` returns — the moment the service would send 202. The parent kills it with
/// SIGKILL mid-stream, reopens the store and checks that every acknowledged batch and its
/// prediction ids are there.
final class CrashTests: XCTestCase {
    func testKill9LosesNoAcknowledgedBatch() throws {
        let directory = try makeTemporaryDirectory(self)
        let ackPath = directory + "/acks.txt"
        let storeDirectory = directory + "/store"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["DriftStoreTests.CrashWriter/testAppendUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[CrashWriter.directoryVariable] = storeDirectory
        environment[CrashWriter.ackVariable] = ackPath
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // Wait through terminationHandler (waitUntilExit can spin in async test contexts).
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        let deadline = Date().addingTimeInterval(60)
        var acknowledged = 0
        while Date() < deadline, process.isRunning {
            acknowledged = CrashWriter.acks(at: ackPath).count
            if acknowledged >= 200 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        XCTAssertEqual(exited.wait(timeout: .now() + 30), .success, "child did not die")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the writer must die by SIGKILL, not finish")

        let acks = CrashWriter.acks(at: ackPath)
        XCTAssertGreaterThanOrEqual(acks.count, 200)
        let store = try SQLiteStore(directory: storeDirectory)
        defer { try? store.close() }
        let stored = Set(try store.batches(model: "m", afterBatchID: 0, limit: Int.max).map(\.id))
        var missing: [Int64] = []
        for (batchID, sequence) in acks {
            let lastID = "b\(sequence)-\(CrashWriter.rows - 1)"
            let location = located(try store.lookupPrediction(model: "m", id: lastID))
            if !stored.contains(batchID) || location != [batchID, Int64(CrashWriter.rows - 1)] {
                missing.append(batchID)
            }
        }
        XCTAssertEqual(missing, [], "acknowledged batches lost by kill -9")
        // At most the one batch committed but not yet acknowledged when the signal landed.
        XCTAssertLessThanOrEqual(stored.count - acks.count, 1)
    }
}

/// Runs only as the child of `CrashTests`; skipped in a normal test run.
final class CrashWriter: XCTestCase {
    static let directoryVariable = "DRIFTSTORE_CRASH_WRITER_DIR"
    static let ackVariable = "DRIFTSTORE_CRASH_WRITER_ACKS"
    static let rows = 100

    /// As the child of `CrashTests` (environment set): appends until killed. In a normal run:
    /// the same writer for 20 batches, checking that every acknowledgement line names a stored
    /// batch — the protocol the crash test relies on.
    func testAppendUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = environment[Self.directoryVariable], let ackPath = environment[Self.ackVariable] else {
            let root = try makeTemporaryDirectory(self)
            try write(directory: root + "/store", ackPath: root + "/acks.txt", batches: 20)
            let acks = Self.acks(at: root + "/acks.txt")
            XCTAssertEqual(acks.map(\.1), Array(0..<20))
            let store = try SQLiteStore(directory: root + "/store")
            defer { try? store.close() }
            XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 100).map(\.id), acks.map(\.0))
            return
        }
        try write(directory: directory, ackPath: ackPath, batches: .max)
    }

    private func write(directory: String, ackPath: String, batches: Int) throws {
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        try store.upsertModel(name: "m", settings: Fixture.settings, now: Date())
        XCTAssertTrue(FileManager.default.createFile(atPath: ackPath, contents: nil))
        let ack = try XCTUnwrap(FileHandle(forWritingAtPath: ackPath))
        let payload = Data(repeating: 0xAB, count: 8_000)
        let stop = Date().addingTimeInterval(60)  // bounded even if the parent vanished
        var sequence = 0
        while Date() < stop && sequence < batches {
            let ids = (0..<Self.rows).map { (id: "b\(sequence)-\($0)", row: $0) }
            let outcome = try store.appendBatch(
                model: "m", receivedAt: Date(), rows: Self.rows, firstEventTime: nil, lastEventTime: nil,
                idempotencyKey: "k\(sequence)", payload: payload, predictionIDs: ids)
            // FileHandle.write is an unbuffered write(2): the line exists once this returns.
            ack.write(Data("\(outcome.batchID) \(sequence)\n".utf8))
            sequence += 1
        }
    }

    /// Complete acknowledgement lines (a torn last line was never acknowledged).
    static func acks(at path: String) -> [(Int64, Int)] {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        if !text.hasSuffix("\n"), !lines.isEmpty { lines.removeLast() }  // torn by the kill
        return lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let id = Int64(parts[0]), let sequence = Int(parts[1]) else { return nil }
            return (id, sequence)
        }
    }
}
#endif
