// Finite-n Kolmogorov distributions, ported from scipy 1.17.1 so that p-values
// agree with scipy to ~1e-12 relative:
//
//  * `kolmogorovSF(d, n:)`  = scipy.stats.kstwo.sf(d, n): the survival function of the
//    two-sided one-sample statistic D_n. Algorithm choice follows scipy/stats/_ksstats.py
//    (`_kolmogn`), which implements Simard & L'Ecuyer (2011), "Computing the Two-Sided
//    Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11).
//  * `smirnovSF(n:, d)`     = scipy.special.smirnov(n, d): the one-sided Smirnov
//    survival function P(D_n^+ >= d), ported from xsf include/xsf/cephes/kolmogorov.h
//    (`_smirnov`, double-double exact sum by van Mulbregt, arXiv:1802.06966).
//
// Only Glibc/Darwin math is used (no Foundation), so this file is cheap to call from hot
// paths and gives the same libm results (exp, log, pow, expm1) as the C/NumPy code.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Public API

/// scipy.stats.kstwo.sf(d, n): survival function P(D_n >= d) of the two-sided one-sample
/// Kolmogorov statistic for a sample of size `n`.
///
/// Mirrors `rv_continuous.sf`: NaN for `n < 1` or NaN `d`, 1 for `d <= 0.5/n`, 0 for `d >= 1`,
/// otherwise `_kolmogn(n, d, cdf=False)`.
public func kolmogorovSF(_ d: Double, n: Int) -> Double {
    guard n >= 1, !d.isNaN else { return .nan }
    if d <= 0.5 / Double(n) { return 1.0 }
    if d >= 1.0 { return 0.0 }
    return KolmogorovDistribution.kolmogn(n: n, x: d, cdf: false)
}

/// scipy.special.smirnov(n, d): one-sided Smirnov survival function P(D_n^+ >= d).
/// NaN for `n < 1`, NaN `d` or `d` outside [0, 1], as scipy.
public func smirnovSF(n: Int, _ d: Double) -> Double {
    if d.isNaN { return .nan }
    // scipy's ufunc passes n as a C int; anything above that is outside its domain too.
    guard n <= Int(Int32.max) else { return .nan }
    return KolmogorovDistribution.smirnov(n: n, x: d)
}

// MARK: - Two-sided: scipy/stats/_ksstats.py

/// Namespace for the finite-n Kolmogorov algorithms (internal so tests can reach them).
enum KolmogorovDistribution {
    /// 2^128 and 2^-128: scipy rescales by these to keep matrix/recursion entries in range.
    static let scaleExponent = 128
    static let scaleUp = 0x1p128
    static let scaleDown = 0x1p-128

    static let sqrt2Pi = (2.0 * Double.pi).squareRoot()
    static let log2Pi = log(2.0 * Double.pi)
    static let piSquared = pow(Double.pi, 2)
    static let piFour = pow(Double.pi, 4)
    static let piSix = pow(Double.pi, 6)
    static let sqrt3 = (3.0).squareRoot()
    /// scipy's `_MIN_LOG`: below this exp() underflows.
    static let minLog = -708.0

    /// Bernoulli-number Stirling coefficients B_{2j}/(2j)/(2j-1), j = 8...1 (scipy `_STIRLING_COEFFS`).
    static let stirlingCoefficients: [Double] = [
        -2.955065359477124183e-2, 6.4102564102564102564e-3,
        -1.9175269175269175269e-3, 8.4175084175084175084e-4,
        -5.952380952380952381e-4, 7.9365079365079365079e-4,
        -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    ]

    @inline(__always) static func clipProbability(_ p: Double) -> Double {
        // numpy.clip(p, 0, 1) == minimum(maximum(p, 0), 1); NaN passes through.
        if p.isNaN { return p }
        return Swift.min(p >= 0 ? p : 0, 1)
    }

    @inline(__always) static func select(cdf cdfProb: Double, sf sfProb: Double, wantCDF: Bool) -> Double {
        clipProbability(wantCDF ? cdfProb : sfProb)
    }

    /// log(n!/n^n) by Stirling's series with n·log(n) removed up front (scipy
    /// `_log_nfactorial_div_n_pow_n`), used by Ruben–Gambino for large n.
    static func logNFactorialOverNPowN(_ n: Int) -> Double {
        let nd = Double(n)
        let rn = 1.0 / nd
        var poly = 0.0
        for c in stirlingCoefficients { poly = poly * (rn / nd) + c }
        return log(nd) / 2 - nd + log2Pi / 2 + rn * poly
    }

