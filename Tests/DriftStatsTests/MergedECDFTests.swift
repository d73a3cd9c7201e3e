import DriftStats
import XCTest

/// The galloping one-pass KS/Wasserstein must give exactly what the plain merges give
/// (which follow scipy's definitions), ties and edge cases included.
final class MergedECDFTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func value(distinct: UInt64) -> Double { Double(next() % distinct) / 4 - 3 }
    }

    private func check(_ a: [Double], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        var r = a, w = b
        radixSort(&r)
        radixSort(&w)
        r.withUnsafeBufferPointer { rb in
            w.withUnsafeBufferPointer { wb in
                let fused = mergedECDF(baseline: rb, window: wb)
                let ks = ksExtremes(sorted1: rb, sorted2: wb)
                let w1 = wassersteinDistance(sorted: rb, sorted: wb)
                XCTAssertEqual(fused.ks, ks, what, file: file, line: line)
                XCTAssertEqual(fused.wasserstein, w1, accuracy: 1e-12 + 1e-12 * w1, what, file: file, line: line)
            }
        }
    }

    func testEqualsPlainMergesOnRandomSamplesWithTies() {
        var g = LCG(state: 42)
        for trial in 0..<400 {
            let n1 = Int(g.next() % 300) + 1
            let n2 = Int(g.next() % 60) + 1
            let distinct = [2, 5, 30, 100_000][trial % 4]
            let a = (0..<n1).map { _ in g.value(distinct: UInt64(distinct)) }
            let b = (0..<n2).map { _ in g.value(distinct: UInt64(distinct)) + (trial % 3 == 0 ? 0.5 : 0) }
            check(a, b, "trial \(trial) n1=\(n1) n2=\(n2) distinct=\(distinct)")
        }
    }

    func testEdgeCases() {
        check([1], [1], "single equal")
        check([1], [2], "single apart")
        check([2], [1], "single apart reversed")
        check([1, 2, 3], [10, 11], "window above")
        check([10, 11], [1, 2, 3], "window below")
        check([1, 1, 1, 1], [1, 1], "all equal")
        check([0, 0, 1, 1], [0, 1, 1, 1], "binary")
        check(Array(repeating: 5, count: 1000) + [6], [5, 6, 6], "heavy ties")
    }

    func testRadixSortMatchesStandardSort() {
        var g = LCG(state: 7)
        for n in [0, 1, 2, 255, 256, 257, 1000, 70_000] {
            var values = (0..<n).map { _ in Double(Int64(bitPattern: g.next() << 20)) / 1e9 * (g.next() % 2 == 0 ? 1 : -1e-300) }
            values += [0.0, -0.0, .infinity, -.infinity, 1e-310, -1e-310].prefix(n)
            var expected = values
            expected.sort()
            radixSort(&values)
            XCTAssertEqual(values, expected, "n = \(n)")
        }
    }
}

/// chi² tests on hand-computed tables (the fixtures cover Evidently's goodness-of-fit only).
final class ChiSquareTests: XCTestCase {
    func testContingencyTwoByTwoUsesYates() {
        // [[10, 20], [30, 40]]: E = [[12, 18], [28, 42]], |O − E| = 2 → 1.5 after Yates.
        let r = chiSquareContingency(referenceCounts: [10, 20], currentCounts: [30, 40])
        let expected = 2.25 * (1.0 / 12 + 1.0 / 18 + 1.0 / 28 + 1.0 / 42)
        XCTAssertEqual(r.dof, 1)
        XCTAssertEqual(r.statistic, expected, accuracy: 1e-12)
        // chi2.sf(x, 1) = erfc(sqrt(x / 2)).
        XCTAssertEqual(r.pvalue, erfc((expected / 2).squareRoot()), accuracy: 1e-12)
    }

    func testContingencyTwoByThreeHasNoCorrection() {
        // [[10, 20, 30], [20, 20, 10]]: row sums 60, 50; column sums 30, 40, 40; n = 110.
        let r = chiSquareContingency(referenceCounts: [10, 20, 30], currentCounts: [20, 20, 10])
        let obs = [[10.0, 20, 30], [20, 20, 10]]
        let rows = [60.0, 50], cols = [30.0, 40, 40]
        var x = 0.0
        for i in 0..<2 { for j in 0..<3 { let e = rows[i] * cols[j] / 110; x += (obs[i][j] - e) * (obs[i][j] - e) / e } }
        XCTAssertEqual(r.dof, 2)
        XCTAssertEqual(r.statistic, x, accuracy: 1e-12)
        XCTAssertEqual(r.pvalue, exp(-x / 2), accuracy: 1e-12, "chi2.sf(x, 2) = exp(−x/2)")
    }

    func testIncompleteGammaTails() {
        XCTAssertEqual(chiSquaredSF(0, dof: 3), 1)
        XCTAssertEqual(chiSquaredSF(.infinity, dof: 3), 0)
        // chi2.sf(1480, 2) = exp(−740) ≈ 4.2e-322: subnormal, not flushed to 0 (scipy gives it too).
        XCTAssertEqual(chiSquaredSF(1480, dof: 2), exp(-740.0), accuracy: 1e-323)
        XCTAssertGreaterThan(chiSquaredSF(1480, dof: 2), 0)
        XCTAssertEqual(regularizedGammaP(2.5, 1.2) + regularizedGammaQ(2.5, 1.2), 1, accuracy: 1e-15)
    }
}
