import DriftCore
import DriftTestSupport
import Foundation
import XCTest

@testable import DriftStore

/// What only the PostgreSQL backend has: schema versions shared by replicas, a server that can
/// go away and come back, the partitioned id index, the copy from SQLite. Against a real
/// PostgreSQL 15 started for the class.
final class PostgresStoreTests: XCTestCase {
    private static let server = Result { try PostgresServer() }

    override class func tearDown() {
        if case .success(let server) = server { server.destroy() }
        super.tearDown()
    }

    private func freshStore(migrate: Bool = true) throws -> (PostgresStore, String) {
        let url = try Self.server.get().makeDatabase()
        let store = try PostgresStore(location: PostgresLocation(url: url), migrate: migrate)
        addTeardownBlock { try? store.close() }
        return (store, url)
    }

    // MARK: schema

    func testASchemaNewerThanThisBinaryIsRefusedWithWhatToDo() throws {
        let (store, url) = try freshStore()
        try store.close()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        try Self.server.get().psql("INSERT INTO driftwatch_migrations (name, applied_at, seq) VALUES ('pg9-from-the-future', 0, 99)", database: database)
        XCTAssertThrowsError(try PostgresStore(location: PostgresLocation(url: url))) { error in
            guard case .schemaTooNew(let message) = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("pg9-from-the-future"), message)
            XCTAssertTrue(message.contains("newer driftwatch"), message)
        }
    }

    func testASchemaBehindIsNotUsedUntilMigrated() throws {
        let url = try Self.server.get().makeDatabase()
        XCTAssertThrowsError(try PostgresStore(location: PostgresLocation(url: url), migrate: false)) { error in
            guard case .schemaBehind(let message) = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("driftwatch migrate --store postgres://driftwatch@127.0.0.1"), message)
            XCTAssertFalse(message.contains("sslmode"), "the URL in the message is the redacted location: \(message)")
        }
        let migrated = try PostgresStore(location: PostgresLocation(url: url), migrate: true)
        try migrated.close()
        let again = try PostgresStore(location: PostgresLocation(url: url), migrate: false)
        try again.close()
    }

    func testReplicasStartingTogetherMigrateOnce() throws {
        let url = try Self.server.get().makeDatabase()
        let location = try PostgresLocation(url: url)
        let results = ResultsBox()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            results.add(Result { try PostgresStore(location: location) })
        }
        for case .failure(let error) in results.all { XCTFail("a replica failed to open: \(error)") }
        for case .success(let store) in results.all { try store.close() }
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let names = try Self.server.get().psql("SELECT name FROM driftwatch_migrations ORDER BY seq", database: database)
        XCTAssertEqual(names.split(separator: "\n").map(String.init), PostgresStore.schemaMigrations)
    }

    // MARK: the server going away

    func testAServerRestartIsUnavailableThenRecoversWithoutReopening() throws {
        let (store, _) = try freshStore()
        try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        XCTAssertNotNil(try store.append("m").batchID)
        let server = try Self.server.get()
        server.stop()
        defer { if server.processID == nil { try? server.start() } }
        XCTAssertThrowsError(try store.append("m")) { error in
            guard case .unavailable(let fault, let message) = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(fault, .unreachable, message)
        }
        XCTAssertEqual(store.writeFault()?.fault, .unreachable)
        XCTAssertThrowsError(try store.ping())
        try server.start()
        let after = try store.append("m")
        XCTAssertNil(store.writeFault(), "a successful write clears the fault")
        XCTAssertEqual(try store.batches(model: "m", afterBatchID: 0, limit: 10).map(\.id).last, after.batchID)
        XCTAssertEqual(try store.observationCount(model: "m"), 6, "nothing acknowledged was lost")
    }

    // MARK: the partitioned id index

    func testRetentionDropsWholeIndexPartitionsAndKeepsTheRest() async throws {
        let (store, url) = try freshStore()
        try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        let day = 86_400.0
        let old = try store.append("m", at: t(0), idPrefix: "old").batchID
        let recent = try store.append("m", at: t(2 * day), idPrefix: "new").batchID
        while try store.indexPendingPredictionIDs() > 0 {}
        XCTAssertEqual(try store.pendingPredictionIDBatches(), 0)
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        func partitions() throws -> Int {
            Int(try Self.server.get().psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'prediction_keys'::regclass", database: database)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        XCTAssertEqual(try partitions(), 2, "one partition per UTC day with batches")
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "old-1")), [old, 1])
        try store.insertWindow(window("m", seq: 1, first: old, last: recent))
        XCTAssertEqual(try store.pruneBatches(model: "m", receivedBefore: t(day)), 1)
        XCTAssertEqual(try partitions(), 1, "the emptied day's partition is dropped whole")
        XCTAssertNil(try store.lookupPrediction(model: "m", id: "old-1"))
        XCTAssertEqual(located(try store.lookupPrediction(model: "m", id: "new-2")), [recent, 2])
    }

    // MARK: copy from SQLite

    func testACopiedSQLiteStoreReadsTheSameAndResumesItsIDs() async throws {
        let directory = try makeTemporaryDirectory(self)
        let source = try SQLiteStore(directory: directory)
        defer { try? source.close() }
        for model in ["fraud", "churn"] {
            try source.upsertModel(name: model, settings: Fixture.settings, now: t(0))
            _ = try source.insertBaseline(model: model, source: "train.csv", profile: Fixture.profile(), upload: Fixture.upload, now: t(1))
        }
        let b1 = try source.append("fraud", key: "k1", idPrefix: "f1").batchID
        let b2 = try source.append("fraud", idPrefix: "f2").batchID
        _ = try source.append("churn", idPrefix: "c1")
        _ = try await source.indexPendingPredictionIDs()
        try source.insertWindow(window("fraud", seq: 1, first: b1, last: b2, drifted: true))
        let episode = try source.upsertEpisode(Fixture.episode("fraud"))
        try source.insertTransition(TransitionRecord(episodeID: episode.id, model: "fraud", from: .ok, to: .suspected, at: t(2), windowSeq: 1,
                                                     evidence: Fixture.evidence(1)))
        try source.enqueueAction(model: "fraud", kind: "alertmanager", key: "alertmanager:episode:\(episode.id):firing", payloadJSON: "{}",
                                 now: t(3), episodeID: episode.id)
        _ = try source.storeLabels(model: "fraud", [LabelInput(predictionID: "f1-0", label: 1, labelTime: nil)], receivedAt: t(4))
        try source.recordRemediation(model: "fraud", episodeID: episode.id, kind: .retrainJob, name: "retrain-1", state: .running, detail: nil, now: t(5))

        let (target, _) = try freshStore()
        let report = try StoreCopy.copy(from: source, to: target)
        XCTAssertEqual(report.tables.first { $0.table == "batches" }?.rows, 3)
        XCTAssertEqual(try target.models().map(\.name), ["churn", "fraud"])
        XCTAssertEqual(try target.latestBaseline(model: "fraud")?.summary, try source.latestBaseline(model: "fraud")?.summary)
        XCTAssertEqual(try target.batches(model: "fraud", afterBatchID: 0, limit: 10), try source.batches(model: "fraud", afterBatchID: 0, limit: 10))
        XCTAssertEqual(try target.windows(model: "fraud", limit: 5), try source.windows(model: "fraud", limit: 5))
        XCTAssertEqual(try target.episodes(model: "fraud", limit: 5), try source.episodes(model: "fraud", limit: 5))
        XCTAssertEqual(try target.transitions(episodeID: episode.id), try source.transitions(episodeID: episode.id))
        XCTAssertEqual(try target.actions(episodeID: episode.id), try source.actions(episodeID: episode.id))
        XCTAssertEqual(try target.remediations(model: "fraud"), try source.remediations(model: "fraud"))
        XCTAssertEqual(try target.labelCounts(model: "fraud"), [.pending: 1])
        // The idempotency key came along; the id index is rebuilt by the indexer.
        XCTAssertEqual(try target.append("fraud", key: "k1"), .duplicate(batchID: b1, rows: 3))
        while try target.indexPendingPredictionIDs() > 0 {}
        XCTAssertEqual(located(try target.lookupPrediction(model: "fraud", id: "f2-1")), [b2, 1])
        // New rows continue after the copied ids instead of reusing them.
        XCTAssertGreaterThan(try target.append("fraud").batchID, b2)
        XCTAssertGreaterThan(try target.upsertEpisode(Fixture.episode("fraud")).id, episode.id)
        // A second copy into a store that holds models is refused.
        XCTAssertThrowsError(try StoreCopy.copy(from: source, to: target)) { error in
            guard case .conflict(let message) = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("already holds 2 model(s)"), message)
        }
    }
}