    /// `_kolmogn(n, x, cdf)`: P(D_n <= x) or P(D_n >= x). Simard & L'Ecuyer (2011) decide
    /// which of the exact / asymptotic methods is accurate in each (n, x) region.
    static func kolmogn(n: Int, x: Double, cdf: Bool) -> Double {
        if n <= 0 { return .nan }
        if x.isNaN { return .nan }
        if x >= 1.0 { return select(cdf: 1.0, sf: 0.0, wantCDF: cdf) }
        if x <= 0.0 { return select(cdf: 0.0, sf: 1.0, wantCDF: cdf) }
        let nd = Double(n)
        let t = nd * x
        if t <= 1.0 {
            // Ruben & Gambino (1982): for 1/(2n) <= x <= 1/n, P(D_n <= x) = n!/n^n (2t-1)^n.
            if t <= 0.5 { return select(cdf: 0.0, sf: 1.0, wantCDF: cdf) }
            let prob: Double
            if n <= 140 {
                // np.prod(arange(1, n+1) * (1.0/n) * (2t-1)): each factor rounded, product in order.
                let inv = 1.0 / nd
                let base = 2 * t - 1
                var p = 1.0
                for i in 1...n { p *= (Double(i) * inv) * base }
                prob = p
            } else {
                prob = exp(logNFactorialOverNPowN(n) + nd * log(2 * t - 1))
            }
            return select(cdf: prob, sf: 1.0 - prob, wantCDF: cdf)
        }
        if t >= nd - 1 {
            // Ruben & Gambino (1982): for x >= 1 - 1/n, P(D_n >= x) = 2 (1-x)^n.
            let prob = 2 * pow(1.0 - x, nd)
            return select(cdf: 1 - prob, sf: prob, wantCDF: cdf)
        }
        if x >= 0.5 {
            // D_n^+ >= x and D_n^- >= x cannot both happen, so the two-sided tail is exactly 2·smirnov.
            let prob = 2 * smirnov(n: n, x: x)
            return select(cdf: 1.0 - prob, sf: prob, wantCDF: cdf)
        }
        let nxSquared = t * x
        if n <= 140 {
            if nxSquared <= 0.754693 {
                let prob = durbinMTW(n: n, d: x)
                return select(cdf: prob, sf: 1.0 - prob, wantCDF: cdf)
            }
            if nxSquared <= 4 {
                let prob = pomeranz(n: n, x: x)
                return select(cdf: prob, sf: 1.0 - prob, wantCDF: cdf)
            }
            // Miller's approximation: the intersection term is negligible here.
            let prob = 2 * smirnov(n: n, x: x)
            return select(cdf: 1.0 - prob, sf: prob, wantCDF: cdf)
        }
        // n > 140: CDF and SF use different cut-offs on n·x².
        if !cdf {
            if nxSquared >= 370.0 { return 0.0 }
            if nxSquared >= 2.2 { return clipProbability(2 * smirnov(n: n, x: x)) }
            // Otherwise SF = 1 - CDF below.
        }
        let cdfProb: Double
        if nxSquared >= 18.0 {
            cdfProb = 1.0
        } else if n <= 100_000 && nd * pow(x, 1.5) <= 1.4 {
            cdfProb = durbinMTW(n: n, d: x)
        } else {
            cdfProb = pelzGood(n: n, x: x)
        }
        return select(cdf: cdfProb, sf: 1.0 - cdfProb, wantCDF: cdf)
    }

