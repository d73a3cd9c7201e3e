// Two-sample Kolmogorov–Smirnov test, a faithful port of scipy 1.17.1
// `scipy.stats.ks_2samp` (scipy/stats/_stats_py.py: `ks_2samp`, `_attempt_exact_2kssamp`,
// `_compute_prob_outside_square`, `_count_paths_outside_method`; and
// scipy/stats/_stats_pythran.py: `_compute_outer_prob_inside_method`).
//
// The statistic, its location and sign, the exact/asymptotic dispatch (including scipy's
// silent-overflow fallback from exact to asymptotic) and the p-values reproduce scipy's
// floating-point operations in the same order, so results agree to ~1e-15 relative in the
// exact paths and to the accuracy of `kstwo.sf` (see KolmogorovDistribution.swift) in the
// asymptotic two-sided path.
//
// Deliberate deviation: for n1 = n2 = 1 with method .asymp and alternative .twoSided, scipy
// calls kstwo.sf(D, round(0.5) = 0) and returns NaN; we return the exact p-value, 1.0.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The alternative hypothesis of the KS test (scipy.stats.ks_2samp's `alternative`).
public enum KSAlternative: String, Sendable, CaseIterable, Codable { case twoSided = "two-sided", less, greater }
/// How the KS p-value is computed (scipy.stats.ks_2samp's `method`).
public enum KSMethod: String, Sendable, CaseIterable, Codable { case auto, exact, asymp }

/// Extremes of cddiffs = F1 − F2 as scipy computes them, with scipy's first-argmax/argmin location rule.
public struct KSExtremes: Sendable, Equatable {
    public var maxS: Double        // max(F1 − F2)
    public var maxLocation: Double // data value at scipy's first argmax over concat(sorted data1, sorted data2)
    public var minS: Double        // clip(−min(F1 − F2), 0, 1)
    public var minLocation: Double

    public init(maxS: Double, maxLocation: Double, minS: Double, minLocation: Double) {
        self.maxS = maxS
        self.maxLocation = maxLocation
        self.minS = minS
        self.minLocation = minLocation
    }
}

/// A two-sample KS test as scipy.stats.ks_2samp returns it: statistic, p-value, where and in which direction.
public struct KSResult: Sendable, Equatable, Codable {
    public var statistic: Double
    public var pvalue: Double
    public var statisticLocation: Double
    public var statisticSign: Int
    public var effectiveMethod: KSMethod     // .exact or .asymp
    public var exactFellBackToAsymp: Bool

    public init(
        statistic: Double, pvalue: Double, statisticLocation: Double, statisticSign: Int,
        effectiveMethod: KSMethod, exactFellBackToAsymp: Bool
    ) {
        self.statistic = statistic
        self.pvalue = pvalue
        self.statisticLocation = statisticLocation
        self.statisticSign = statisticSign
        self.effectiveMethod = effectiveMethod
        self.exactFellBackToAsymp = exactFellBackToAsymp
    }
}

// MARK: - Statistic

