import DriftCore
import Foundation
import XCTest

@testable import DriftStore

final class LabelTests: XCTestCase {
    func testLabelsAreKeyedByPredictionIDAndJoinOnce() throws {
        let store = try DriftStore.inMemory(withModels: ["m", "n"])
        let first = try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 1, labelTime: 5), LabelInput(predictionID: "b", label: 0, labelTime: nil)], receivedAt: t(1))
        XCTAssertEqual(first, [.stored, .stored])
        XCTAssertEqual(try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 1, labelTime: 5)], receivedAt: t(2)), [.duplicate])
        XCTAssertEqual(try store.storeLabels(model: "n", [LabelInput(predictionID: "a", label: 1, labelTime: 5)], receivedAt: t(2)), [.stored], "per model")
        XCTAssertEqual(try store.pendingLabels(model: "m", limit: 10).map(\.predictionID), ["a", "b"])

        try store.markLabelsJoined(model: "m", [LabelJoin(predictionID: "a", batchID: 7, row: 3, endpoint: "production", score: 0.9, segment: "DE")])
        XCTAssertEqual(try store.labelledPredictions(model: "m", batches: 1...10),
                       [LabelledPrediction(predictionID: "a", batchID: 7, score: 0.9, label: 1, segment: "DE")])
        XCTAssertEqual(try store.labelledPredictions(model: "m", batches: 8...10), [])
        XCTAssertEqual(try store.labelCounts(model: "m"), ["joined": 1, "pending": 1])
        // A corrected label replaces the old one and is joined again.
        XCTAssertEqual(try store.storeLabels(model: "m", [LabelInput(predictionID: "a", label: 0, labelTime: 9)], receivedAt: t(3)), [.stored])
        XCTAssertEqual(try store.labelCounts(model: "m"), ["pending": 2])
        XCTAssertEqual(try store.labelValues(model: "m", ids: ["a", "b", "zz"]), ["a": 0, "b": 0])
    }

    func testPendingLabelsPastTheHorizonAreGivenUp() throws {
        let store = try DriftStore.inMemory(withModels: ["m"])
        _ = try store.storeLabels(model: "m", [LabelInput(predictionID: "old", label: 1, labelTime: nil)], receivedAt: t(10))
        _ = try store.storeLabels(model: "m", [LabelInput(predictionID: "new", label: 1, labelTime: nil)], receivedAt: t(100))
        XCTAssertEqual(try store.markLabelsUnmatched(model: "m", receivedBefore: t(50)), 1)
        XCTAssertEqual(try store.labelCounts(model: "m"), ["pending": 1, "unmatched": 1])
        XCTAssertEqual(try store.pendingLabels(model: "m", limit: 10).map(\.predictionID), ["new"])
        // Deleting the model deletes its labels (foreign key).
        XCTAssertTrue(try store.deleteModel(named: "m"))
        try store.upsertModel(name: "m", settingsJSON: "{}", now: t(0))
        XCTAssertEqual(try store.labelCounts(model: "m"), [:])
    }
}