    /// P(D_n <= d) by Durbin's (1968) matrix method, evaluated as in Marsaglia, Tsang & Wang
    /// (2003), "Evaluating Kolmogorov's Distribution", J. Stat. Softw. 8(18): the k-th diagonal
    /// entry of (n!/n^n)·H^n, with H^n formed by repeated squaring and rescaled by 2^128 to
    /// stay in range (scipy `_kolmogn_DMTW`). Memory O(m²), time O(m³ log n), m = 2k-1.
    static func durbinMTW(n: Int, d: Double) -> Double {
        if d >= 1.0 { return 1.0 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0.0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1

        // v[j] = (1 - h^(j+1)) / (j+1)!, w[j] = 1/j!; the last entry of v is special.
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var fac = 1.0
        for j in 1...m {
            v[j - 1] = 1.0 - pow(h, Double(j))
            w[j - 1] = fac
            fac /= Double(j)  // may underflow; harmless
            v[j - 1] *= fac
        }
        let tt = pow(Swift.max(2 * h - 1.0, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1.0 + tt) * fac

        var hMatrix = [Double](repeating: 0, count: m * m)  // row-major
        for i in 1..<m {
            for r in (i - 1)..<m { hMatrix[r * m + i] = w[r - (i - 1)] }
        }
        for r in 0..<m { hMatrix[r * m] = v[r] }
        for c in 0..<m { hMatrix[(m - 1) * m + c] = v[m - 1 - c] }

        var power = [Double](repeating: 0, count: m * m)
        for i in 0..<m { power[i * m + i] = 1 }
        var scratch = [Double](repeating: 0, count: m * m)

        var remaining = n
        var powerExponent = 0  // power = true power · 2^(-powerExponent)
        var hExponent = 0
        let diagonal = (k - 1) * m + (k - 1)
        while remaining > 0 {
            if remaining % 2 == 1 {
                multiplySquare(power, hMatrix, into: &scratch, size: m)
                swap(&power, &scratch)
                powerExponent += hExponent
            }
            remaining /= 2
            // scipy also squares after the last bit; that product is never used.
            if remaining == 0 { break }
            multiplySquare(hMatrix, hMatrix, into: &scratch, size: m)
            swap(&hMatrix, &scratch)
            hExponent *= 2
            if abs(hMatrix[diagonal]) > scaleUp {
                for idx in 0..<(m * m) { hMatrix[idx] /= scaleUp }
                hExponent += scaleExponent
            }
        }

        var p = power[diagonal]
        var exponent = powerExponent
        let nDouble = Double(n)
        // Multiply by n!/n^n one factor at a time, rescaling before underflow.
        for i in 1...n {
            p = Double(i) * p / nDouble
            if abs(p) < scaleDown {
                p *= scaleUp
                exponent -= scaleExponent
            }
        }
        if exponent != 0 { p = scalbn(p, Int32(clamping: exponent)) }
        return clipProbability(p)
    }

    /// out = a·b for row-major square matrices (naive i-k-j order; m is at most ~115 here).
    private static func multiplySquare(_ a: [Double], _ b: [Double], into out: inout [Double], size m: Int) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for idx in 0..<(m * m) { po[idx] = 0 }
                    for i in 0..<m {
                        let row = i * m
                        for kk in 0..<m {
                            let aik = pa[row + kk]
                            if aik == 0 { continue }
                            let brow = kk * m
                            for j in 0..<m { po[row + j] += aik * pb[brow + j] }
                        }
                    }
                }
            }
        }
    }

    /// Interval of possibly non-zero entries of row i of the Pomeranz recursion
    /// (scipy `_pomeranz_compute_j1j2`).
    private static func pomeranzBounds(_ i: Int, n: Int, ll: Int, ceilf: Int, roundf: Int) -> (Int, Int) {
        var j1: Int, j2: Int
        if i == 0 {
            j1 = -ll - ceilf - 1
            j2 = ll + ceilf - 1
        } else {
            let ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2
            if ip1mod2 == 0 {  // i odd
                if ip1div2 == n + 1 {
                    j1 = n - ll - ceilf - 1
                    j2 = n + ll + ceilf - 1
                } else {
                    j1 = ip1div2 - 1 - ll - roundf - 1
                    j2 = ip1div2 + ll - 1 + ceilf - 1
                }
            } else {
                j1 = ip1div2 - 1 - ll - 1
                j2 = ip1div2 + ll + roundf - 1
            }
        }
        return (Swift.max(j1 + 2, 0), Swift.min(j2, n))
    }

    /// P(D_n <= x) by the Pomeranz (1974) recursion, "Exact Cumulative Distribution of the
    /// Kolmogorov-Smirnov Statistic for Small Samples (Algorithm 487)", CACM 17(12): each row
    /// is the previous one convolved with truncated Poisson weights; rows are rescaled by 2^128
    /// against underflow (scipy `_kolmogn_Pomeranz`).
    static func pomeranz(n: Int, x: Double) -> Double {
        let nd = Double(n)
        let t = nd * x
        let ll = Int(t.rounded(.down))
        let f = 1.0 * (t - Double(ll))
        let g = Swift.min(f, 1.0 - f)
        let ceilf = f > 0 ? 1 : 0
        let roundf = f > 0.5 ? 1 : 0
        let npwrs = 2 * (ll + 1)
        // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: Poisson weights without the normaliser.
        var gPower = [Double](repeating: 0, count: npwrs)
        var twoGPower = [Double](repeating: 0, count: npwrs)
        var oneMinusTwoGPower = [Double](repeating: 0, count: npwrs)
        gPower[0] = 1; twoGPower[0] = 1; oneMinusTwoGPower[0] = 1
        let gOverN = g / nd, twoGOverN = 2 * g / nd, oneMinusTwoGOverN = (1 - 2 * g) / nd
        for j in 1..<npwrs {
            let md = Double(j)
            gPower[j] = gPower[j - 1] * gOverN / md
            twoGPower[j] = twoGPower[j - 1] * twoGOverN / md
            oneMinusTwoGPower[j] = oneMinusTwoGPower[j - 1] * oneMinusTwoGOverN / md
        }

        var v0 = [Double](repeating: 0, count: npwrs)
        var v1 = [Double](repeating: 0, count: npwrs)
        v1[0] = 1
        var v0Start = 0, v1Start = 0
        var exponent = 0
        var conv = [Double](repeating: 0, count: 2 * npwrs)

        var (j1, j2) = pomeranzBounds(0, n: n, ll: ll, ceilf: ceilf, roundf: roundf)
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&v0, &v1)
            swap(&v0Start, &v1Start)
            for idx in 0..<npwrs { v1[idx] = 0 }
            (j1, j2) = pomeranzBounds(i, n: n, ll: ll, ceilf: ceilf, roundf: roundf)
            let weights = (i == 1 || i == 2 * n + 1) ? gPower : (i % 2 == 1 ? twoGPower : oneMinusTwoGPower)
            let len = j2 - k1 + 1
            if len > 0 {
                // Full convolution of v0[k1-v0Start ..< +len] with pwrs[0..<len] (np.convolve),
                // clamped to the array ends the way Python slicing would.
                let aStart = k1 - v0Start
                let aLen = Swift.max(0, Swift.min(aStart + len, npwrs) - Swift.max(aStart, 0))
                let bLen = Swift.min(len, npwrs)
                let convLen = aLen + bLen - 1
                if aLen > 0 && bLen > 0 {
                    let offset = Swift.max(aStart, 0)
                    for c in 0..<convLen {
                        var s = 0.0
                        let lo = Swift.max(0, c - (bLen - 1)), hi = Swift.min(c, aLen - 1)
                        if lo <= hi {
                            for a in lo...hi {
                                s += v0[offset + a] * weights[c - a]
                            }
                        }
                        conv[c] = s
                    }
                    let convStart = j1 - k1
                    let convCount = j2 - j1 + 1
                    if convCount > 0 {
                        for c in 0..<convCount where convStart + c < convLen && c < npwrs {
                            v1[c] = conv[convStart + c]
                        }
                    }
                }
                // Rescale before the row underflows.
                var rowMax = -Double.infinity
                for value in v1 where value > rowMax { rowMax = value }
                if rowMax > 0 && rowMax < scaleDown {
                    for idx in 0..<npwrs { v1[idx] *= scaleUp }
                    exponent -= scaleExponent
                }
                v1Start = v0Start + j1 - k1
            }
        }

        // Multiply by n!, rescaling before overflow.
        let index = n - v1Start
        var answer = (index >= 0 && index < npwrs) ? v1[index] : 0.0
        for j in 1...n {
            if abs(answer) > scaleUp {
                answer *= scaleDown
                exponent += scaleExponent
            }
            answer *= Double(j)
        }
        if exponent != 0 { answer = scalbn(answer, Int32(clamping: exponent)) }
        return clipProbability(answer)
    }

    /// Pelz & Good (1976), "Approximating the Lower Tail-areas of the Kolmogorov-Smirnov
    /// One-sample Statistic", JRSS B 38(2): the Li-Chien/Korolyuk expansion in 1/√n with each
    /// term rewritten through Jacobi theta identities so it converges fast for small z = x√n
    /// (scipy `_kolmogn_PelzGood`). Returns an unclipped P(D_n <= x).
    static func pelzGood(n: Int, x: Double) -> Double {
        if x <= 0.0 { return 0.0 }
        if x >= 1.0 { return 1.0 }
        let nd = Double(n)
        let z = nd.squareRoot() * x
        let zSquared = pow(z, 2), zThree = pow(z, 3), zFour = pow(z, 4), zSix = pow(z, 6)

        let qlog = -piSquared / 8 / zSquared
        if qlog < minLog { return 0.0 }  // z below ~0.0417
        var q = exp(qlog)

        let k1a = -zSquared
        let k1b = piSquared / 4
        let k2a = 6 * zSix + 2 * zFour
        let k2b = (2 * zFour - 5 * zSquared) * piSquared / 4
        let k2c = piFour * (1 - 2 * zSquared) / 16
        let k3d = piSix * (5 - 30 * zSquared) / 64
        let k3c = piFour * (-60 * zSquared + 212 * zFour) / 16
        let k3b = piSquared * (135 * zFour - 96 * zSix) / 4
        let k3a = -30 * zSix - 90 * pow(z, 8)

        // Horner scheme over odd m = 2k-1 for sum c_k q^(m²).
        var k0 = 0.0, k1 = 0.0, k2 = 0.0, k3 = 0.0
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        if maxk >= 1 {
            for k in stride(from: maxk, through: 1, by: -1) {
                let m = Double(2 * k - 1)
                let mSquared = m * m, mFour = mSquared * mSquared, mSix = mFour * mSquared
                let qPower = pow(q, Double(8 * k))
                k0 = k0 * qPower + 1.0
                k1 = k1 * qPower + (k1a + k1b * mSquared)
                k2 = k2 * qPower + (k2a + k2b * mSquared + k2c * mFour)
                k3 = k3 * qPower + (k3a + k3b * mSquared + k3c * mFour + k3d * mSix)
            }
        }
        k0 *= q; k1 *= q; k2 *= q; k3 *= q
        k0 *= sqrt2Pi; k1 *= sqrt2Pi; k2 *= sqrt2Pi; k3 *= sqrt2Pi
        k0 /= z
        k1 /= 6 * zFour
        k2 /= 72 * pow(z, 7)
        k3 /= 6480 * pow(z, 10)

        // The remaining sums over all integers k (no cancellation expected, summed directly).
        q = exp(-piSquared / 2 / zSquared)
        let sqrt3z = sqrt3 * z
        var k2Terms = [Double](), k3Terms = [Double]()
        k2Terms.reserveCapacity(Swift.max(maxk, 0))
        k3Terms.reserveCapacity(Swift.max(maxk, 0))
        if maxk >= 1 {
            for k in stride(from: maxk, through: 1, by: -1) {
                let kSquared = Double(k * k)
                let qPower = pow(q, kSquared)
                let kPi = Double.pi * Double(k)
                k2Terms.append(kSquared * qPower)
                k3Terms.append((sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qPower)
            }
        }
        var k2Extra = numpySum(k2Terms)
        k2Extra *= piSquared * sqrt2Pi / (-36 * zThree)
        k2 += k2Extra
        var k3Extra = numpySum(k3Terms)
        k3Extra *= piSquared * sqrt2Pi / (216 * zSix)
        k3 += k3Extra

        k1 /= pow(nd, 0.5)
        k2 /= pow(nd, 1.0)
        k3 /= pow(nd, 1.5)
        return ((k0 + k1) + k2) + k3
    }

    /// numpy's float64 `np.sum` of a contiguous array: pairwise summation with 8-way
    /// unrolled blocks (kept bit-compatible so Pelz–Good matches scipy to the last ulp).
    static func numpySum(_ a: [Double]) -> Double {
        a.withUnsafeBufferPointer { numpyPairwise($0.baseAddress, $0.count) }
    }

    private static func numpyPairwise(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return 0 }
        if n < 8 {
            var res = 0.0
            for i in 0..<n { res += a[i] }
            return res
        } else if n <= 128 {
            var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
            var i = 8
            while i < n - (n % 8) {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
                i += 8
            }
            var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n { res += a[i]; i += 1 }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return numpyPairwise(a, n2) + numpyPairwise(a + n2, n - n2)
        }
    }
}