/// O(n1+n2) merge over two ascending-sorted samples (no NaN); no allocation.
///
/// scipy evaluates cddiffs = searchsorted(s1, x, 'right')/n1 − searchsorted(s2, x, 'right')/n2
/// at every x of concat(s1, s2) and takes the *first* argmax/argmin. All copies of a value
/// share one cddiff; positions of sample 1 precede those of sample 2, and within a sample
/// ascending values are ascending positions. So it is enough to track the extremes of each
/// block separately (first strict improvement wins) and prefer block 1 on a tie.
///
/// Speed: inside a run of sample-1 values lying below the next sample-2 value, F2 is fixed
/// and F1 rises group by group, so cddiff strictly increases along the run (consecutive
/// values of Double(c1)/Double(n1) are >= 1/n1 apart, far above rounding): the run's only
/// minimum candidate is its first group and its only maximum candidate its last. The run is
/// therefore skipped with a bare `<` scan and cddiff is formed twice per run, as
/// `Double(c1)/Double(n1) − Double(c2)/Double(n2)` exactly like numpy. Runs of sample 2 are
/// symmetric (cddiff decreases). Empty input gives NaN extremes.
public func ksExtremes(sorted1: UnsafeBufferPointer<Double>, sorted2: UnsafeBufferPointer<Double>) -> KSExtremes {
    let n1 = sorted1.count, n2 = sorted2.count
    guard n1 > 0, n2 > 0, let a = sorted1.baseAddress, let b = sorted2.baseAddress else {
        return KSExtremes(maxS: .nan, maxLocation: .nan, minS: .nan, minLocation: .nan)
    }
    let dn1 = Double(n1), dn2 = Double(n2)
    var block1 = KSBlockExtremes(), block2 = KSBlockExtremes()
    var i = 0, j = 0
    while i < n1 && j < n2 {
        let x = a[i], y = b[j]
        if x < y {
            // Run of sample-1 values below y: first group (all copies of x), then the rest.
            i += 1
            while i < n1 && a[i] <= x { i += 1 }
            let f2 = Double(j) / dn2
            block1.updateMin(Double(i) / dn1 - f2, at: x)
            while i < n1 && a[i] < y { i += 1 }
            block1.updateMax(Double(i) / dn1 - f2, at: a[i - 1])
        } else if y < x {
            j += 1
            while j < n2 && b[j] <= y { j += 1 }
            let f1 = Double(i) / dn1
            block2.updateMax(f1 - Double(j) / dn2, at: y)
            while j < n2 && b[j] < x { j += 1 }
            block2.updateMin(f1 - Double(j) / dn2, at: b[j - 1])
        } else {
            // The value occurs in both samples: one cddiff for both blocks.
            i += 1
            while i < n1 && a[i] <= x { i += 1 }
            j += 1
            while j < n2 && b[j] <= y { j += 1 }
            let diff = Double(i) / dn1 - Double(j) / dn2
            block1.updateMax(diff, at: x)
            block1.updateMin(diff, at: x)
            block2.updateMax(diff, at: y)
            block2.updateMin(diff, at: y)
        }
    }
    // Tail: one sample is exhausted (its ECDF is 1); the rest of the other is a single run.
    if i < n1 {
        let x = a[i]
        i += 1
        while i < n1 && a[i] <= x { i += 1 }
        block1.updateMin(Double(i) / dn1 - Double(j) / dn2, at: x)
        block1.updateMax(1.0 - Double(j) / dn2, at: a[n1 - 1])
    }
    if j < n2 {
        let y = b[j]
        j += 1
        while j < n2 && b[j] <= y { j += 1 }
        block2.updateMax(Double(i) / dn1 - Double(j) / dn2, at: y)
        block2.updateMin(Double(i) / dn1 - 1.0, at: b[n2 - 1])
    }

    // On equal extremes sample 1's position comes first in concat order.
    let maxS: Double, maxLocation: Double
    if block1.max >= block2.max {
        maxS = block1.max; maxLocation = block1.maxLocation
    } else {
        maxS = block2.max; maxLocation = block2.maxLocation
    }
    let minValue: Double, minLocation: Double
    if block1.min <= block2.min {
        minValue = block1.min; minLocation = block1.minLocation
    } else {
        minValue = block2.min; minLocation = block2.minLocation
    }
    return KSExtremes(maxS: maxS, maxLocation: maxLocation, minS: numpyClip01(-minValue), minLocation: minLocation)
}

/// Running extremes over one block (sample 1's or sample 2's positions in concat order);
/// only a strict improvement moves the location, giving numpy's first argmax/argmin.
struct KSBlockExtremes {
    var max = -Double.infinity, maxLocation = Double.nan
    var min = Double.infinity, minLocation = Double.nan

    @inline(__always) mutating func updateMax(_ diff: Double, at value: Double) {
        if diff > max { max = diff; maxLocation = value }
    }

    @inline(__always) mutating func updateMin(_ diff: Double, at value: Double) {
        if diff < min { min = diff; minLocation = value }
    }
}

/// numpy.clip(x, 0, 1) = minimum(maximum(x, 0), 1): keeps −0.0 and NaN as numpy does.
@inline(__always) private func numpyClip01(_ x: Double) -> Double {
    let lower = (x >= 0 || x.isNaN) ? x : 0
    return (lower <= 1 || lower.isNaN) ? lower : 1
}

