import Foundation
import XCTest

@testable import DriftStore

final class OutboxTests: XCTestCase {
    func testEnqueueIsIdempotentOnKey() throws {
        let store = try DriftStore.inMemory(withModels: ["m", "n"])
        let id = try store.enqueueAction(model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":1}"#, now: t(0))
        let again = try store.enqueueAction(model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":2}"#, now: t(5))
        XCTAssertEqual(again, id)
        XCTAssertEqual(
            try store.action(id: id),
            ActionRecord(id: id, model: "m", kind: "alert", key: "m/episode-1/open", payloadJSON: #"{"v":1}"#,
                         state: .pending, attempts: 0, nextAttemptAt: t(0), lastError: nil, updatedAt: t(0)))
        // Keys are unique across models.
        XCTAssertEqual(try store.enqueueAction(model: "n", kind: "k8s", key: "m/episode-1/open", payloadJSON: "{}", now: t(1)), id)
        XCTAssertNotEqual(try store.enqueueAction(model: "n", kind: "k8s", key: "other", payloadJSON: "{}", now: t(1)), id)
        XCTAssertStoreError(.unknownModel("x"), try store.enqueueAction(model: "x", kind: "k", key: "new", payloadJSON: "{}", now: t(0)))
        XCTAssertStoreError(.invalidArgument("action key is empty"), try store.enqueueAction(model: "m", kind: "k", key: "", payloadJSON: "{}", now: t(0)))
    }

    func testActionsAreListedPerEpisodeAndCountedWhileUndelivered() throws {
        let store = try DriftStore.inMemory(withModels: ["m"])
        let episode = try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "m", state: "confirmed", openedAt: t(0), confirmedAt: t(1), resolvedAt: nil,
            lastWindowSeq: 3, evidenceJSON: "{}"))
        let firing = try store.enqueueAction(model: "m", kind: "alertmanager", key: "f", payloadJSON: "{}", now: t(1), episodeID: episode.id)
        let resolved = try store.enqueueAction(model: "m", kind: "alertmanager", key: "r", payloadJSON: "{}", now: t(2), episodeID: episode.id)
        try store.enqueueAction(model: "m", kind: "retrain", key: "other", payloadJSON: "{}", now: t(2))
        XCTAssertEqual(try store.actions(episodeID: episode.id).map(\.id), [firing, resolved])
        XCTAssertEqual(try store.actions(episodeID: episode.id).first?.episodeID, episode.id)
        XCTAssertEqual(try store.undeliveredActionCounts(), ["alertmanager": 2, "retrain": 1])
        try store.markDelivered(id: firing, now: t(3))
        try store.markFailed(id: resolved, error: "HTTP 503", now: t(3), nextAttempt: t(9))
        XCTAssertEqual(try store.undeliveredActionCounts(), ["alertmanager": 1, "retrain": 1])
        XCTAssertEqual(try store.actions(episodeID: episode.id).map(\.state), [.delivered, .failed])
        XCTAssertEqual(try store.actions(episodeID: episode.id).last?.updatedAt, t(3))
    }

    func testDueActionsAreOrderedByDueTimeThenEnqueueOrder() throws {
        let store = try DriftStore.inMemory(withModels: ["m"])
        let late = try store.enqueueAction(model: "m", kind: "a", key: "late", payloadJSON: "{}", now: t(30))
        let early1 = try store.enqueueAction(model: "m", kind: "a", key: "early1", payloadJSON: "{}", now: t(10))
        let early2 = try store.enqueueAction(model: "m", kind: "a", key: "early2", payloadJSON: "{}", now: t(10))
        let mid = try store.enqueueAction(model: "m", kind: "a", key: "mid", payloadJSON: "{}", now: t(20))
        XCTAssertEqual(try store.dueActions(now: t(5), limit: 10), [])
        XCTAssertEqual(try store.dueActions(now: t(10), limit: 10).map(\.id), [early1, early2])
        XCTAssertEqual(try store.dueActions(now: t(100), limit: 10).map(\.id), [early1, early2, mid, late])
        XCTAssertEqual(try store.dueActions(now: t(100), limit: 2).map(\.id), [early1, early2])
    }

    func testFailureBacksOffAndDeliveryIsFinal() throws {
        let store = try DriftStore.inMemory(withModels: ["m"])
        let a = try store.enqueueAction(model: "m", kind: "alert", key: "a", payloadJSON: "{}", now: t(0))
        let b = try store.enqueueAction(model: "m", kind: "alert", key: "b", payloadJSON: "{}", now: t(0))

        try store.markFailed(id: a, error: "HTTP 503", now: t(1), nextAttempt: t(31))
        XCTAssertEqual(try store.dueActions(now: t(2), limit: 10).map(\.id), [b], "a waits for its backoff")
        XCTAssertEqual(try store.dueActions(now: t(31), limit: 10).map(\.id), [b, a])
        var failed = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual(failed.state, .failed)
        XCTAssertEqual(failed.attempts, 1)
        XCTAssertEqual(failed.lastError, "HTTP 503")
        XCTAssertEqual(failed.nextAttemptAt, t(31))

        try store.markFailed(id: a, error: "timeout", now: t(32), nextAttempt: t(92))
        failed = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual([failed.attempts], [2])
        XCTAssertEqual(failed.lastError, "timeout")

        try store.markDelivered(id: a, now: t(93))
        try store.markDelivered(id: b, now: t(93))
        XCTAssertEqual(try store.dueActions(now: t(10_000), limit: 10), [])
        let delivered = try XCTUnwrap(try store.action(id: a))
        XCTAssertEqual(delivered.state, .delivered)
        XCTAssertEqual(delivered.attempts, 3)
        // Late reports for a delivered action change nothing.
        try store.markFailed(id: a, error: "late", now: t(94), nextAttempt: t(95))
        try store.markDelivered(id: a, now: t(94))
        XCTAssertEqual(try store.action(id: a), delivered)
        XCTAssertEqual(try store.dueActions(now: t(10_000), limit: 10), [])
        // Unknown ids are reported.
        XCTAssertStoreError(.notFound("outbox action 999"), try store.markDelivered(id: 999, now: t(0)))
        XCTAssertStoreError(.notFound("outbox action 999"), try store.markFailed(id: 999, error: "", now: t(0), nextAttempt: t(0)))
    }
}