// MARK: - One-sided Smirnov: xsf include/xsf/cephes/kolmogorov.h

extension KolmogorovDistribution {
    static let smirnovMaxComputeN = 1_000_000
    static let smirnovUpperMaxTerms = 3
    static let smirnovUpperSumMinN = 10
    /// Keeps both halves of a double-double normal while powers are split up.
    static let smirnovMaxExponent = 960
    /// log(2^-1075): exp() of anything smaller is 0 (cephes MINLOG).
    static let cephesMinLog = -7.451332191019412076235245305675398106812E2

    /// `_smirnov(n, x).sf`: P(D_n^+ >= x) by the Birnbaum–Tingey / Smirnov (1944) sum
    ///   sum_{v=0}^{floor(n(1-x))} C(n,v) x (x+v/n)^(v-1) (1-x-v/n)^(n-v),
    /// evaluated in double-double with binomials and powers kept as mantissa/exponent pairs
    /// (van Mulbregt, arXiv:1802.06966), or its upper-tail complement when that has <= 3 terms.
    static func smirnov(n: Int, x: Double, logSpaceMinN: Int = smirnovLogSpaceMinN) -> Double {
        if !(n > 0 && x >= 0.0 && x <= 1.0) { return .nan }
        if n == 1 { return 1 - x }
        if x == 0.0 { return 1.0 }
        if x == 1.0 { return 0.0 }

        let (alpha, nxFloor) = modNX(n, x)
        var n1mxFloor = n - nxFloor - (alpha == 0 ? 0 : 1)
        var n1mxCeil = n - nxFloor
        // With alpha == 0 the last term belongs to neither sum.
        if alpha == 0 {
            n1mxFloor -= 1
            n1mxCeil += 1
        }

        // x <= 1/n: P(D_n^+ < x) = x (1+x)^(n-1).
        if nxFloor == 0 || (nxFloor == 1 && alpha == 0) {
            let t = pow2(1, x, n - 1)
            let cdf = x * t
            return 1 - cdf
        }
        // The SF underflows double.
        if -2.0 * Double(n) * x * x < cephesMinLog { return 0 }  // exact as C's (-2*n)*x*x
        // x >= 1 - 1/n: only the v = 0 term survives.
        if nxFloor >= n - 1 {
            return pow2(1, -x, n)
        }
        // Very large n: p ~ exp(-(6nx+1)²/(18n)) (too many terms to sum).
        if n > smirnovMaxComputeN {
            let nd = Double(n)
            let logp = -pow(6.0 * nd * x + 1, 2) / 18.0 / nd
            if logp < -M_LN2 { return exp(logp) }
            let cdf = -expm1(logp)
            return 1 - cdf
        }

        // Use the (alternating) upper sum only when it has very few terms.
        let nUpperTerms = n - n1mxCeil + 1
        var useUpperSum = (nUpperTerms <= 1 && x < 0.5)
        useUpperSum = useUpperSum
            || (n >= smirnovUpperSumMinN && nUpperTerms <= smirnovUpperMaxTerms && x <= 0.5 / Double(n).squareRoot())

        var start = 0, step = 1, nTerms = n1mxFloor + 1
        let vMid = n / 2
        if !useUpperSum && n > logSpaceMinN {
            return smirnovLowerSumLogSpace(n: n, x: x, nTerms: nTerms)
        }
        var cMan = KSDoubleDouble(1.0)
        var cExp = 0
        var aj: KSDoubleDouble
        var ajSum = KSDoubleDouble(0.0)
        if useUpperSum {
            start = n
            step = -1
            nTerms = n - n1mxCeil + 1
            aj = pow4(1, x, 1, 0, n - 1)
        } else {
            let t2 = pow4(1, -x, 1, 0, n)
            aj = t2 / x
        }
        ajSum = ajSum + aj
        updateBinomial(&cMan, &cExp, n, 0)

        var j = 1
        while j < nTerms {
            let v = start + j * step
            aj = smirnovTerm(n: n, x: x, v: v, cMan: cMan, cExp: cExp)
            if aj.hi.isFinite && aj != 0.0 {
                ajSum = ajSum + aj
            }
            // Stop once the remaining terms cannot move the sum.
            if aj != 0.0 {
                if Double(4 * (nTerms - j)) * abs(aj.hi) < Double.ulpOfOne * ajSum.hi && j != nTerms - 1 {
                    break
                }
            } else if j > vMid {
                break
            }
            updateBinomial(&cMan, &cExp, n, j)
            j += 1
        }
        let prob = (x * ajSum).hi
        let sf = step < 0 ? 1 - prob : prob
        return clipProbability(sf)
    }