/// Results gathered from concurrent work.
private final class ResultsBox: @unchecked Sendable {
    // @unchecked Sendable is safe: `results` is only touched under `lock`.
    private let lock = NSLock()
    private var results: [Result<PostgresStore, any Error>] = []
    func add(_ r: Result<PostgresStore, any Error>) { lock.withLock { results.append(r) } }
    var all: [Result<PostgresStore, any Error>] { lock.withLock { results } }
}

/// Batch ids of a model grow in commit order even when two replicas append at once: a reader
/// paging with `batches(after:)` while they append sees every batch exactly once. (Without
/// the per-model lock, a transaction holding id n can commit after one holding n + 1, and a
/// reader whose cursor passed n + 1 never sees n.)
final class PostgresCommitOrderTests: XCTestCase {
    func testAReaderPagingWhileTwoReplicasAppendSeesEveryBatchOnce() throws {
        let server = try PostgresServer()
        defer { server.destroy() }
        let location = try PostgresLocation(url: try server.makeDatabase())
        let replicas = [try PostgresStore(location: location), try PostgresStore(location: location)]
        let reader = try PostgresStore(location: location)
        defer { for s in replicas + [reader] { try? s.close() } }
        try replicas[0].upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        let perWriter = 150, writers = 4
        let appended = ResultsCounter()
        let done = DispatchGroup()
        for w in 0..<writers {
            DispatchQueue.global().async(group: done) {
                for _ in 0..<perWriter {
                    do {
                        _ = try replicas[w % 2].append("m", rows: 1)
                        appended.add()
                    } catch {
                        appended.fail("\(error)")
                    }
                }
            }
        }
        var seen: [Int64] = []
        var cursor: Int64 = 0
        var finished = false
        while true {
            if !finished { finished = done.wait(timeout: .now()) == .success }
            let page = try reader.batches(model: "m", afterBatchID: cursor, limit: 7)
            seen += page.map(\.id)
            cursor = page.last?.id ?? cursor
            if finished && page.isEmpty { break }
        }
        XCTAssertEqual(appended.failures, [])
        XCTAssertEqual(appended.count, perWriter * writers)
        XCTAssertEqual(seen.count, perWriter * writers, "the reader missed \(perWriter * writers - seen.count) committed batches")
        XCTAssertEqual(Set(seen).count, seen.count, "a batch was read twice")
    }
}