// MARK: - Test

/// Statistic choice + p-value exactly as scipy from the extremes and the sizes.
///
/// `exactFellBackToAsymp` is set only when the exact computation was attempted and failed
/// (scipy's "Exact calculation unsuccessful" warning); the int32 lcm guard of an explicit
/// `.exact` request switches to `.asymp` without setting it, as scipy does.
public func ksTest(
    _ extremes: KSExtremes, n1: Int, n2: Int,
    alternative: KSAlternative = .twoSided, method: KSMethod = .auto
) -> KSResult {
    // scipy: MAX_AUTO_N = 10000, `auto` is exact when both sizes are at most this.
    let maxAutoN = 10_000
    var mode = method
    if mode == .auto { mode = Swift.max(n1, n2) <= maxAutoN ? .exact : .asymp }

    var d: Double, location: Double, sign: Int
    if alternative == .less || (alternative == .twoSided && extremes.minS > extremes.maxS) {
        d = extremes.minS; location = extremes.minLocation; sign = -1
    } else {
        d = extremes.maxS; location = extremes.maxLocation; sign = 1
    }
    // D is in [0, 1] for extremes from `ksExtremes`; anything else (NaN from empty or NaN
    // input, or hand-made values) has no p-value.
    guard n1 > 0, n2 > 0, (0.0...1.0).contains(d) else {
        return KSResult(statistic: .nan, pvalue: .nan, statisticLocation: .nan, statisticSign: 0,
                        effectiveMethod: mode, exactFellBackToAsymp: false)
    }

    let g = KolmogorovSmirnovExact.gcd(n1, n2)
    let n1g = n1 / g, n2g = n2 / g
    if method == .exact && Double(n1g) >= Double(Int32.max) / Double(n2g) {
        // scipy skips exact (with its own warning, not the overflow fallback) when
        // lcm(n1, n2) would not fit int32 lattice indices.
        mode = .asymp
    }
    if mode == .exact && n1g.multipliedReportingOverflow(by: n2).overflow {
        mode = .asymp  // only reachable with sizes beyond any real sample
    }

    var prob = -Double.infinity
    var fellBack = false
    if mode == .exact {
        let attempt = KolmogorovSmirnovExact.attempt(n1: n1, n2: n2, g: g, d: d, alternative: alternative)
        d = attempt.d
        prob = attempt.prob
        if !attempt.success {
            mode = .asymp
            fellBack = true
        }
    }
    if mode == .asymp {
        prob = KolmogorovSmirnovExact.asymptoticPValue(d: d, n1: n1, n2: n2, alternative: alternative)
    }
    return KSResult(statistic: d, pvalue: numpyClip01(prob), statisticLocation: location, statisticSign: sign,
                    effectiveMethod: mode, exactFellBackToAsymp: fellBack)
}

/// Convenience: sorts copies then calls the two above. NaN or empty input gives a NaN result
/// (scipy's default nan_policy='propagate'), with statisticSign 0.
public func ks2Samp(
    _ data1: [Double], _ data2: [Double],
    alternative: KSAlternative = .twoSided, method: KSMethod = .auto
) -> KSResult {
    if data1.isEmpty || data2.isEmpty || data1.contains(where: { $0.isNaN }) || data2.contains(where: { $0.isNaN }) {
        let nanExtremes = KSExtremes(maxS: .nan, maxLocation: .nan, minS: .nan, minLocation: .nan)
        return ksTest(nanExtremes, n1: data1.count, n2: data2.count, alternative: alternative, method: method)
    }
    let sorted1 = data1.sorted(), sorted2 = data2.sorted()
    let extremes = sorted1.withUnsafeBufferPointer { p1 in
        sorted2.withUnsafeBufferPointer { p2 in ksExtremes(sorted1: p1, sorted2: p2) }
    }
    return ksTest(extremes, n1: data1.count, n2: data2.count, alternative: alternative, method: method)
}

// MARK: - p-values

/// The exact and asymptotic p-value paths of scipy's ks_2samp (internal for tests).
enum KolmogorovSmirnovExact {
    struct Attempt: Equatable {
        var success: Bool
        var d: Double
        var prob: Double
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var x = abs(a), y = abs(b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// Python's floor division for Int.
    @inline(__always) static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }

    /// `_attempt_exact_2kssamp`: D is snapped to h/lcm(n1, n2) first (also on failure, so a
    /// fallback reports h/lcm). Fails when scipy would hit a floating-point error or produce a
    /// probability outside [0, 1].
    static func attempt(n1: Int, n2: Int, g: Int, d: Double, alternative: KSAlternative) -> Attempt {
        let lcm = (n1 / g) * n2
        let hDouble = (d * Double(lcm)).rounded(.toNearestOrEven)
        let h = Int(hDouble)
        let dSnapped = Double(h) * 1.0 / Double(lcm)
        if h == 0 { return Attempt(success: true, d: dSnapped, prob: 1.0) }

        var prob = Double.nan
        switch alternative {
        case .twoSided:
            prob = n1 == n2
                ? probOutsideSquare(n: n1, h: h)
                : outerProbInsideMethod(m: n1, n: n2, g: g, h: h)
        case .less, .greater:
            if n1 == n2 {
                // binom(2n, n-h)/binom(2n, n) as a direct product (avoids binom round-off).
                var p = 1.0
                let nd = Double(n1)
                for j in 0..<h { p *= Double(n1 - j) / (nd + Double(j) + 1.0) }
                prob = p
            } else {
                // scipy treats an FP error in the path count, an infinite binom(n1+n2, n1)
                // or more paths than binom(n1+n2, n1) as overflow and falls back to asymp.
                // With binom(n1+n2, n1) infinite it fails whatever the count does, so the
                // O(n²) count is skipped then.
                let total = KSSpecialFunctions.binom(Double(n1 + n2), Double(n1))
                if total.isInfinite { return Attempt(success: false, d: dSnapped, prob: .nan) }
                guard let numPaths = countPathsOutsideMethod(m: n1, n: n2, g: g, h: h),
                      !(numPaths > total) else {
                    return Attempt(success: false, d: dSnapped, prob: .nan)
                }
                prob = numPaths / total
            }
        }
        if !(0 <= prob && prob <= 1) { return Attempt(success: false, d: dSnapped, prob: prob) }
        return Attempt(success: true, d: dSnapped, prob: prob)
    }

    /// `_compute_prob_outside_square`: P(D_{n,n} >= h/n), the proportion of lattice paths that
    /// leave the band |x − y| < h. The alternating binomial sum
    /// 2·Σ_k (−1)^(k+1) binom(2n, n − kh)/binom(2n, n) is evaluated Horner-style,
    /// P = 2·A0·(1 − A1·(1 − A2·(…))), to avoid cancellation (Hodges 1958).
    static func probOutsideSquare(n: Int, h: Int) -> Double {
        var p = 0.0
        var k = Int((Double(n) / Double(h)).rounded(.down))
        while k >= 0 {
            var p1 = 1.0
            // Each A_k has h simple factors in numerator and denominator.
            for j in 0..<h {
                p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1)
            }
            p = p1 * (1.0 - p)
            k -= 1
        }
        return 2 * p
    }

