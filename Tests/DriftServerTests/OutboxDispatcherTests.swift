import DriftActions
import DriftCore
import DriftStore
import Foundation
import Logging
import Synchronization
import XCTest

/// DriftActions' dispatcher on its own against the Kubernetes stand-in: one failure policy for
/// every kind — a 5xx is retried after the backoff (the action stays pending), a 4xx no retry
/// fixes gives the action up and fails its remediation record, and a peer that was unreachable
/// is probed and used as soon as it answers.
final class OutboxDispatcherTests: XCTestCase {
    final class Outcomes: @unchecked Sendable {
        // @unchecked: every access holds the lock.
        private let lock = NSLock()
        private var items: [ActionOutcome] = []
        func add(_ o: ActionOutcome) { lock.withLock { items.append(o) } }
        var all: [ActionOutcome] { lock.withLock { items } }
    }

    /// The test's clock, moved by hand.
    final class TestClock: Sendable {
        private let now: Mutex<Date>
        init(_ start: Date) { now = Mutex(start) }
        var date: Date { now.withLock { $0 } }
        func advance(to date: Date) { now.withLock { $0 = date } }
    }

    private func webhook(_ url: String, episode: Int64) -> Action {
        .webhook(RemediationRequest(
            path: url + "/hooks/retrain",
            body: RetrainRequest(model: "fraud", episodeID: episode, baselineVersion: 1, driftedFeatures: ["amount"],
                                 driftFrom: 0, driftTo: 60, candidatesURL: "http://dw/v1/models/fraud/candidates"),
            step: RemediationStep(kind: .retrainWebhook, name: "dw-retrain-fraud-e\(episode)", episodeID: nil, stateOnSuccess: .created)))
    }

    func testRetryOnServerErrorsAndGiveUpOnAConflictNoRetryFixes() async throws {
        let api = try await KubernetesStandIn()
        let transport = RemediationTransport(kubernetes: nil, caFile: nil, argo: nil)
        do {
            let store = try SQLiteStore.inMemory()
            try store.upsertModel(name: "fraud", settings: ModelSettings(features: [], prediction: nil), now: Date())
            let now = Date(timeIntervalSince1970: 1_764_000_000)
            let outcomes = Outcomes()
            let dispatcher = OutboxDispatcher(store: store, alerting: nil, remediation: transport, logger: Logger(label: "test"),
                                              clock: { now }, observe: { outcomes.add($0) })
            func webhook(_ episode: Int64) -> Action { self.webhook(api.url, episode: episode) }
            // The first call meets a 500: retried after 1 s.
            await api.state.fail(next: 1)
            let first = try store.enqueue(webhook(1), key: .retrain(episodeID: 1), model: "fraud", now: now, episodeID: nil)
            try await dispatcher.deliverDue()
            var record = try XCTUnwrap(try store.action(id: first))
            XCTAssertEqual(record.state, .pending, "retrying is pending")
            XCTAssertEqual(record.attempts, 1)
            XCTAssertEqual(record.nextAttemptAt, now.addingTimeInterval(1))
            XCTAssertEqual(outcomes.all.map(\.result), [.retried])

            // Due again: delivered (201) and the run recorded as created.
            let later = OutboxDispatcher(store: store, alerting: nil, remediation: transport, logger: Logger(label: "test"),
                                         clock: { now.addingTimeInterval(2) }, observe: { outcomes.add($0) })
            try await later.deliverDue()
            record = try XCTUnwrap(try store.action(id: first))
            XCTAssertEqual(record.state, .delivered)
            XCTAssertEqual(try store.remediations(model: "fraud").first?.state, .created)

            // Another episode's webhook to the same path: the stand-in answers 409, which a
            // webhook does not take as done — given up at once, the run failed.
            let second = try store.enqueue(webhook(2), key: .retrain(episodeID: 2), model: "fraud", now: now, episodeID: nil)
            try await later.deliverDue()
            record = try XCTUnwrap(try store.action(id: second))
            XCTAssertEqual(record.state, .givenUp)
            XCTAssertEqual(record.attempts, 1)
            XCTAssertTrue(record.lastError?.contains("HTTP 409") == true, record.lastError ?? "")
            let run = try XCTUnwrap(try store.remediations(model: "fraud").first { $0.name == "dw-retrain-fraud-e2" })
            XCTAssertEqual(run.state, .failed)
            XCTAssertEqual(outcomes.all.map(\.result), [.retried, .delivered, .givenUp])
            XCTAssertEqual(outcomes.all.last?.kind, "retrain_webhook")
            XCTAssertEqual(outcomes.all.last?.remediationState, .failed)
            XCTAssertEqual(try store.dueActions(now: now.addingTimeInterval(3600), limit: 10).count, 0, "given up: never due again by itself")
        } catch {
            await transport.shutdown()
            await api.stop()
            throw error
        }
        await transport.shutdown()
        await api.stop()
    }