private final class ResultsCounter: @unchecked Sendable {
    // @unchecked Sendable is safe: both fields are only touched under `lock`.
    private let lock = NSLock()
    private var n = 0
    private var errors: [String] = []
    func add() { lock.withLock { n += 1 } }
    func fail(_ e: String) { lock.withLock { errors.append(e) } }
    var count: Int { lock.withLock { n } }
    var failures: [String] { lock.withLock { errors } }
}

/// One serving process per database: a second waits, and a process whose lock was lost and
/// taken by another is fenced — its writes are refused and it is told to stop.
final class PostgresServeLeaseTests: XCTestCase {
    func testTheHolderTakesItsLockBackAfterAServerRestart() throws {
        let server = try PostgresServer()
        defer { server.destroy() }
        let store = try PostgresStore(location: PostgresLocation(url: try server.makeDatabase()))
        defer { try? store.close() }
        let fenced = ResultsCounter()
        try store.serveExclusively(waiting: { XCTFail("the lock was held") }, fenced: { fenced.fail($0) })
        try store.upsertModel(name: "m", settings: Fixture.settings, now: t(0))
        server.stop()
        try server.start()
        // The watcher notices within a second, leaves a standby the grace period, then takes the lock back.
        let deadline = Date().addingTimeInterval(PostgresStore.reclaimGrace + 8)
        while !store.serveLease.connectionAlive, Date() < deadline { usleep(100_000) }
        XCTAssertTrue(store.serveLease.connectionAlive, "the lock was not taken back")
        XCTAssertEqual(fenced.failures, [], "no other process took over, so this one is not fenced")
        XCTAssertNoThrow(try store.append("m"))
    }

    func testAnExHolderIsFencedOnceAnotherTookOver() throws {
        let server = try PostgresServer()
        defer { server.destroy() }
        let url = try server.makeDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let first = try PostgresStore(location: PostgresLocation(url: url))
        let second = try PostgresStore(location: PostgresLocation(url: url))
        defer { try? first.close(); try? second.close() }
        let fencedMessages = ResultsCounter()
        try first.serveExclusively(waiting: { XCTFail("the first process found the lock held") }, fenced: { fencedMessages.fail($0) })
        try first.upsertModel(name: "m", settings: Fixture.settings, now: t(0))

        // The second waits while the first holds the lock.
        let tookOver = DispatchSemaphore(value: 0)
        let waited = ResultsCounter()
        DispatchQueue.global().async {
            do {
                try second.serveExclusively(waiting: { waited.add() }, fenced: { _ in })
            } catch {
                waited.fail("\(error)")
            }
            tookOver.signal()
        }
        XCTAssertEqual(tookOver.wait(timeout: .now() + 2), .timedOut, "the second process took the lock while the first held it")
        XCTAssertEqual(waited.count, 1, "the standby says once that it waits")

        // The first's lock connection dies (as in a partition); the standby takes over at once.
        try server.psql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted", database: database)
        XCTAssertEqual(tookOver.wait(timeout: .now() + 10), .success, "the standby did not take over")
        XCTAssertEqual(waited.failures, [])
        XCTAssertThrowsError(try first.append("m")) { error in
            guard case .fenced(let message) = error as? DriftStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("another driftwatch took over this database"), message)
        }
        let deadline = Date().addingTimeInterval(10)
        while fencedMessages.failures.isEmpty, Date() < deadline { usleep(100_000) }
        XCTAssertEqual(fencedMessages.failures.count, 1, "the ex-holder was not told to stop")
        XCTAssertNoThrow(try second.append("m"), "the new holder writes")
        XCTAssertEqual(try second.observationCount(model: "m"), 3, "the fenced write stored nothing")
    }
}