    /// `_compute_outer_prob_inside_method` (scipy/stats/_stats_pythran.py): 1 − (paths staying
    /// strictly inside |x/m − y/n| < h/lcm)/binom(m+n, n), by Hodges' (1958) "inside method"
    /// with the recursion rewritten to carry the outside proportion directly (Viehmann 2021,
    /// arXiv:2102.08037), which needs no big binomials. One sliding column is kept.
    static func outerProbInsideMethod(m mIn: Int, n nIn: Int, g: Int, h: Int) -> Double {
        let m = Swift.max(mIn, nIn), n = Swift.min(mIn, nIn)
        let mg = m / g, ng = n / g
        let hd = Double(h), mgd = Double(mg)
        var minj = 0
        var maxj = Swift.min(Int((hd / mgd).rounded(.up)), n + 1)
        var curlen = maxj - minj
        let lenA = Swift.min(2 * maxj + 2, n + 1)
        var column = [Double](repeating: 1.0, count: lenA)
        for idx in minj..<Swift.min(maxj, lenA) { column[idx] = 0.0 }
        return column.withUnsafeMutableBufferPointer { a -> Double in
            for i in 1...m {
                let lastminj = minj, lastlen = curlen
                minj = Swift.max(Int((Double(ng * i - h) / mgd).rounded(.down)) + 1, 0)
                minj = Swift.min(minj, n)
                maxj = Swift.min(Int((Double(ng * i + h) / mgd).rounded(.up)), n + 1)
                if maxj <= minj { return 1.0 }
                let di = Double(i)
                var val = minj == 0 ? 0.0 : 1.0
                let shift = minj - lastminj
                for jj in 0..<(maxj - minj) {
                    let j = Double(jj + minj)
                    val = (a[jj + shift] * di + val * j) / (di + j)
                    a[jj] = val
                }
                curlen = maxj - minj
                if lastlen > curlen {
                    // Entries carried over beyond the new window are outside: set to 1.
                    let lo = maxj - minj, hi = Swift.min(maxj - minj + (lastlen - curlen), lenA)
                    if lo < hi { for idx in lo..<hi { a[idx] = 1 } }
                }
            }
            return a[maxj - minj - 1]
        }
    }

    /// `_count_paths_outside_method`: number of lattice paths from (0,0) to (m,n) that reach
    /// m·y <= n·x − h·g (one-sided), following Hodges' (1958) treatment of Drion/Gnedenko/
    /// Korolyuk. Values are binomial-sized doubles. Returns nil where numpy (errstate
    /// over/invalid = 'raise') would raise FloatingPointError: a finite·finite product or sum
    /// overflowing, or an inf−inf / inf·0.
    static func countPathsOutsideMethod(m mIn: Int, n nIn: Int, g: Int, h: Int) -> Double? {
        let m = Swift.max(mIn, nIn), n = Swift.min(mIn, nIn)
        let mg = m / g, ng = n / g
        // Only the x where n·x/m + ng·h crosses an integer matter.
        let lxj = n + floorDiv(mg - h, mg)
        if lxj <= 0 { return KSSpecialFunctions.binom(Double(m + n), Double(n)) }
        var xj = [Int](repeating: 0, count: lxj)
        for j in 0..<lxj { xj[j] = floorDiv(h + mg * j + ng - 1, ng) }

        // B[j] = paths from (0,0) to (xj[j], j) that never reached the boundary before.
        var bValues = [Double](repeating: 0, count: lxj)
        bValues[0] = 1
        for j in 1..<lxj {
            var bj = KSSpecialFunctions.binom(Double(xj[j] + j), Double(j))
            for i in 0..<j {
                let bin = KSSpecialFunctions.binom(Double(xj[j] - xj[i] + j - i), Double(j - i))
                guard let product = checkedMultiply(bin, bValues[i]),
                      let difference = checkedSubtract(bj, product) else { return nil }
                bj = difference
            }
            bValues[j] = bj
        }
        // Extend each first-touch path to (m, n).
        var numPaths = 0.0
        for j in 0..<lxj {
            let bin = KSSpecialFunctions.binom(Double((m - xj[j]) + (n - j)), Double(n - j))
            guard let term = checkedMultiply(bValues[j], bin),
                  let sum = checkedAdd(numPaths, term) else { return nil }
            numPaths = sum
        }
        return numPaths
    }

    /// numpy scalar arithmetic under errstate(over='raise', invalid='raise').
    @inline(__always) private static func checkedMultiply(_ a: Double, _ b: Double) -> Double? {
        let r = a * b
        if r.isNaN && !a.isNaN && !b.isNaN { return nil }
        if r.isInfinite && a.isFinite && b.isFinite { return nil }
        return r
    }

    @inline(__always) private static func checkedSubtract(_ a: Double, _ b: Double) -> Double? {
        let r = a - b
        if r.isNaN && !a.isNaN && !b.isNaN { return nil }
        if r.isInfinite && a.isFinite && b.isFinite { return nil }
        return r
    }

    @inline(__always) private static func checkedAdd(_ a: Double, _ b: Double) -> Double? {
        let r = a + b
        if r.isNaN && !a.isNaN && !b.isNaN { return nil }
        if r.isInfinite && a.isFinite && b.isFinite { return nil }
        return r
    }

