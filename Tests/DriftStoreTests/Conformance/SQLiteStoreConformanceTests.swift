import Foundation
import XCTest

@testable import DriftStore

/// The Store conformance suite on the embedded SQLite backend (in memory; the file-backed
/// store is the same code over a DatabasePool, covered by LifecycleTests and CrashTests).
final class SQLiteStoreConformanceTests: XCTestCase {
    private let suite = StoreConformance { models in try SQLiteStore.inMemory(withModels: models) }

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
