import Foundation
import XCTest

@testable import DriftStore

/// A fresh directory under the system temp dir, removed by the test's teardown.
func makeTemporaryDirectory(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("driftstore-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Fixed instants with exactly representable fractions, so Date round trips through
/// REAL Unix seconds compare equal.
func t(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

extension DriftStore {
    /// Rows across all prediction-key generations.
    func indexedIDCount() throws -> Int {
        try writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT gen FROM id_generations").reduce(0) { total, gen in
                total + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(DriftStore.keyTable(gen))") ?? 0)
            }
        }
    }

    /// A store with one model, for tests that need a parent row.
    static func inMemory(withModels names: [String]) throws -> DriftStore {
        let store = try DriftStore.inMemory()
        for name in names { try store.upsertModel(name: name, settingsJSON: "{}", now: t(0)) }
        return store
    }

    /// Appends a batch of `rows` rows whose prediction ids are "\(prefix)-0" … .
    @discardableResult
    func append(
        _ model: String, rows: Int = 3, at time: Date = t(10), key: String? = nil,
        idPrefix: String? = nil, payload: Data? = nil
    ) throws -> AppendOutcome {
        let ids = idPrefix.map { prefix in (0..<rows).map { (id: "\(prefix)-\($0)", row: $0) } } ?? []
        return try appendBatch(
            model: model, receivedAt: time, rows: rows, firstEventTime: 1.5, lastEventTime: 2.5,
            idempotencyKey: key, payload: payload ?? Data("batch-\(rows)".utf8), predictionIDs: ids)
    }
}

func window(_ model: String, seq: Int64, first: Int64, last: Int64, drifted: Bool = false) -> WindowRecord {
    WindowRecord(
        model: model, seq: seq, startedAt: t(Double(seq) * 60), endedAt: t(Double(seq + 1) * 60),
        firstBatchID: first, lastBatchID: last, rows: Int(last - first + 1) * 3, drifted: drifted,
        driftShare: drifted ? 0.25 : 0, reportJSON: #"{"seq":\#(seq)}"#)
}

/// Asserts that `body` throws a DriftStoreError equal to `expected`.
func XCTAssertStoreError<T>(
    _ expected: DriftStoreError, _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? DriftStoreError, expected, "\(error)", file: file, line: line)
    }
}

/// A lookup result as `[batchID, row]`, comparable with XCTAssertEqual.
func located(_ location: (batchID: Int64, row: Int)?) -> [Int64]? {
    location.map { [$0.batchID, Int64($0.row)] }
}