    /// scipy's asymptotic branch. Two-sided: kstwo.sf(D, round(en)) with en = m·n/(m+n) and
    /// numpy's half-to-even rounding. One-sided: Hodges' (1958) eqn 5.3,
    /// exp(−2z² − 2z(m+2n)/√(mn(m+n))/3) with z = √en·D and m >= n.
    static func asymptoticPValue(d: Double, n1: Int, n2: Int, alternative: KSAlternative) -> Double {
        let m = Double(Swift.max(n1, n2)), n = Double(Swift.min(n1, n2))
        let en = m * n / (m + n)
        if alternative == .twoSided {
            let effectiveN = en.rounded(.toNearestOrEven)
            // Only n1 = n2 = 1 rounds to 0, where scipy returns NaN; the exact p-value is 1.
            if effectiveN < 1 { return 1.0 }
            return kolmogorovSF(d, n: Int(effectiveN))
        }
        let z = en.squareRoot() * d
        let exponent = -2 * (z * z) - 2 * z * (m + 2 * n) / (m * n * (m + n)).squareRoot() / 3.0
        return exp(exponent)
    }
}

// MARK: - Special functions (scipy.special.binom and the cephes pieces it uses)

/// Ports of xsf `binom.h` and cephes `beta.h`, `gamma.h`, `rgamma.h` for non-negative
/// arguments, so that overflow to +inf happens exactly where scipy's does (that decides the
/// exact → asymptotic fallback).
enum KSSpecialFunctions {
    static let maxGamma = 171.624376956302725     // largest x with finite Gamma(x)
    static let maxLog = 7.097827128933839730962063185871E2  // log(DBL_MAX)
    static let logSqrt2Pi = 0.91893853320467274178
    static let sqrt2Pi = 2.506628274631000502415765284811045253007
    static let maxStirling = 143.01608
    static let betaAsymptoticFactor = 1e6

    /// scipy.special.binom(n, k) for n >= 0 (+inf on overflow, never an FP exception).
    static func binom(_ n: Double, _ k: Double) -> Double {
        if n < 0 && n == n.rounded(.down) { return .nan }
        var kx = k.rounded(.down)
        if k == kx && (abs(n) > 1e-8 || n == 0) {
            // Integer k: multiplication formula, exact while the result is an integer.
            let nx = n.rounded(.down)
            if nx == n && kx > nx / 2 && nx > 0 { kx = nx - kx }  // symmetry
            if kx >= 0 && kx < 20 {
                var num = 1.0, den = 1.0
                var i = 1
                while i < 1 + Int(kx) {
                    num *= Double(i) + n - kx
                    den *= Double(i)
                    if abs(num) > 1e50 {
                        num /= den
                        den = 1.0
                    }
                    i += 1
                }
                return num / den
            }
        }
        if n >= 1e10 * k && k > 0 {
            // Avoids intermediate under/overflow.
            return exp(-lbeta(1 + n - k, 1 + k) - log(n + 1))
        }
        // (k > 1e8·|n| cannot happen for 0 <= k <= n.)
        return 1 / (n + 1) / beta(1 + n - k, 1 + k)
    }

    /// cephes beta(a, b) for a, b > 0.
    static func beta(_ aIn: Double, _ bIn: Double) -> Double {
        var a = aIn, b = bIn
        if abs(a) < abs(b) { swap(&a, &b) }
        if abs(a) > betaAsymptoticFactor * abs(b) && a > betaAsymptoticFactor {
            let (y, sign) = lbetaAsymptotic(a, b)
            return Double(sign) * exp(y)
        }
        var y = a + b
        if abs(y) > maxGamma || abs(a) > maxGamma || abs(b) > maxGamma {
            var sign = 1
            let (lgY, s1) = lgamSign(y)
            sign *= s1
            let (lgB, s2) = lgamSign(b)
            y = lgB - lgY
            sign *= s2
            let (lgA, s3) = lgamSign(a)
            y = lgA + y
            sign *= s3
            if y > maxLog { return Double(sign) * .infinity }
            return Double(sign) * exp(y)
        }
        return gammaProduct(a, b, rgammaOfSum: rgamma(y))
    }