    /// Above this n the lower Smirnov sum is taken in log space (see below).
    static let smirnovLogSpaceMinN = 2000

    /// The same lower sum as `smirnov` — x · Σ_v C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v),
    /// with the same early stop — but each term as exp of a log in plain doubles: log C(n,v)
    /// carried incrementally, the powers as (v−1)·log(x + v/n) and (n−v)·log(1 − x − v/n).
    /// The terms are all positive, so there is no cancellation to protect against; the error of
    /// a term is about n·x·ε relative (5e-13 at n = 10⁶, x = 0.005), checked against the
    /// double-double path in the tests. Why: the double-double powers cost ~0.7 µs a term,
    /// and in the small-p region the sum runs over tens of thousands of terms — 25 ms for one
    /// p-value at n = 33,000, 80 ms at n = 90,000 (`driftwatch bench ingest`: 35 % of the
    /// service's CPU went here). This path is ~10× faster.
    static func smirnovLowerSumLogSpace(n: Int, x: Double, nTerms: Int) -> Double {
        let nd = Double(n)
        let vMid = n / 2
        var logBinomial = 0.0  // log C(n, v), Kahan-compensated: it sums thousands of steps
        var compensation = 0.0
        var sum = 0.0
        var v = 0
        while v < nTerms {
            if v > 0 {
                let step = log(Double(n - v + 1) / Double(v)) - compensation
                let t = logBinomial + step
                compensation = (t - logBinomial) - step
                logBinomial = t
            }
            let a = Double(v) / nd + x  // x + v/n
            let b = Double(n - v) / nd - x  // 1 - x - v/n
            let logTerm = logBinomial + Double(v - 1) * log(a) + Double(n - v) * log(b)
            let term = exp(logTerm)
            if term.isFinite { sum += term }
            if v > 0 {
                if term != 0 {
                    if Double(4 * (nTerms - v)) * term < Double.ulpOfOne * sum && v != nTerms - 1 { break }
                } else if v > vMid {
                    break
                }
            }
            v += 1
        }
        return clipProbability(x * sum)
    }

