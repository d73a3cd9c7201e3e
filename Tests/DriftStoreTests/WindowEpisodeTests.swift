import Foundation
import XCTest

@testable import DriftStore

final class WindowEpisodeTests: XCTestCase {
    func testWindowsRoundTripNewestFirst() throws {
        let store = try DriftStore.inMemory(withModels: ["m", "n"])
        XCTAssertNil(try store.lastWindow(model: "m"))
        var windows: [WindowRecord] = []
        for seq in 1...4 {
            let start = Double(seq) * 60
            let first = Int64(seq) * 10
            windows.append(WindowRecord(
                model: "m", seq: Int64(seq), startedAt: t(start), endedAt: t(start + 59.5),
                firstBatchID: first, lastBatchID: first + 9, rows: 5000 + seq,
                drifted: seq % 2 == 0, driftShare: Double(seq) / 8,
                reportJSON: #"{"features":[{"name":"f\#(seq)"}]}"#))
        }
        for w in windows { try store.insertWindow(w) }
        try store.insertWindow(window("n", seq: 9, first: 1, last: 1))
        XCTAssertEqual(try store.windows(model: "m", limit: 10), windows.reversed())
        XCTAssertEqual(try store.windows(model: "m", limit: 2), [windows[3], windows[2]])
        XCTAssertEqual(try store.lastWindow(model: "m"), windows[3])
        XCTAssertEqual(try store.lastWindow(model: "n")?.seq, 9)
    }

    func testWindowConflictsAndValidation() throws {
        let store = try DriftStore.inMemory(withModels: ["m"])
        try store.insertWindow(window("m", seq: 1, first: 1, last: 2))
        XCTAssertStoreError(
            .conflict("window 1 of model 'm' is already stored"), try store.insertWindow(window("m", seq: 1, first: 3, last: 4)))
        XCTAssertStoreError(.unknownModel("x"), try store.insertWindow(window("x", seq: 1, first: 1, last: 1)))
        XCTAssertThrowsError(try store.insertWindow(window("m", seq: 2, first: 5, last: 4)))
        XCTAssertEqual(try store.lastWindow(model: "m")?.lastBatchID, 2, "the stored window is unchanged")
    }

    func testEpisodesInsertUpdateAndList() throws {
        let store = try DriftStore.inMemory(withModels: ["m", "n"])
        var episode = try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "m", state: "suspected", openedAt: t(100), confirmedAt: nil, resolvedAt: nil,
            lastWindowSeq: 3, evidenceJSON: #"{"windows":[3]}"#))
        XCTAssertGreaterThan(episode.id, 0)
        episode.state = "confirmed"
        episode.confirmedAt = t(160)
        episode.lastWindowSeq = 4
        XCTAssertEqual(try store.upsertEpisode(episode), episode)
        episode.state = "resolved"
        episode.resolvedAt = t(400.5)
        try store.upsertEpisode(episode)
        XCTAssertEqual(try store.episode(id: episode.id), episode)
        let second = try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "m", state: "suspected", openedAt: t(500), confirmedAt: nil, resolvedAt: nil,
            lastWindowSeq: 9, evidenceJSON: "{}"))
        XCTAssertGreaterThan(second.id, episode.id)
        XCTAssertEqual(try store.episodes(model: "m", limit: 10), [second, episode])
        XCTAssertEqual(try store.episodes(model: "m", limit: 1), [second])
        XCTAssertEqual(try store.episodes(model: "n", limit: 10), [])
        // Upsert with an unknown explicit id inserts under that id.
        let restored = try store.upsertEpisode(EpisodeRecord(
            id: 1000, model: "n", state: "open", openedAt: t(1), confirmedAt: nil, resolvedAt: nil,
            lastWindowSeq: 1, evidenceJSON: "{}"))
        XCTAssertEqual(try store.episode(id: 1000), restored)
        // An id of another model is a conflict, and an unknown model is rejected.
        var stolen = episode
        stolen.model = "n"
        XCTAssertStoreError(.conflict("episode \(episode.id) belongs to model 'm', not 'n'"), try store.upsertEpisode(stolen))
        XCTAssertStoreError(.unknownModel("x"), try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "x", state: "s", openedAt: t(0), confirmedAt: nil, resolvedAt: nil, lastWindowSeq: 0, evidenceJSON: "{}")))
    }

    func testTransitionsRoundTripInOrder() throws {
        let store = try DriftStore.inMemory(withModels: ["m", "n"])
        let e = try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "m", state: "suspected", openedAt: t(1), confirmedAt: nil, resolvedAt: nil,
            lastWindowSeq: 1, evidenceJSON: "{}"))
        let other = try store.upsertEpisode(EpisodeRecord(
            id: 0, model: "m", state: "suspected", openedAt: t(1), confirmedAt: nil, resolvedAt: nil,
            lastWindowSeq: 1, evidenceJSON: "{}"))
        let steps = [("none", "suspected", 1), ("suspected", "confirmed", 2), ("confirmed", "resolved", 5)]
        let transitions = steps.map { from, to, seq in
            TransitionRecord(episodeID: e.id, model: "m", from: from, to: to, at: t(Double(seq) * 60),
                             windowSeq: Int64(seq), evidenceJSON: #"{"seq":\#(seq)}"#)
        }
        for (i, transition) in transitions.enumerated() {
            try store.insertTransition(transition)
            if i == 0 {  // interleave a transition of another episode
                try store.insertTransition(TransitionRecord(
                    episodeID: other.id, model: "m", from: "none", to: "suspected", at: t(0), windowSeq: 1, evidenceJSON: "{}"))
            }
        }
        XCTAssertEqual(try store.transitions(episodeID: e.id), transitions)
        XCTAssertEqual(try store.transitions(episodeID: other.id).count, 1)
        XCTAssertEqual(try store.transitions(episodeID: 999), [])
        XCTAssertStoreError(.notFound("episode 999"), try store.insertTransition(TransitionRecord(
            episodeID: 999, model: "m", from: "a", to: "b", at: t(0), windowSeq: 0, evidenceJSON: "{}")))
        XCTAssertStoreError(.conflict("episode \(e.id) belongs to model 'm', not 'n'"), try store.insertTransition(TransitionRecord(
            episodeID: e.id, model: "n", from: "a", to: "b", at: t(0), windowSeq: 0, evidenceJSON: "{}")))
    }
}
