import DriftCore
import DriftStats
import XCTest

final class ShadowComparisonTests: XCTestCase {
    private func batch(ids: [String?], scores: [Double], endpoint: Endpoint) -> ObservationBatch {
        ObservationBatch(count: ids.count, ids: ids, timestamps: ids.map { _ in nil }, endpoints: ids.map { _ in endpoint },
                         features: [:], predictions: .numbers(scores, missingRows: []))
    }

    func testJoinPairsByIDInEitherOrderAndCountsWhatCannotJoin() {
        var join = ShadowJoin()
        join.add(batch(ids: ["a", "b", nil], scores: [0.1, 0.9, 0.5], endpoint: .shadow))
        join.add(batch(ids: ["b", "c", "a"], scores: [0.8, 0.3, 0.2], endpoint: .production))
        join.add(batch(ids: ["c"], scores: [0.35], endpoint: .shadow))
        join.add(batch(ids: ["x"], scores: [0.7], endpoint: .canary))  // KServe's canary: the candidate's side
        join.add(batch(ids: ["x"], scores: [0.6], endpoint: .production))
        let pairs = join.pairs.map { [$0.production, $0.shadow] }
        XCTAssertEqual(pairs, [[0.8, 0.9], [0.2, 0.1], [0.3, 0.35], [0.6, 0.7]])
        let c = join.comparison(threshold: 0.5)
        XCTAssertEqual(c.joinedRows, 4)
        XCTAssertEqual(c.shadowRows, 5)
        XCTAssertEqual(c.unjoinableShadowRows, 1)
        XCTAssertEqual(c.agreement, 1.0)
    }

    func testRememberedIDsAreBounded() {
        var join = ShadowJoin(capacity: 10)
        for k in 0..<100 { join.add(batch(ids: ["p\(k)"], scores: [0.5], endpoint: .production)) }
        // The oldest production ids were forgotten: their shadow rows no longer join.
        join.add(batch(ids: ["p0", "p99"], scores: [0.5, 0.5], endpoint: .shadow))
        XCTAssertEqual(join.pairs.count, 1)
    }

    func testFiguresAgainstIndependentFormulas() {
        let production = [0.1, 0.4, 0.35, 0.8, 0.9, 0.05, 0.6, 0.45, 0.7, 0.2]
        let shadow = [0.12, 0.55, 0.3, 0.75, 0.95, 0.1, 0.4, 0.5, 0.65, 0.25]
        let c = ShadowComparison(pairs: Array(zip(production, shadow)), threshold: 0.5, shadowRows: 10, unjoinable: 0)
        // Agreement at 0.5: rows 1 (0.4 vs 0.55), 6 (0.6 vs 0.4) and 7 (0.45 vs 0.5) disagree.
        XCTAssertEqual(c.agreement ?? 0, 0.7, accuracy: 1e-12)
        // numpy.corrcoef(production, shadow)[0, 1]
        XCTAssertEqual(c.correlation ?? 0, 0.946183594227279, accuracy: 1e-12)
        let ks = ks2Samp(production, shadow)
        XCTAssertEqual(c.ksStatistic, ks.statistic)
        XCTAssertEqual(c.meanProduction ?? 0, 0.455, accuracy: 1e-12)
        XCTAssertEqual(c.meanShadow ?? 0, 0.457, accuracy: 1e-12)
        XCTAssertEqual(ShadowComparison(pairs: Array(zip(production, production)), threshold: 0.5, shadowRows: 10, unjoinable: 0).psi ?? 1, 0, accuracy: 1e-12)
    }

    func testGateIsPendingThenPassesOrFailsWithReasons() {
        var policy = GatePolicy()
        policy.minJoinedRows = 100
        var g = SeededGenerator(seed: 4)
        let production = (0..<500).map { _ in Double.random(in: 0..<1, using: &g) }
        let close = production.map { min(1, $0 * (1 + Double.random(in: -0.01...0.01, using: &g))) }
        let unrelated = production.map { _ in Double.random(in: 0..<1, using: &g) }

        let few = GateDecision(policy: policy, comparison: ShadowComparison(pairs: Array(zip(production.prefix(50), close.prefix(50))), threshold: 0.5, shadowRows: 50, unjoinable: 0))
        XCTAssertEqual(few.verdict, .pending)
        XCTAssertEqual(few.reasons, ["50 of 100 joined shadow/production rows so far"])

        let pass = GateDecision(policy: policy, comparison: ShadowComparison(pairs: Array(zip(production, close)), threshold: 0.5, shadowRows: 500, unjoinable: 0))
        XCTAssertEqual(pass.verdict, .pass, "\(pass.reasons)")

        let fail = GateDecision(policy: policy, comparison: ShadowComparison(pairs: Array(zip(production, unrelated)), threshold: 0.5, shadowRows: 500, unjoinable: 0))
        XCTAssertEqual(fail.verdict, .fail)
        XCTAssertTrue(fail.reasons.contains { $0.hasPrefix("agreement") }, "\(fail.reasons)")
        XCTAssertTrue(fail.reasons.contains { $0.hasPrefix("score correlation") }, "\(fail.reasons)")

        let constant = GateDecision(policy: policy, comparison: ShadowComparison(pairs: production.map { ($0, 0.3) }, threshold: 0.5, shadowRows: 500, unjoinable: 0))
        XCTAssertEqual(constant.verdict, .fail)
        XCTAssertTrue(constant.reasons.contains("score correlation undefined (a constant score)"), "\(constant.reasons)")
    }

    func testGatePolicyValidation() {
        var p = GatePolicy()
        p.minAgreement = 1.5
        XCTAssertThrowsError(try p.validate()) { XCTAssertTrue("\($0)".contains("min_agreement must be in [-1, 1]")) }
        p = GatePolicy()
        p.minJoinedRows = 0
        XCTAssertThrowsError(try p.validate())
    }

    func testGateFailsACandidateWhoseLabelledQualityIsWorse() {
        var policy = GatePolicy()
        policy.minJoinedRows = 3
        policy.maxQualityDrop = 0.01
        let pairs = [(0.1, 0.1), (0.9, 0.9), (0.2, 0.2), (0.8, 0.8)]
        let c = ShadowComparison(pairs: pairs.map { (production: $0.0, shadow: $0.1) }, threshold: 0.5, shadowRows: 4, unjoinable: 0)
        let worse = GateDecision(policy: policy, comparison: c,
                                 quality: QualityComparison(metric: "roc_auc", higherIsBetter: true, production: 0.90, candidate: 0.85, rows: 500))
        XCTAssertEqual(worse.verdict, .fail)
        XCTAssertEqual(worse.reasons, ["roc_auc 0.85 vs production 0.9 on 500 labelled rows: worse by more than 0.01"])
        let lowerError = GateDecision(policy: policy, comparison: c,
                                      quality: QualityComparison(metric: "rmse", higherIsBetter: false, production: 2.0, candidate: 1.5, rows: 500))
        XCTAssertEqual(lowerError.verdict, .pass, "\(lowerError.reasons)")
    }
}