    /// floor(n·x) and the fractional part, computed exactly in double-double.
    private static func modNX(_ n: Int, _ x: Double) -> (alpha: Double, nxFloor: Int) {
        let nxD = Double(n) * KSDoubleDouble(x)
        let nxFloorD = nxD.floor()
        let alphaD = nxD - nxFloorD
        var alpha = alphaD.hi
        var nxFloor = Int(nxFloorD.hi)
        if alpha == 1 {
            nxFloor += 1
            alpha = 0
        }
        return (alpha, nxFloor)
    }

    /// C(n, j+1) from C(n, j), kept as (mantissa in [0.5, 1), binary exponent).
    private static func updateBinomial(_ cMan: inout KSDoubleDouble, _ cExp: inout Int, _ n: Int, _ j: Int) {
        let ratio = KSDoubleDouble(Double(n - j)) / (Double(j) + 1.0)
        let (mantissa, e) = (cMan * ratio).frexp()
        cExp += e
        cMan = mantissa
    }

    /// a^m in double-double, trading a little accuracy for speed with libm pow (xsf `pow_D`).
    private static func powD(_ a: KSDoubleDouble, _ m: Int) -> KSDoubleDouble {
        if m <= 0 {
            if m == 0 { return KSDoubleDouble(1.0) }
            return KSDoubleDouble(1.0) / powD(a, -m)
        }
        if a == 0.0 { return KSDoubleDouble(0.0) }
        let ans = pow(a.hi, Double(m))
        let r = a.lo / a.hi
        var adj = Double(m) * r
        if abs(adj) > 1e-8 {
            if abs(adj) < 1e-4 {
                // First two Taylor terms of (1+r)^m.
                adj += (Double(m) * r) * (Double(m - 1) / 2.0 * r)
            } else {
                adj = expm1(Double(m) * log1p(r))
            }
        }
        return KSDoubleDouble(ans) + ans * adj
    }

