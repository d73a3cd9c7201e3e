import DriftTestSupport
import Foundation
import XCTest

@testable import DriftStore

/// The Store conformance suite on the PostgreSQL backend: a real PostgreSQL server (started
/// once for the class), a new database per check.
final class PostgresStoreConformanceTests: XCTestCase {
    private static let server = Result { try PostgresServer() }

    override class func tearDown() {
        if case .success(let server) = server { server.destroy() }
        super.tearDown()
    }

    private let suite = StoreConformance { models in
        let store = try PostgresStore(location: PostgresLocation(url: try PostgresStoreConformanceTests.server.get().makeDatabase()))
        for name in models { try store.upsertModel(name: name, settings: Fixture.settings, now: t(0)) }
        return store
    }

    func testUpsertKeepsCreatedAtAndUpdatesSettings() throws { try suite.upsertKeepsCreatedAtAndUpdatesSettings() }
    func testModelsAreListedByName() throws { try suite.modelsAreListedByName() }
    func testDeleteModelRemovesEverythingOfIt() async throws { try await suite.deleteModelRemovesEverythingOfIt() }
    func testBaselinesAreVersionedPerModel() throws { try suite.baselinesAreVersionedPerModel() }
    func testMlflowLinkOfTheNewestBaselineAndAWatermarkThatNeverGoesBack() throws { try suite.mlflowLinkOfTheNewestBaselineAndAWatermarkThatNeverGoesBack() }
    func testIdempotencyKeyReturnsTheOriginalBatch() throws { try suite.idempotencyKeyReturnsTheOriginalBatch() }
    func testBatchesPageInCommitOrderPerModel() throws { try suite.batchesPageInCommitOrderPerModel() }
    func testLookupFindsTheLatestObservationBeforeAndAfterIndexing() async throws { try await suite.lookupFindsTheLatestObservationBeforeAndAfterIndexing() }
    func testWindowsRoundTripNewestFirst() throws { try suite.windowsRoundTripNewestFirst() }
    func testWindowConflicts() throws { try suite.windowConflicts() }
    func testEpisodesInsertUpdateAndList() throws { try suite.episodesInsertUpdateAndList() }
    func testTransitionsRoundTripInOrder() throws { try suite.transitionsRoundTripInOrder() }
    func testLabelsAreKeyedByPredictionIDAndJoinOnce() throws { try suite.labelsAreKeyedByPredictionIDAndJoinOnce() }
    func testPendingLabelsPastTheHorizonAreGivenUp() throws { try suite.pendingLabelsPastTheHorizonAreGivenUp() }
    func testQualityAndMultivariateReferencesRoundTripTyped() throws { try suite.qualityAndMultivariateReferencesRoundTripTyped() }
    func testEnqueueIsIdempotentOnKey() throws { try suite.enqueueIsIdempotentOnKey() }
    func testActionsAreListedPerEpisodeAndCountedWhileUndelivered() throws { try suite.actionsAreListedPerEpisodeAndCountedWhileUndelivered() }
    func testDueActionsAreOrderedByDueTimeThenEnqueueOrder() throws { try suite.dueActionsAreOrderedByDueTimeThenEnqueueOrder() }
    func testFailureBacksOffAndDeliveryIsFinal() throws { try suite.failureBacksOffAndDeliveryIsFinal() }
    func testGivenUpActionsWaitForAnAdminRetry() throws { try suite.givenUpActionsWaitForAnAdminRetry() }
    func testAPeerBackMakesItsPendingActionsDue() throws { try suite.aPeerBackMakesItsPendingActionsDue() }
    func testCandidatesRoundTripWithTheirDecision() throws { try suite.candidatesRoundTripWithTheirDecision() }
}
