import Foundation
import XCTest

@testable import DriftStats

/// Golden tests for the scipy.stats.ks_2samp port.
///
/// Fixtures: Tests/Fixtures/stats/ks_2samp.json, generated with scipy 1.17.1 / numpy 2.4.6
/// (format: Tests/Fixtures/stats/README.md, section 2.1).
final class KolmogorovSmirnovGoldenTests: XCTestCase {
    // MARK: Fixture model

    struct Fixture: Decodable {
        var cases: [Case]
    }

    struct Case: Decodable {
        var id: String
        var inputs: Inputs
        var params: Params
        var expected: Expected
    }

    struct Inputs: Decodable {
        var data1: [Double]
        var data2: [Double]
    }

    struct Params: Decodable {
        var n1: Int
        var n2: Int
    }

    struct Expected: Decodable {
        var results: [Row]
    }

    struct Row: Decodable {
        var method: String
        var alternative: String
        var statistic: Double
        var pvalue: Double
        var statistic_location: Double
        var statistic_sign: Int
        var effective_method: String
        var exact_fell_back_to_asymp: Bool
    }

    static func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/stats/ks_2samp.json")
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()  // correctly rounded number parsing, as the README requires
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(Fixture.self, from: data)
    }

    // MARK: Golden comparison

    func testGoldenFixturesMatchScipy() throws {
        let fixture = try Self.loadFixture()
        XCTAssertEqual(fixture.cases.count, 20, "fixture should hold 20 cases")
        var rowsChecked = 0
        var maxRelativePError = 0.0
        var worstRow = ""

        for testCase in fixture.cases {
            XCTAssertEqual(testCase.inputs.data1.count, testCase.params.n1, testCase.id)
            XCTAssertEqual(testCase.inputs.data2.count, testCase.params.n2, testCase.id)
            XCTAssertEqual(testCase.expected.results.count, 9, testCase.id)
            let sorted1 = testCase.inputs.data1.sorted()
            let sorted2 = testCase.inputs.data2.sorted()
            let extremes = sorted1.withUnsafeBufferPointer { a in
                sorted2.withUnsafeBufferPointer { b in ksExtremes(sorted1: a, sorted2: b) }
            }
            for row in testCase.expected.results {
                let label = "\(testCase.id) method=\(row.method) alternative=\(row.alternative)"
                guard let method = KSMethod(rawValue: row.method),
                      let alternative = KSAlternative(rawValue: row.alternative),
                      let expectedMethod = KSMethod(rawValue: row.effective_method)
                else {
                    XCTFail("unknown method/alternative in \(label)")
                    continue
                }
                let got = ksTest(extremes, n1: testCase.params.n1, n2: testCase.params.n2,
                                 alternative: alternative, method: method)
                XCTAssertEqual(got.statistic, row.statistic, accuracy: 1e-12, "statistic, \(label)")
                let pTolerance = 1e-12 + 1e-6 * abs(row.pvalue)
                XCTAssertLessThanOrEqual(abs(got.pvalue - row.pvalue), pTolerance,
                                         "pvalue \(got.pvalue) vs \(row.pvalue), \(label)")
                XCTAssertEqual(got.statisticLocation, row.statistic_location, "statistic_location, \(label)")
                XCTAssertEqual(got.statisticSign, row.statistic_sign, "statistic_sign, \(label)")
                XCTAssertEqual(got.effectiveMethod, expectedMethod, "effective_method, \(label)")
                XCTAssertEqual(got.exactFellBackToAsymp, row.exact_fell_back_to_asymp,
                               "exact_fell_back_to_asymp, \(label)")
                if row.pvalue != 0 {
                    let relative = abs(got.pvalue - row.pvalue) / abs(row.pvalue)
                    if relative > maxRelativePError {
                        maxRelativePError = relative
                        worstRow = label
                    }
                } else {
                    XCTAssertLessThanOrEqual(abs(got.pvalue), 1e-300, "pvalue should be 0, \(label)")
                }
                rowsChecked += 1
            }
            // The convenience entry point must agree with the two-step API.
            let convenience = ks2Samp(testCase.inputs.data1, testCase.inputs.data2)
            let twoStep = ksTest(extremes, n1: testCase.params.n1, n2: testCase.params.n2)
            XCTAssertEqual(convenience, twoStep, testCase.id)
        }
        XCTAssertEqual(rowsChecked, 180)
        print("ks_2samp golden: \(rowsChecked) results checked, max relative p-value error "
              + "\(maxRelativePError) (\(worstRow))")
        XCTAssertLessThan(maxRelativePError, 1e-9, "aiming for ~1e-10 agreement with scipy")
    }

    // MARK: Statistic and location semantics

    func testTiesAndFirstArgmaxLocation() {
        // Ties within and across samples use searchsorted(side='right') counts:
        // F1 − F2 = 1/4 at 1, 1/4 at 2 (3/4 − 2/4), 1/2 at 3, 1/4 at 4, 0 at 5.
        let r = ks2Samp([1, 2, 2, 3], [2, 2, 4, 5], alternative: .greater, method: .exact)
        XCTAssertEqual(r.statistic, 0.5)
        XCTAssertEqual(r.pvalue, 0.4, accuracy: 1e-15)  // scipy 1.17.1
        XCTAssertEqual(r.statisticSign, 1)
        XCTAssertEqual(r.statisticLocation, 3)
        // Equal maxima: the first one in concat(sorted1, sorted2) order wins (0, not 10).
        let e = ks2Samp([0, 10], [5, 15], alternative: .twoSided, method: .auto)
        XCTAssertEqual(e.statistic, 0.5)
        XCTAssertEqual(e.statisticLocation, 0)
        XCTAssertEqual(e.statisticSign, 1)  // minS > maxS is required for sign −1
        // cddiffs over concat([1, 3], [2, 3]) = [0.5, 0, 0, 0]: the first argmin is sample 1's 3,
        // although sample 2 reaches the same minimum at the smaller value 2.
        let less = ks2Samp([1, 3], [2, 3], alternative: .less, method: .asymp)
        XCTAssertEqual(less.statisticLocation, 3)
        XCTAssertEqual(less.statisticSign, -1)
        XCTAssertEqual(less.statistic, 0)
        XCTAssertEqual(less.statistic.sign, .minus)  // numpy.clip(−0.0, 0, 1) keeps −0.0
        XCTAssertEqual(less.pvalue, 1)
        let greater = ks2Samp([2, 3], [1, 3], alternative: .greater, method: .asymp)
        XCTAssertEqual(greater.statisticLocation, 2)
    }

    /// scipy's statistic literally: cdf via searchsorted(side='right') at every element of
    /// concat(sorted1, sorted2), first argmax/argmin, clip(−min, 0, 1).
    static func literalScipyExtremes(_ s1: [Double], _ s2: [Double]) -> KSExtremes {
        func countAtMost(_ s: [Double], _ x: Double) -> Int {
            var lo = 0, hi = s.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if s[mid] <= x { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let all = s1 + s2
        let diffs = all.map {
            Double(countAtMost(s1, $0)) / Double(s1.count) - Double(countAtMost(s2, $0)) / Double(s2.count)
        }
        var argmax = 0, argmin = 0
        for k in diffs.indices {
            if diffs[k] > diffs[argmax] { argmax = k }
            if diffs[k] < diffs[argmin] { argmin = k }
        }
        let negMin = -diffs[argmin]
        let clipped = min(negMin >= 0 ? negMin : 0, 1)
        return KSExtremes(maxS: diffs[argmax], maxLocation: all[argmax], minS: clipped, minLocation: all[argmin])
    }

    func testExtremesMatchLiteralScipyAlgorithm() {
        var rng = SplitMix64(seed: 20251129)
        for trial in 0..<4000 {
            let n1 = 1 + Int(rng.next() % 40), n2 = 1 + Int(rng.next() % 40)
            // Few distinct values → many ties within and across samples.
            let levels = 1 + Int(rng.next() % (trial % 2 == 0 ? 12 : 100_000))
            let shift = Int(rng.next() % 3)
            let s1 = (0..<n1).map { _ in Double(Int(rng.next() % UInt64(levels))) }.sorted()
            let s2 = (0..<n2).map { _ in Double(Int(rng.next() % UInt64(levels)) + shift) }.sorted()
            let got = s1.withUnsafeBufferPointer { a in s2.withUnsafeBufferPointer { b in ksExtremes(sorted1: a, sorted2: b) } }
            let want = Self.literalScipyExtremes(s1, s2)
            XCTAssertEqual(got.maxS.bitPattern, want.maxS.bitPattern, "trial \(trial) \(s1) \(s2)")
            XCTAssertEqual(got.minS.bitPattern, want.minS.bitPattern, "trial \(trial) \(s1) \(s2)")
            XCTAssertEqual(got.maxLocation, want.maxLocation, "trial \(trial) \(s1) \(s2)")
            XCTAssertEqual(got.minLocation, want.minLocation, "trial \(trial) \(s1) \(s2)")
        }
    }

    func testIdenticalSamplesGivePValueOne() {
        let data = [3.0, 1.0, 2.0, 2.0, 5.0]
        for method in KSMethod.allCases {
            for alternative in KSAlternative.allCases {
                let r = ks2Samp(data, data, alternative: alternative, method: method)
                XCTAssertEqual(r.statistic, 0, "\(method) \(alternative)")
                XCTAssertEqual(r.pvalue, 1, "\(method) \(alternative)")
            }
        }
    }

    // MARK: Independent values

    /// Two-sample exact p-values against brute-force enumeration of all C(n1+n2, n1)
    /// arrangements of distinct values (the permutation distribution of D).
    func testExactPValuesAgainstEnumeration() {
        for (n1, n2) in [(3, 4), (4, 6), (5, 5), (2, 7), (6, 4), (5, 8)] {
            let total = n1 + n2
            // Observed sample: a fixed interleaving.
            var observedMask = [Bool](repeating: false, count: total)
            // Positions 3k mod total (3 is coprime to every total used) give a mixed pattern.
            for k in 0..<n1 { observedMask[(k * 3 + 1) % total] = true }
            // D scaled by n1·n2: max over prefixes of ±(c1·n2 − c2·n1).
            func scaled(_ mask: [Bool]) -> (plus: Int, minus: Int) {
                var c1 = 0, c2 = 0, plus = 0, minus = 0
                for isFirst in mask {
                    if isFirst { c1 += 1 } else { c2 += 1 }
                    plus = max(plus, c1 * n2 - c2 * n1)
                    minus = max(minus, c2 * n1 - c1 * n2)
                }
                return (plus, minus)
            }
            let observed = scaled(observedMask)
            var countTwo = 0, countGreater = 0, countLess = 0, arrangements = 0
            for bits in 0..<(1 << total) where bits.nonzeroBitCount == n1 {
                let mask = (0..<total).map { (bits >> $0) & 1 == 1 }
                let s = scaled(mask)
                arrangements += 1
                if max(s.plus, s.minus) >= max(observed.plus, observed.minus) { countTwo += 1 }
                if s.plus >= observed.plus { countGreater += 1 }
                if s.minus >= observed.minus { countLess += 1 }
            }
            let data1 = (0..<total).filter { observedMask[$0] }.map(Double.init)
            let data2 = (0..<total).filter { !observedMask[$0] }.map(Double.init)
            let expectations: [(KSAlternative, Int)] = [(.twoSided, countTwo), (.greater, countGreater), (.less, countLess)]
            for (alternative, count) in expectations {
                let r = ks2Samp(data1, data2, alternative: alternative, method: .exact)
                XCTAssertEqual(r.effectiveMethod, .exact)
                XCTAssertEqual(r.pvalue, Double(count) / Double(arrangements), accuracy: 1e-13,
                               "n1=\(n1) n2=\(n2) \(alternative)")
            }
        }
    }

    func testExactCompleteSeparation() {
        // n1 = n2 = 5, all of sample 1 below sample 2: D = 1, P = 2/C(10,5) two-sided.
        let low = [1.0, 2, 3, 4, 5], high = [6.0, 7, 8, 9, 10]
        XCTAssertEqual(ks2Samp(low, high).pvalue, 2.0 / 252.0, accuracy: 1e-16)
        XCTAssertEqual(ks2Samp(low, high, alternative: .greater).pvalue, 1.0 / 252.0, accuracy: 1e-16)
        XCTAssertEqual(ks2Samp(low, high, alternative: .less).pvalue, 1.0)
    }

    /// Exact values of kstwo.sf from Simard & L'Ecuyer (2011), eqn 1 (also scipy's TestKSTwo):
    /// sf(1/2n) = 1, sf(1/n) = 1 − n!/n^n, sf(1 − 1/n) = 2/n^n, sf(1) = 0, and D_1 = max(U, 1−U).
    func testKolmogorovSFKnownValues() {
        for n in [1, 2, 3, 10, 100, 1000] {
            let nd = Double(n)
            var factorialOverPower = 1.0
            for i in 1...n { factorialOverPower *= Double(i) / nd }
            XCTAssertEqual(kolmogorovSF(0.5 / nd, n: n), 1.0)
            XCTAssertEqual(kolmogorovSF(1.0, n: n), 0.0)
            XCTAssertEqual(kolmogorovSF(0.0, n: n), 1.0)
            if n > 1 {
                XCTAssertEqual(kolmogorovSF(1.0 / nd, n: n), 1 - factorialOverPower, accuracy: 1e-14, "n=\(n)")
                let tail = min(2 * pow(1.0 / nd, nd), 1.0)
                // 1 − fl(1 − 1/n) is off by an ulp of 1, i.e. ~1e-16·n relative after the n-th power.
                XCTAssertEqual(kolmogorovSF(1 - 1.0 / nd, n: n), tail, accuracy: 1e-12 * tail + 1e-300, "n=\(n)")
            }
        }
        // n = 1: D = max(U, 1 − U), so P(D >= d) = 2(1 − d) on [1/2, 1].
        XCTAssertEqual(kolmogorovSF(0.75, n: 1), 0.5, accuracy: 1e-15)
        // n = 2, 1/4 <= x <= 1/2: P(D <= x) = 2!/2² (4x − 1)² (Ruben & Gambino 1982).
        XCTAssertEqual(kolmogorovSF(0.4, n: 2), 1 - 0.5 * 0.6 * 0.6, accuracy: 1e-15)
        // x >= 1/2: two-sided tail is exactly twice the one-sided one.
        for n in [4, 5, 10, 33] {
            XCTAssertEqual(kolmogorovSF(0.5, n: n), 2 * smirnovSF(n: n, 0.5), accuracy: 1e-16)
        }
        XCTAssertTrue(kolmogorovSF(.nan, n: 5).isNaN)
        XCTAssertTrue(kolmogorovSF(0.3, n: 0).isNaN)
    }

    /// One spot value per branch of scipy's `_kolmogn` (values from scipy 1.17.1
    /// `kstwo.sf` / `kstwo.cdf`), so a regression in any single algorithm is caught.
    func testKolmogorovBranchesAgainstScipyValues() {
        let survival: [(Double, Int, Double)] = [
            (0.15, 100, 0.019839242125643017),      // Pomeranz (n <= 140, n·x² <= 4)
            (0.05, 100, 0.9532159710635725),        // Durbin/MTW (n <= 140, n·x² <= 0.754693)
            (0.3, 100, 1.7719869892662917e-08),     // 2·smirnov, Miller's approximation
            (0.6, 100, 5.912822156396238e-35),      // x >= 1/2: exactly 2·smirnov
            (0.995, 100, 1.5777218104421636e-230),  // Ruben–Gambino, x >= 1 − 1/n
            (0.002, 50000, 0.9880386605338913),     // Pelz–Good (n > 140)
            (0.003, 200000, 0.0545369786611305),    // Pelz–Good (n > 100000)
            (0.01, 50000, 9.018048811843602e-05),   // 2·smirnov, exact sum (n·x² >= 2.2)
            (0.1, 50000, 0.0),                      // n·x² >= 370
        ]
        for (d, n, want) in survival {
            XCTAssertEqual(kolmogorovSF(d, n: n), want, accuracy: 1e-10 * want, "sf d=\(d) n=\(n)")
        }
        let cumulative: [(Double, Int, Double)] = [
            (0.009, 100, 1.9010885839445366e-52),   // Ruben–Gambino, x <= 1/n, n <= 140
            (0.0045, 200, 2.036511681854911e-105),  // Ruben–Gambino via Stirling, n > 140
            (0.02, 100, 2.1737933450849138e-11),    // Durbin/MTW, n <= 140
            (0.0009, 50000, 9.140714533468889e-13), // Durbin/MTW, n > 140
            (0.0015, 60000, 0.0007566688961070711), // Durbin/MTW, n > 140
        ]
        for (d, n, want) in cumulative {
            let got = KolmogorovDistribution.kolmogn(n: n, x: d, cdf: true)
            XCTAssertEqual(got, want, accuracy: 1e-10 * want, "cdf d=\(d) n=\(n)")
        }
    }

    /// Large n: kstwo.sf(z/√n, n) approaches Kolmogorov's limit K(z) = 2 Σ (−1)^(k−1) e^(−2k²z²),
    /// with an O(1/√n) correction, so at n = 10^7 they agree to ~1e-3 relative.
    func testKolmogorovSFHugeNAgainstLimit() {
        let n = 10_000_000
        let rootN = Double(n).squareRoot()
        for z in stride(from: 0.3, through: 3.0, by: 0.15) {
            var limit = 0.0
            for k in 1...100 {
                let kd = Double(k)
                limit += (k % 2 == 1 ? 2.0 : -2.0) * exp(-2 * kd * kd * z * z)
            }
            limit = min(max(limit, 0), 1)
            let sf = kolmogorovSF(z / rootN, n: n)
            XCTAssertTrue(sf.isFinite && sf >= 0 && sf <= 1, "z=\(z)")
            XCTAssertEqual(sf, limit, accuracy: 2e-3 * limit + 1e-12, "z=\(z)")
        }
        for d in [0.0, 1e-9, 1e-7, 1e-5, 3e-4, 1e-3, 0.01, 0.1, 0.5, 0.9, 1.0 - 1e-7, 1.0] {
            let sf = kolmogorovSF(d, n: n)
            XCTAssertTrue(sf.isFinite && sf >= 0 && sf <= 1, "d=\(d) sf=\(sf)")
        }
    }

    /// scipy's own TestSmirnov data (scipy/special/tests/test_kolmogorov.py) and
    /// closed forms: smirnov(1, d) = 1 − d, smirnov(n, d) = (1 − d)^n for d >= 1 − 1/n.
    func testSmirnovKnownValues() {
        let atHalf: [(Int, Double)] = [
            (1, 0.5), (2, 0.25), (3, 0.166666666667), (4, 0.09375), (5, 0.056),
            (6, 0.0327932098765), (7, 0.0191958707681), (8, 0.0112953186035),
            (9, 0.00661933257355), (10, 0.003888705),
        ]
        for (n, expected) in atHalf {
            // scipy's table is rounded to ~12 significant digits.
            XCTAssertEqual(smirnovSF(n: n, 0.5), expected, accuracy: 1e-10 * expected, "n=\(n)")
        }
        XCTAssertEqual(smirnovSF(n: 1, 0.1), 0.9, accuracy: 1e-16)
        XCTAssertEqual(smirnovSF(n: 2, 0.875), 0.125 * 0.125, accuracy: 1e-17)
        XCTAssertEqual(smirnovSF(n: 3, 0.875), 0.125 * 0.125 * 0.125, accuracy: 1e-17)
        // Birnbaum–Tingey by hand, n = 2, d = 1/4:
        // d·[C(2,0)(3/4)²(1/4)^−1 + C(2,1)(1/4)(1/2)^0] = (1/4)(9/4 + 1/2) = 11/16.
        XCTAssertEqual(smirnovSF(n: 2, 0.25), 11.0 / 16.0, accuracy: 1e-15)
        for n in [2, 19, 1010] {
            XCTAssertEqual(smirnovSF(n: n, 0), 1)
            XCTAssertEqual(smirnovSF(n: n, 1), 0)
        }
        XCTAssertTrue(smirnovSF(n: 1, .nan).isNaN)
        XCTAssertTrue(smirnovSF(n: 0, 0.5).isNaN)
    }

    func testBinomMatchesScipySemantics() {
        XCTAssertEqual(KSSpecialFunctions.binom(10, 5), 252)
        XCTAssertEqual(KSSpecialFunctions.binom(52, 5), 2_598_960)
        XCTAssertEqual(KSSpecialFunctions.binom(1028, 514), 7.156051054882784e+307)
        XCTAssertEqual(KSSpecialFunctions.binom(1030, 515), .infinity)  // overflow → +inf, no trap
    }

    // MARK: Extreme sizes

    func testSmallestSamplesGiveFiniteProbabilities() {
        let samples: [[Double]] = [[0], [1], [0, 1], [1, 1], [2, 0, 1], [5, 5, 5]]
        for a in samples {
            for b in samples {
                for method in KSMethod.allCases {
                    for alternative in KSAlternative.allCases {
                        let r = ks2Samp(a, b, alternative: alternative, method: method)
                        XCTAssertTrue(r.pvalue.isFinite && r.pvalue >= 0 && r.pvalue <= 1,
                                      "\(a) \(b) \(method) \(alternative): \(r.pvalue)")
                        XCTAssertTrue(r.statistic.isFinite)
                    }
                }
            }
        }
        // n1 = n2 = 1, asymp two-sided: scipy gives NaN (kstwo with n = round(0.5) = 0); we
        // return the exact answer 1.
        XCTAssertEqual(ks2Samp([0], [1], method: .asymp).pvalue, 1.0)
        XCTAssertEqual(ks2Samp([0], [1], method: .exact).pvalue, 1.0)
    }

    func testHugeSamplePValuesAreFinite() {
        let n1 = 10_000_000, n2 = 1_000_000
        // en = 909090.9 → kstwo with n = 909091; D spans every algorithm region
        // (Pelz–Good, Smirnov sum, underflow to 0).
        // (Inside the Smirnov-sum region, 2.2 <= n·D² < 370, one call costs ~0.5 s optimised,
        // as in scipy, so only one such D is used here.)
        for d in [0.0, 1e-6, 2e-4, 1e-3, 0.01, 0.05, 0.5, 1.0] {
            for alternative in KSAlternative.allCases {
                let extremes = KSExtremes(maxS: d, maxLocation: 1, minS: d / 2, minLocation: 0)
                let r = ksTest(extremes, n1: n1, n2: n2, alternative: alternative)
                XCTAssertEqual(r.effectiveMethod, .asymp)
                XCTAssertTrue(r.pvalue.isFinite && r.pvalue >= 0 && r.pvalue <= 1, "d=\(d) \(alternative): \(r.pvalue)")
            }
        }
        // And the statistic over 10^7 + 10^6 sorted values: two shifted uniform grids.
        let a = (0..<n1).map { Double($0) / Double(n1) }
        let b = (0..<n2).map { Double($0) / Double(n2) + 0.05 }
        let extremes = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in ksExtremes(sorted1: pa, sorted2: pb) }
        }
        XCTAssertEqual(extremes.maxS, 0.05, accuracy: 1e-6)
        let r = ksTest(extremes, n1: n1, n2: n2)
        XCTAssertTrue(r.pvalue.isFinite && r.pvalue >= 0 && r.pvalue < 1e-10)
    }

    func testNaNAndEmptyInputsPropagate() {
        let r = ks2Samp([1, .nan, 3], [2, 5])
        XCTAssertTrue(r.statistic.isNaN && r.pvalue.isNaN)
        XCTAssertTrue(ks2Samp([], [1, 2]).pvalue.isNaN)
    }

    /// Small deterministic generator so the randomized checks are reproducible.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
