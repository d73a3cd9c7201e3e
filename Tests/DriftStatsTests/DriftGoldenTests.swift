import DriftStats
import XCTest

/// Every case of numeric_drift, categorical_drift, fdr_bh, percentiles and data_quality.
final class DriftGoldenTests: XCTestCase {
    struct PercentileSet: Decodable { var p1, p5, p25, p50, p75, p95, p99: Double }

    struct NumericCase: Decodable {
        struct Inputs: Decodable { var reference: [Double?]; var current: [Double?] }
        struct Binning: Decodable {
            var branch: String
            var n_bins: Int
            var bin_edges: [Double]?
            var keys: [Double]?
            var reference_counts: [Int]
            var current_counts: [Int]
            var reference_fractions_filled: [Double]
            var current_fractions_filled: [Double]
            var reference_zero_fill: Double?
            var current_zero_fill: Double?
        }
        struct EvPSI: Decodable { var value: Double; var drifted: Bool; var binning: Binning }
        struct Value: Decodable { var value: Double; var drifted: Bool }
        struct WNorm: Decodable { var value: Double; var reference_std_ddof0: Double; var norm: Double }
        struct EvKS: Decodable { var pvalue: Double; var drifted: Bool }
        struct StdPSI: Decodable {
            var value: Double
            var cut_points_raw: [Double]
            var cut_points: [Double]
            var n_bins: Int
            var reference_counts: [Int]
            var current_counts: [Int]
            var reference_fractions: [Double]
            var current_fractions: [Double]
            var terms: [Double]
        }
        struct Expected: Decodable {
            var n_reference_used: Int
            var n_current_used: Int
            var evidently_default_stattest: String
            var evidently_psi: EvPSI
            var evidently_jensenshannon: Value
            var wasserstein_distance: Double
            var evidently_wasserstein_norm: WNorm
            var evidently_ks: EvKS
            var standard_psi_q10: StdPSI
            var reference_percentiles: PercentileSet
            var current_percentiles: PercentileSet
        }
        var id: String
        var inputs: Inputs
        var expected: Expected
    }

    func testNumericDriftEveryCase() throws {
        let file = try Golden.load("numeric_drift.json", as: GoldenFile<NumericCase>.self)
        XCTAssertEqual(file.cases.count, 17)
        for c in file.cases {
            let e = c.expected
            let ref = c.inputs.reference.compactMap { $0 }
            let cur = c.inputs.current.compactMap { $0 }
            XCTAssertEqual(ref.count, e.n_reference_used, c.id)
            XCTAssertEqual(cur.count, e.n_current_used, c.id)
            let reference = NumericReference(values: ref, quantileBins: 10)
            var sortedCur = cur
            radixSort(&sortedCur)

            var options = NumericComparisonOptions()
            options.binning = .evidently
            let evid = try XCTUnwrap(sortedCur.withUnsafeBufferPointer { compareNumeric(reference, sortedWindow: $0, options: options) })
            let b = e.evidently_psi.binning
            XCTAssertEqual(evid.bins.kind, b.branch, c.id)
            if let edges = b.bin_edges {
                assertClose(evid.bins.boundaries, edges, rtol: 1e-12, atol: 0, "\(c.id) bin_edges")
            }
            if let keys = b.keys { XCTAssertEqual(evid.bins.boundaries, keys, "\(c.id) keys") }
            XCTAssertEqual(evid.bins.reference.count, b.n_bins, c.id)
            let refCounts = evid.bins.reference.map { Int(($0 * Double(ref.count)).rounded()) }
            let curCounts = evid.bins.current.map { Int(($0 * Double(cur.count)).rounded()) }
            XCTAssertEqual(refCounts, b.reference_counts, "\(c.id) reference counts")
            XCTAssertEqual(curCounts, b.current_counts, "\(c.id) current counts")
            let rf = evidentlyZeroFill(evid.bins.reference)
            let cf = evidentlyZeroFill(evid.bins.current)
            assertClose(rf.filled, b.reference_fractions_filled, "\(c.id) ref filled")
            assertClose(cf.filled, b.current_fractions_filled, "\(c.id) cur filled")
            XCTAssertEqual(rf.fill, b.reference_zero_fill, c.id)
            XCTAssertEqual(cf.fill, b.current_zero_fill, c.id)
            assertClose(evid.psi, e.evidently_psi.value, "\(c.id) evidently PSI")
            XCTAssertEqual(evid.psi >= 0.1, e.evidently_psi.drifted, c.id)
            assertClose(evid.jensenShannon, e.evidently_jensenshannon.value, "\(c.id) evidently JS")
            assertClose(evid.wasserstein, e.wasserstein_distance, "\(c.id) wasserstein")
            assertClose(reference.stdPop, e.evidently_wasserstein_norm.reference_std_ddof0, "\(c.id) std")
            assertClose(evid.wassersteinNormed, e.evidently_wasserstein_norm.value, "\(c.id) wasserstein normed")
            assertClose(evid.ks.pvalue, e.evidently_ks.pvalue, rtol: 1e-6, atol: 1e-12, "\(c.id) KS p")
            XCTAssertEqual(evid.ks.pvalue <= 0.05, e.evidently_ks.drifted, c.id)
            let unique = Set(ref + cur).count
            XCTAssertEqual(evidentlyDefaultStatTest(numeric: true, referenceRows: ref.count, uniqueCount: unique),
                           e.evidently_default_stattest, c.id)

            // Standard 10-quantile PSI (the default).
            let std = try XCTUnwrap(sortedCur.withUnsafeBufferPointer { compareNumeric(reference, sortedWindow: $0) })
            let s = e.standard_psi_q10
            var sortedRef = ref
            radixSort(&sortedRef)
            let raw = sortedRef.withUnsafeBufferPointer { buf in (1...9).map { quantileSorted(buf, Double($0) / 10.0) } }
            assertClose(raw, s.cut_points_raw, rtol: 1e-12, atol: 1e-12, "\(c.id) raw cuts")
            XCTAssertEqual(reference.quantileCuts, s.cut_points, "\(c.id) cuts")
            XCTAssertEqual(reference.quantileCuts.count + 1, s.n_bins, c.id)
            XCTAssertEqual(reference.quantileCounts, s.reference_counts, "\(c.id) ref counts")
            let stdCur = sortedCur.withUnsafeBufferPointer { countsInRightClosedBins($0, cuts: reference.quantileCuts) }
            XCTAssertEqual(stdCur, s.current_counts, "\(c.id) cur counts")
            assertClose(std.bins.reference, s.reference_fractions, "\(c.id) ref fractions")
            assertClose(std.bins.current, s.current_fractions, "\(c.id) cur fractions")
            let terms = zip(std.bins.reference, std.bins.current).map { r, cc in
                let r2 = max(r, 1e-4), c2 = max(cc, 1e-4)
                return (c2 - r2) * log(c2 / r2)
            }
            assertClose(terms, s.terms, "\(c.id) terms")
            assertClose(std.psi, s.value, "\(c.id) standard PSI")

            check(reference.percentiles, e.reference_percentiles, "\(c.id) reference percentiles")
            check(std.currentPercentiles, e.current_percentiles, "\(c.id) current percentiles")
        }
    }