    /// cephes lbeta(a, b) = log|B(a, b)| for a, b > 0.
    static func lbeta(_ aIn: Double, _ bIn: Double) -> Double {
        var a = aIn, b = bIn
        if abs(a) < abs(b) { swap(&a, &b) }
        if abs(a) > betaAsymptoticFactor * abs(b) && a > betaAsymptoticFactor {
            return lbetaAsymptotic(a, b).0
        }
        var y = a + b
        if abs(y) > maxGamma || abs(a) > maxGamma || abs(b) > maxGamma {
            y = lgamSign(y).0
            y = lgamSign(b).0 - y
            y = lgamSign(a).0 + y
            return y
        }
        return log(abs(gammaProduct(a, b, rgammaOfSum: rgamma(y))))
    }

    /// Γ(a)·Γ(b)/Γ(a+b) from 1/Γ(a+b), multiplied in the order cephes uses (the factor that
    /// keeps the intermediate nearer 1 first), shared by `beta` and `lbeta`.
    private static func gammaProduct(_ a: Double, _ b: Double, rgammaOfSum y: Double) -> Double {
        let ga = gamma(a), gb = gamma(b)
        if y.isInfinite { return .infinity }
        var r = y
        if abs(abs(ga * r) - 1.0) > abs(abs(gb * r) - 1.0) {
            r = gb * r
            r *= ga
        } else {
            r = ga * r
            r *= gb
        }
        return r
    }

    /// ln|B(a, b)| for a > 1e6·max(b, 1): asymptotic expansion avoiding lgam(a+b) − lgam(a).
    private static func lbetaAsymptotic(_ a: Double, _ b: Double) -> (Double, Int) {
        var (r, sign) = lgamSign(b)
        r -= b * log(a)
        r += b * (1 - b) / (2 * a)
        r += b * (1 - b) * (1 - 2 * b) / (12 * a * a)
        r += -b * b * (1 - b) * (1 - b) / (12 * a * a * a)
        return (r, sign)
    }

    private static let gammaP: [Double] = [
        1.60119522476751861407E-4, 1.19135147006586384913E-3, 1.04213797561761569935E-2,
        4.76367800457137231464E-2, 2.07448227648435975150E-1, 4.94214826801497100753E-1,
        9.99999999999999996796E-1,
    ]
    private static let gammaQ: [Double] = [
        -2.31581873324120129819E-5, 5.39605580493303397842E-4, -4.45641913851797240494E-3,
        1.18139785222060435552E-2, 3.58236398605498653373E-2, -2.34591795718243348568E-1,
        7.14304917030273074085E-2, 1.00000000000000000320E0,
    ]
    private static let gammaStirling: [Double] = [
        7.87311395793093628397E-4, -2.29549961613378126380E-4, -2.68132617805781232825E-3,
        3.47222221605458667310E-3, 8.33333333333482257126E-2,
    ]
    private static let lgamA: [Double] = [
        8.11614167470508450300E-4, -5.95061904284301438324E-4, 7.93650340457716943945E-4,
        -2.77777777730099687205E-3, 8.33333333333331927722E-2,
    ]
    private static let lgamB: [Double] = [
        -1.37825152569120859100E3, -3.88016315134637840924E4, -3.31612992738871184744E5,
        -1.16237097492762307383E6, -1.72173700820839662146E6, -8.53555664245765465627E5,
    ]
    private static let lgamC: [Double] = [
        -3.51815701436523470549E2, -1.70642106651881159223E4, -2.20528590553854454839E5,
        -1.13933444367982507207E6, -2.53252307177582951285E6, -2.01889141433532773231E6,
    ]
    private static let rgammaR: [Double] = [
        3.13173458231230000000E-17, -6.70718606477908000000E-16,
        2.20039078172259550000E-15, 2.47691630348254132600E-13,
        -6.60074100411295197440E-12, 5.13850186324226978840E-11,
        1.08965386454418662084E-9, -3.33964630686836942556E-8,
        2.68975996440595483619E-7, 2.96001177518801696639E-6,
        -8.04814124978471142852E-5, 4.16609138709688864714E-4,
        5.06579864028608725080E-3, -6.41925436109158228810E-2,
        -4.98558728684003594785E-3, 1.27546015610523951063E-1,
    ]

