import DriftActions
import DriftCore
import DriftStore
import Foundation
import Logging
import XCTest

/// DriftActions' dispatcher on its own against the Kubernetes stand-in: one failure policy for
/// every kind — a 5xx is retried after the backoff, a 4xx no retry fixes parks the action and
/// fails its remediation record.
final class OutboxDispatcherTests: XCTestCase {
    final class Outcomes: @unchecked Sendable {
        // @unchecked: every access holds the lock.
        private let lock = NSLock()
        private var items: [ActionOutcome] = []
        func add(_ o: ActionOutcome) { lock.withLock { items.append(o) } }
        var all: [ActionOutcome] { lock.withLock { items } }
    }

    func testRetryOnServerErrorsAndParkOnAConflictNoRetryFixes() async throws {
        let api = try await KubernetesStandIn()
        let transport = RemediationTransport(kubernetes: nil, caFile: nil, argo: nil)
        do {
            let store = try SQLiteStore.inMemory()
            try store.upsertModel(name: "fraud", settings: ModelSettings(features: [], prediction: nil), now: Date())
            let now = Date(timeIntervalSince1970: 1_764_000_000)
            let outcomes = Outcomes()
            let dispatcher = OutboxDispatcher(store: store, alerting: nil, remediation: transport, logger: Logger(label: "test"),
                                              clock: { now }, observe: { outcomes.add($0) })
            func webhook(_ episode: Int64) -> Action {
                .webhook(RemediationRequest(
                    path: api.url + "/hooks/retrain",
                    body: RetrainRequest(model: "fraud", episodeID: episode, baselineVersion: 1, driftedFeatures: ["amount"],
                                         driftFrom: 0, driftTo: 60, candidatesURL: "http://dw/v1/models/fraud/candidates"),
                    step: RemediationStep(kind: .retrainWebhook, name: "dw-retrain-fraud-e\(episode)", episodeID: nil, stateOnSuccess: .created)))
            }
            // The first call meets a 500: retried after 1 s.
            await api.state.fail(next: 1)
            let first = try store.enqueue(webhook(1), key: .retrain(episodeID: 1), model: "fraud", now: now, episodeID: nil)
            await dispatcher.deliverDue()
            var record = try XCTUnwrap(try store.action(id: first))
            XCTAssertEqual(record.state, .failed)
            XCTAssertEqual(record.attempts, 1)
            XCTAssertEqual(record.nextAttemptAt, now.addingTimeInterval(1))
            XCTAssertEqual(outcomes.all.map(\.result), [.retried])

            // Due again: delivered (201) and the run recorded as created.
            let later = OutboxDispatcher(store: store, alerting: nil, remediation: transport, logger: Logger(label: "test"),
                                         clock: { now.addingTimeInterval(2) }, observe: { outcomes.add($0) })
            await later.deliverDue()
            record = try XCTUnwrap(try store.action(id: first))
            XCTAssertEqual(record.state, .delivered)
            XCTAssertEqual(try store.remediations(model: "fraud").first?.state, .created)

            // Another episode's webhook to the same path: the stand-in answers 409, which a
            // webhook does not take as done — parked at once, the run failed.
            let second = try store.enqueue(webhook(2), key: .retrain(episodeID: 2), model: "fraud", now: now, episodeID: nil)
            await later.deliverDue()
            record = try XCTUnwrap(try store.action(id: second))
            XCTAssertEqual(record.state, .failed)
            XCTAssertEqual(record.attempts, 1)
            XCTAssertGreaterThan(record.nextAttemptAt, now.addingTimeInterval(86400 * 365))
            XCTAssertTrue(record.lastError?.contains("HTTP 409") == true, record.lastError ?? "")
            let run = try XCTUnwrap(try store.remediations(model: "fraud").first { $0.name == "dw-retrain-fraud-e2" })
            XCTAssertEqual(run.state, .failed)
            XCTAssertEqual(outcomes.all.map(\.result), [.retried, .delivered, .failed])
            XCTAssertEqual(outcomes.all.last?.kind, "retrain_webhook")
            XCTAssertEqual(outcomes.all.last?.remediationState, .failed)
            XCTAssertEqual(try store.dueActions(now: now.addingTimeInterval(3600), limit: 10).count, 0, "parked: never due again")
        } catch {
            await transport.shutdown()
            await api.stop()
            throw error
        }
        await transport.shutdown()
        await api.stop()
    }
}