    private func check(_ got: Percentiles, _ want: PercentileSet, _ what: String) {
        assertClose(got.values, [want.p1, want.p5, want.p25, want.p50, want.p75, want.p95, want.p99],
                    rtol: 1e-12, atol: 1e-12, what)
    }

    struct CategoricalCase: Decodable {
        struct Inputs: Decodable { var reference: [String?]; var current: [String?] }
        struct Chi: Decodable { var pvalue: Double; var drifted: Bool; var statistic: Double; var dof: Int; var f_exp: [Double] }
        struct PSI: Decodable {
            var value: Double
            var drifted: Bool
            var reference_fractions_filled: [Double]
            var current_fractions_filled: [Double]
            var reference_zero_fill: Double?
            var current_zero_fill: Double?
        }
        struct JS: Decodable { var value: Double; var drifted: Bool }
        struct Expected: Decodable {
            var n_reference_used: Int
            var n_current_used: Int
            var evidently_default_stattest: String
            var categories: [String]
            var reference_counts: [Int]
            var current_counts: [Int]
            var evidently_chisquare: Chi
            var evidently_psi: PSI
            var evidently_jensenshannon: JS
        }
        var id: String
        var inputs: Inputs
        var expected: Expected
    }

    func testCategoricalDriftEveryCase() throws {
        let file = try Golden.load("categorical_drift.json", as: GoldenFile<CategoricalCase>.self)
        XCTAssertEqual(file.cases.count, 10)
        for c in file.cases {
            let e = c.expected
            let ref = c.inputs.reference.compactMap { $0 }
            let cur = c.inputs.current.compactMap { $0 }
            XCTAssertEqual(ref.count, e.n_reference_used, c.id)
            XCTAssertEqual(cur.count, e.n_current_used, c.id)
            let reference = CategoricalReference(counts: Dictionary(ref.map { ($0, 1) }, uniquingKeysWith: +))
            let curCounts = Dictionary(cur.map { ($0, 1) }, uniquingKeysWith: +)
            var options = CategoricalComparisonOptions()
            options.chiSquare = .goodnessOfFit
            options.binning = .evidently
            let r = try XCTUnwrap(compareCategorical(reference, currentCounts: curCounts, options: options))
            XCTAssertEqual(r.categories, e.categories, c.id)
            XCTAssertEqual(r.referenceCounts, e.reference_counts, c.id)
            XCTAssertEqual(r.currentCounts, e.current_counts, c.id)
            XCTAssertEqual(r.chiSquare.dof, e.evidently_chisquare.dof, c.id)
            assertClose(r.chiSquare.statistic, e.evidently_chisquare.statistic, "\(c.id) chi2 statistic")
            assertClose(r.chiSquare.pvalue, e.evidently_chisquare.pvalue, rtol: 1e-6, atol: 1e-300, "\(c.id) chi2 p")
            XCTAssertEqual(r.chiSquare.pvalue < 0.05, e.evidently_chisquare.drifted, c.id)
            let fExp = e.reference_counts.map { Double($0) * (Double(cur.count) / Double(ref.count)) }
            assertClose(fExp, e.evidently_chisquare.f_exp, "\(c.id) f_exp")
            let rs = r.referenceCounts.map { Double($0) / Double(ref.count) }
            let cs = r.currentCounts.map { Double($0) / Double(cur.count) }
            let rf = evidentlyZeroFill(rs), cf = evidentlyZeroFill(cs)
            assertClose(rf.filled, e.evidently_psi.reference_fractions_filled, "\(c.id) ref filled")
            assertClose(cf.filled, e.evidently_psi.current_fractions_filled, "\(c.id) cur filled")
            XCTAssertEqual(rf.fill, e.evidently_psi.reference_zero_fill, c.id)
            XCTAssertEqual(cf.fill, e.evidently_psi.current_zero_fill, c.id)
            assertClose(r.psi, e.evidently_psi.value, "\(c.id) PSI")
            XCTAssertEqual(r.psi >= 0.1, e.evidently_psi.drifted, c.id)
            assertClose(r.jensenShannon, e.evidently_jensenshannon.value, "\(c.id) JS")
            XCTAssertEqual(evidentlyDefaultStatTest(numeric: false, referenceRows: ref.count, uniqueCount: e.categories.count),
                           e.evidently_default_stattest, c.id)
            XCTAssertEqual(Set(r.unseenCategories), Set(e.categories.enumerated().filter { e.reference_counts[$0.offset] == 0 }.map(\.element)), c.id)
        }
    }