    /// A peer refused for a long while (the backoff at its 60 s step) is probed every 5 s — a
    /// failed probe costs no attempt — and once it answers, its pending actions go out at once.
    func testAnUnreachablePeerIsProbedAndUsedAsSoonAsItAnswers() async throws {
        let gone = try await KubernetesStandIn()
        let port = gone.port
        let url = gone.url
        await gone.stop()
        let transport = RemediationTransport(kubernetes: nil, caFile: nil, argo: nil)
        let start = Date(timeIntervalSince1970: 1_764_000_000)
        let clock = TestClock(start)
        let store = try SQLiteStore.inMemory()
        try store.upsertModel(name: "fraud", settings: ModelSettings(features: [], prediction: nil), now: start)
        let outcomes = Outcomes()
        let dispatcher = OutboxDispatcher(store: store, alerting: nil, remediation: transport, logger: Logger(label: "test"),
                                          clock: { clock.date }, observe: { outcomes.add($0) })
        let first = try store.enqueue(webhook(url + "/e1", episode: 1), key: .retrain(episodeID: 1), model: "fraud", now: start, episodeID: nil)
        try await dispatcher.deliverDue()
        var record = try XCTUnwrap(try store.action(id: first))
        XCTAssertEqual([record.state], [.pending])
        XCTAssertEqual(record.attempts, 1)
        XCTAssertEqual(record.nextAttemptAt, start.addingTimeInterval(1))
        XCTAssertEqual(outcomes.all.map(\.result), [.retried])

        // Minutes later the backoff has reached 60 s; another action (a webhook of its own
        // path: the stand-in answers a repeated path 409) waits behind it.
        try store.markRetry(id: first, error: "refused", now: start, nextAttempt: start.addingTimeInterval(60))
        let second = try store.enqueue(webhook(url + "/e2", episode: 2), key: .retrain(episodeID: 2), model: "fraud", now: start, episodeID: nil)
        try store.markRetry(id: second, error: "refused", now: start, nextAttempt: start.addingTimeInterval(59))
        // 5 s on: a probe, refused again, and not counted.
        clock.advance(to: start.addingTimeInterval(5))
        try await dispatcher.deliverDue()
        XCTAssertEqual(try store.action(id: second)?.attempts, 1, "a failed probe is not an attempt")
        XCTAssertEqual(try store.action(id: second)?.nextAttemptAt, start.addingTimeInterval(59))
        XCTAssertEqual(outcomes.all.count, 1)

        // The peer comes back on its port: the next probe (10 s) delivers, and the other action
        // is due at once — both out 50 s before their backoff.
        let api = try await KubernetesStandIn(port: port)
        do {
            clock.advance(to: start.addingTimeInterval(7))
            try await dispatcher.deliverDue()
            XCTAssertEqual(try store.action(id: second)?.state, .pending, "probes are 5 s apart")
            clock.advance(to: start.addingTimeInterval(10))
            try await dispatcher.deliverDue()
            XCTAssertEqual(try store.action(id: second)?.state, .delivered, "the probe sends the earliest due")
            XCTAssertEqual(try store.action(id: first)?.nextAttemptAt, start.addingTimeInterval(10))
            try await dispatcher.deliverDue()
            record = try XCTUnwrap(try store.action(id: first))
            XCTAssertEqual(record.state, .delivered)
            let calls = await api.calls("POST", "/e")
            XCTAssertEqual(calls.count, 2)
            XCTAssertEqual(outcomes.all.map(\.result), [.retried, .delivered, .delivered])
        } catch {
            await transport.shutdown()
            await api.stop()
            throw error
        }
        await transport.shutdown()
        await api.stop()
    }
}