    @inline(__always) private static func polevl(_ x: Double, _ coef: [Double]) -> Double {
        var ans = coef[0]
        for i in 1..<coef.count { ans = ans * x + coef[i] }
        return ans
    }

    /// Polynomial with an implied leading coefficient 1.
    @inline(__always) private static func p1evl(_ x: Double, _ coef: [Double]) -> Double {
        var ans = x + coef[0]
        for i in 1..<coef.count { ans = ans * x + coef[i] }
        return ans
    }

    private static func chbevl(_ x: Double, _ coef: [Double]) -> Double {
        var b0 = coef[0], b1 = 0.0, b2 = 0.0
        for i in 1..<coef.count {
            b2 = b1
            b1 = b0
            b0 = x * b1 - b2 + coef[i]
        }
        return 0.5 * (b0 - b2)
    }

    /// Gamma by Stirling's formula for 33 <= x <= 172.
    private static func stirling(_ x: Double) -> Double {
        if x >= maxGamma { return .infinity }
        var w = 1.0 / x
        w = 1.0 + w * polevl(w, gammaStirling)
        var y = exp(x)
        if x > maxStirling {
            // Avoid overflow in pow().
            let v = pow(x, 0.5 * x - 0.25)
            y = v * (v / y)
        } else {
            y = pow(x, x - 0.5) / y
        }
        return sqrt2Pi * y * w
    }

    /// cephes Gamma(x) for x > 0.
    static func gamma(_ xIn: Double) -> Double {
        var x = xIn
        if !x.isFinite { return x > 0 ? x : .nan }
        if x == 0 { return Double.infinity }
        if x > 33.0 { return stirling(x) }
        var z = 1.0
        while x >= 3.0 {
            x -= 1.0
            z *= x
        }
        while x < 2.0 {
            if x < 1e-9 { return z / ((1.0 + 0.5772156649015329 * x) * x) }
            z /= x
            x += 1.0
        }
        if x == 2.0 { return z }
        x -= 2.0
        return z * polevl(x, gammaP) / polevl(x, gammaQ)
    }

    /// cephes rgamma(x) = 1/Gamma(x) for x > 0.
    static func rgamma(_ x: Double) -> Double {
        if x == 0 { return x }
        if abs(x) > 4.0 { return 1.0 / gamma(x) }
        var z = 1.0
        var w = x
        while w > 1.0 {
            w -= 1.0
            z *= w
        }
        if w == 0.0 { return 0.0 }
        if w == 1.0 { return 1.0 / z }
        return w * (1.0 + chbevl(4.0 * w - 2.0, rgammaR)) / z
    }

    /// cephes lgam_sgn(x) = (log|Gamma(x)|, sign) for x > 0.
    static func lgamSign(_ xIn: Double) -> (Double, Int) {
        var x = xIn
        if !x.isFinite { return (x, 1) }
        if x < 13.0 {
            var z = 1.0, p = 0.0, u = x
            while u >= 3.0 {
                p -= 1.0
                u = x + p
                z *= u
            }
            while u < 2.0 {
                if u == 0.0 { return (.infinity, 1) }
                z /= u
                p += 1.0
                u = x + p
            }
            var sign = 1
            if z < 0.0 { sign = -1; z = -z }
            if u == 2.0 { return (log(z), sign) }
            p -= 2.0
            x = x + p
            p = x * polevl(x, lgamB) / p1evl(x, lgamC)
            return (log(z) + p, sign)
        }
        if x > 2.556348e305 { return (.infinity, 1) }
        let q = (x - 0.5) * log(x) - x + logSqrt2Pi
        if x >= 1000.0 {
            if x > 1.0e8 { return (q, 1) }
            let p = 1.0 / (x * x)
            let tail = ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3) * p
                + 0.0833333333333333333333) / x
            return (q + tail, 1)
        }
        let p = 1.0 / (x * x)
        return (q + polevl(p, lgamA) / x, 1)
    }
}