    private static func pow2(_ a: Double, _ b: Double, _ m: Int) -> Double {
        powD(KSDoubleDouble(a) + b, m).hi
    }

    /// The closest power of two-ish used to split long exponentiations (xsf `nextPowerOf2`).
    private static func nextPowerOf2(_ x: Double) -> Double {
        let q = scalbn(x, 1 - 53)  // ldexp(x, 1 - DBL_MANT_DIG)
        var l = abs(q + x)
        if l == 0 {
            l = abs(x)
        } else if l < 2147483648.0 {
            let lInt = Double(Int32(l))
            if lInt == l { l = lInt }
        }
        return l
    }

    /// a^m = significand · 2^exponent without overflow/underflow (xsf `pow2Scaled_D`).
    private static func pow2Scaled(_ a: KSDoubleDouble, _ m: Int) -> (KSDoubleDouble, Int) {
        if m <= 0 {
            if m == 0 { return (KSDoubleDouble(1.0), 0) }
            let (inner, e1) = pow2Scaled(a, -m)
            let (result, e2) = (1.0 / inner).frexp()
            return (result, -e1 + e2)
        }
        let (y, yE) = a.frexp()
        if m == 1 { return (y, yE) }
        var maxExpt = smirnovMaxExponent
        // y^m may drop below 2^-960: split the exponent into chunks that stay representable.
        if Double(m) * (y.hi - 1) / y.hi < Double(-smirnovMaxExponent) * M_LN2 {
            let lg2y = log(y.hi) / M_LN2
            let lgAns = Double(m) * lg2y
            if lgAns <= Double(-smirnovMaxExponent) {
                let chunk = nextPowerOf2(Double(-smirnovMaxExponent) / lg2y + 1) / 2
                maxExpt = chunk < 2147483648.0 ? Int(chunk) : Int(Int32.max)
            }
        }
        if m <= maxExpt {
            let (ans, ansE) = powD(y, m).frexp()
            return (ans, ansE + m * yE)
        }
        let q = m / maxExpt
        let r = m % maxExpt
        // y^m = (y^maxExpt)^q · y^r
        let (y2r, y2rE) = pow2Scaled(y, r)
        let (y2m, y2mE) = pow2Scaled(y, maxExpt)
        var (y2mq, y2mqE) = pow2Scaled(y2m, q)
        y2mq = y2r * y2mq
        let (ans, ansE0) = y2mq.frexp()
        y2mqE += y2mE * q
        var ansE = ansE0 + y2mqE + y2rE
        ansE += m * yE
        return (ans, ansE)
    }

    /// ((a+b)/(c+d))^m in double-double (xsf `pow4_D`).
    private static func pow4(_ a: Double, _ b: Double, _ c: Double, _ d: Double, _ m: Int) -> KSDoubleDouble {
        if m <= 0 {
            if m == 0 { return KSDoubleDouble(1.0) }
            return pow4(c, d, a, b, -m)
        }
        let numerator = KSDoubleDouble(a) + b
        let denominator = KSDoubleDouble(c) + d
        if numerator == 0.0 {
            return denominator == 0.0 ? KSDoubleDouble(.nan, .nan) : KSDoubleDouble(0.0)
        }
        if denominator == 0.0 {
            return numerator.hi < 0 ? KSDoubleDouble(-.infinity, -.infinity) : KSDoubleDouble(.infinity, .infinity)
        }
        return powD(numerator / denominator, m)
    }

    /// One term A_v = C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1), with C(n,v) given as (cMan, cExp).
    private static func smirnovTerm(n: Int, x: Double, v: Int, cMan: KSDoubleDouble, cExp: Int) -> KSDoubleDouble {
        let nd = Double(n)
        let t2x = KSDoubleDouble(Double(n - v)) / nd - x  // 1 - x - v/n
        let (t2, t2E) = pow2Scaled(t2x, n - v)
        let t1x = KSDoubleDouble(Double(v)) / nd + x  // x + v/n
        let (t1, t1E) = pow2Scaled(t1x, v - 1)
        let product = (t1 * t2) * cMan
        return product.ldexp(cExp + t1E + t2E)
    }
}

// MARK: - Double-double arithmetic (the subset of QD/xsf dd_real.h that _smirnov needs)

/// An unevaluated sum hi + lo with |lo| <= ulp(hi)/2 (~106-bit significand).
/// Algorithms from Hida, Li & Bailey's QD library as used by xsf `dd_real.h`.
struct KSDoubleDouble: Sendable, Equatable {
    var hi: Double
    var lo: Double

    @inline(__always) init(_ hi: Double, _ lo: Double) { self.hi = hi; self.lo = lo }
    @inline(__always) init(_ value: Double) { self.hi = value; self.lo = 0 }

