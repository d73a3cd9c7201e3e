import DriftCore
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

/// Test fixtures in domain types: small, deterministic, and equal after a round trip.
enum Fixture {
    /// A one-feature model.
    static let settings = ModelSettings(features: [ModelSettings.FeatureSpec(name: "amount", kind: .numeric)], prediction: nil)

    /// A profile of `rows` values 0, 1, … of `amount`.
    static func profile(rows: Int = 50, source: String = "train.csv") -> BaselineProfile {
        BaselineProfile(table: table(rows: rows, source: source))
    }

    static func table(rows: Int, shift: Double = 0, source: String = "t") -> Table {
        var q = QualityCounts()
        q.total = rows
        let values = (0..<rows).map { Double($0) + shift }
        return Table(source: source, rows: rows, columns: [.numeric(NumericColumn(name: "amount", values: values, quality: q))])
    }

    /// The report of window `seq` of `model` (drifted: the window is shifted far away).
    static func report(_ model: String, seq: Int, drifted: Bool = false, start: Double? = nil) -> WindowReport {
        let config = DetectorConfig()
        let features = evaluateWindow(baseline: profile(), window: WindowData(table: table(rows: 40, shift: drifted ? 500 : 3)), config: config)
        let startedAt = start ?? t(Double(seq) * 60).timeIntervalSince1970
        return WindowReport(
            model: model, seq: seq, startedAt: startedAt, endedAt: startedAt + 59.5, evaluatedAt: startedAt + 60, rows: 40,
            baselineVersion: 1, baselineRows: 50, detector: config, features: features.features, prediction: nil,
            summary: features.summary, episodeState: .ok, transitions: [])
    }

    /// Drift evidence for an episode opened or confirmed by window `seq`.
    static func evidence(_ seq: Int, to: EpisodeState = .suspected, features: [String] = ["amount"]) -> EpisodeEvidence {
        .drift(EpisodeTransition(from: .ok, to: to, windowSeq: seq, at: t(Double(seq) * 60).timeIntervalSince1970,
                                 driftedFeatures: features, driftedShare: 1))
    }

    static func episode(_ model: String, id: Int64 = 0, state: EpisodeRecordState = .suspected, at: Double = 100, seq: Int = 1,
                        kind: EpisodeKind = .drift) -> EpisodeRecord {
        EpisodeRecord(id: id, model: model, kind: kind, state: state, openedAt: t(at), confirmedAt: nil, resolvedAt: nil,
                      lastWindowSeq: seq,
                      evidence: kind == .drift ? evidence(seq) : .quality(QualityEvidence(metric: "roc_auc", windowSeq: seq, realized: "0.61", baseline: "0.8")))
    }

    static let upload = BaselineUpload(contentType: "text/csv", bytes: 1234)
}

extension Store {
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

extension SQLiteStore {
    /// Rows across all prediction-key generations.
    func indexedIDCount() throws -> Int {
        try writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT gen FROM id_generations").reduce(0) { total, gen in
                total + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(SQLiteStore.keyTable(gen))") ?? 0)
            }
        }
    }

    /// A store with one model, for tests that need a parent row.
    static func inMemory(withModels names: [String]) throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        for name in names { try store.upsertModel(name: name, settings: Fixture.settings, now: t(0)) }
        return store
    }
}

/// A stored window `seq` of `model` over batches `first...last`.
func window(_ model: String, seq: Int, first: Int64, last: Int64, drifted: Bool = false) -> WindowRecord {
    WindowRecord(report: Fixture.report(model, seq: seq, drifted: drifted), batches: first...last)
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
func located(_ location: PredictionLocation?) -> [Int64]? {
    location.map { [$0.batchID, Int64($0.row)] }
}