    struct FDRCase: Decodable {
        struct Inputs: Decodable { var pvalues: [Double] }
        struct Expected: Decodable { var bh: [Double]; var by: [Double] }
        var id: String
        var inputs: Inputs
        var expected: Expected
    }

    func testFalseDiscoveryControlEveryCase() throws {
        let file = try Golden.load("fdr_bh.json", as: GoldenFile<FDRCase>.self)
        XCTAssertEqual(file.cases.count, 8)
        for c in file.cases {
            assertClose(falseDiscoveryControl(c.inputs.pvalues, method: .bh), c.expected.bh, rtol: 1e-12, atol: 0, "\(c.id) bh")
            assertClose(falseDiscoveryControl(c.inputs.pvalues, method: .by), c.expected.by, rtol: 1e-12, atol: 0, "\(c.id) by")
        }
    }

    struct PercentileCase: Decodable {
        struct Inputs: Decodable { var values: [Double] }
        var id: String
        var inputs: Inputs
        var expected: PercentileSet
    }

    func testPercentilesEveryCase() throws {
        let file = try Golden.load("percentiles.json", as: GoldenFile<PercentileCase>.self)
        XCTAssertEqual(file.cases.count, 9)
        for c in file.cases {
            var v = c.inputs.values
            radixSort(&v)
            check(v.withUnsafeBufferPointer { Percentiles(sorted: $0) }, c.expected, c.id)
        }
    }

    struct QualityCase: Decodable {
        struct Inputs: Decodable { var values: [Double?] }
        struct Expected: Decodable {
            var count_total, count_missing, count_non_missing, n_unique_non_missing, count_zero, count_negative: Int
            var missing_share: Double
            var min, max, mean, std_ddof0: Double
            var std_ddof1: Double?
        }
        var id: String
        var inputs: Inputs
        var expected: Expected
    }

    func testDataQualityEveryCase() throws {
        let file = try Golden.load("data_quality.json", as: GoldenFile<QualityCase>.self)
        XCTAssertEqual(file.cases.count, 4)
        for c in file.cases {
            let d = ColumnDescription(values: c.inputs.values)
            let e = c.expected
            XCTAssertEqual(d.countTotal, e.count_total, c.id)
            XCTAssertEqual(d.countMissing, e.count_missing, c.id)
            XCTAssertEqual(d.countNonMissing, e.count_non_missing, c.id)
            XCTAssertEqual(d.distinctNonMissing, e.n_unique_non_missing, c.id)
            XCTAssertEqual(d.countZero, e.count_zero, c.id)
            XCTAssertEqual(d.countNegative, e.count_negative, c.id)
            assertClose(d.missingShare, e.missing_share, rtol: 1e-12, atol: 1e-12, "\(c.id) missing share")
            assertClose(d.min ?? .nan, e.min, rtol: 1e-12, atol: 1e-12, "\(c.id) min")
            assertClose(d.max ?? .nan, e.max, rtol: 1e-12, atol: 1e-12, "\(c.id) max")
            assertClose(d.mean ?? .nan, e.mean, rtol: 1e-12, atol: 1e-12, "\(c.id) mean")
            assertClose(d.stdDdof0 ?? .nan, e.std_ddof0, rtol: 1e-12, atol: 1e-12, "\(c.id) std0")
            if let s1 = e.std_ddof1 {
                assertClose(d.stdDdof1 ?? .nan, s1, rtol: 1e-12, atol: 1e-12, "\(c.id) std1")
            } else {
                XCTAssertNil(d.stdDdof1, c.id)
            }
        }
    }
}