    /// fl(a+b) and its error, assuming |a| >= |b|.
    @inline(__always) static func quickTwoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let c = s - a
        return (s, b - c)
    }

    /// fl(a+b) and its error (Knuth).
    @inline(__always) static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let c = s - a
        let d = b - c
        let e = s - c
        return (s, (a - e) + d)
    }

    /// fl(a·b) and its error via fused multiply-add.
    @inline(__always) static func twoProd(_ a: Double, _ b: Double) -> (Double, Double) {
        let p = a * b
        return (p, (-p).addingProduct(a, b))
    }

    @inline(__always) static prefix func - (x: KSDoubleDouble) -> KSDoubleDouble { KSDoubleDouble(-x.hi, -x.lo) }

    /// IEEE-style accurate addition (Briggs/Kahan).
    static func + (lhs: KSDoubleDouble, rhs: KSDoubleDouble) -> KSDoubleDouble {
        var (s1, s2) = twoSum(lhs.hi, rhs.hi)
        let (t1, t2) = twoSum(lhs.lo, rhs.lo)
        s2 += t1
        (s1, s2) = quickTwoSum(s1, s2)
        s2 += t2
        (s1, s2) = quickTwoSum(s1, s2)
        return KSDoubleDouble(s1, s2)
    }

    static func + (lhs: KSDoubleDouble, rhs: Double) -> KSDoubleDouble {
        var (s1, s2) = twoSum(lhs.hi, rhs)
        s2 += lhs.lo
        (s1, s2) = quickTwoSum(s1, s2)
        return KSDoubleDouble(s1, s2)
    }

    static func - (lhs: KSDoubleDouble, rhs: KSDoubleDouble) -> KSDoubleDouble { lhs + (-rhs) }

    static func - (lhs: KSDoubleDouble, rhs: Double) -> KSDoubleDouble {
        var (s1, s2) = twoSum(lhs.hi, -rhs)
        s2 += lhs.lo
        (s1, s2) = quickTwoSum(s1, s2)
        return KSDoubleDouble(s1, s2)
    }

    static func * (lhs: KSDoubleDouble, rhs: KSDoubleDouble) -> KSDoubleDouble {
        var (p1, p2) = twoProd(lhs.hi, rhs.hi)
        p2 += (lhs.hi * rhs.lo + lhs.lo * rhs.hi)
        (p1, p2) = quickTwoSum(p1, p2)
        return KSDoubleDouble(p1, p2)
    }

    static func * (lhs: Double, rhs: KSDoubleDouble) -> KSDoubleDouble {
        let (p1, e1) = twoProd(lhs, rhs.hi)
        let (p2, e2) = twoProd(lhs, rhs.lo)
        let (s, e) = quickTwoSum(p1, e2 + p2 + e1)
        return KSDoubleDouble(s, e)
    }

    static func / (lhs: KSDoubleDouble, rhs: KSDoubleDouble) -> KSDoubleDouble {
        var q1 = lhs.hi / rhs.hi  // approximate quotient
        var r = lhs - rhs * KSDoubleDouble(q1)
        var q2 = r.hi / rhs.hi
        r = r - rhs * KSDoubleDouble(q2)
        let q3 = r.hi / rhs.hi
        (q1, q2) = quickTwoSum(q1, q2)
        return KSDoubleDouble(q1, q2) + q3
    }

    static func / (lhs: KSDoubleDouble, rhs: Double) -> KSDoubleDouble { lhs / KSDoubleDouble(rhs) }
    static func / (lhs: Double, rhs: KSDoubleDouble) -> KSDoubleDouble { KSDoubleDouble(lhs) / rhs }

    static func == (lhs: KSDoubleDouble, rhs: Double) -> Bool { lhs.hi == rhs && lhs.lo == 0.0 }
    static func != (lhs: KSDoubleDouble, rhs: Double) -> Bool { lhs.hi != rhs || lhs.lo != 0.0 }

    func floor() -> KSDoubleDouble {
        var h = hi.rounded(.down)
        var l = 0.0
        if h == hi {
            // High word already integral: round the low word.
            l = lo.rounded(.down)
            (h, l) = KSDoubleDouble.quickTwoSum(h, l)
        }
        return KSDoubleDouble(h, l)
    }

    func ldexp(_ exponent: Int) -> KSDoubleDouble {
        let e = Int32(clamping: exponent)
        return KSDoubleDouble(scalbn(hi, e), scalbn(lo, e))
    }

    /// (b, e) with 0.5 <= |b.hi| < 1 (or |b.hi| == 1 with b.hi·b.lo < 0) and self = b·2^e.
    func frexp() -> (KSDoubleDouble, Int) {
        var (man, exponent) = ksFrexp(hi)
        var b1 = scalbn(lo, Int32(clamping: -exponent))
        if abs(man) == 0.5 && man * b1 < 0 {
            man *= 2
            b1 *= 2
            exponent -= 1
        }
        return (KSDoubleDouble(man, b1), exponent)
    }
}

/// C frexp(): mantissa in [0.5, 1) and exponent; (x, 0) for 0, ±inf and NaN.
@inline(__always) func ksFrexp(_ x: Double) -> (Double, Int) {
    if x == 0 || !x.isFinite { return (x, 0) }
    let e = Int(x.exponent) + 1
    return (scalbn(x, Int32(-e)), e)
}
