#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Regularized incomplete gamma functions, for chi² p-values.
// Algorithm: Cephes `igam`/`igamc` (S. L. Moshier, Cephes Math Library 2.8, igam.c): power
// series below the mode, Legendre's continued fraction above it. The prefactor is kept in
// log space so that p-values down to the subnormal range come out (scipy returns values
// such as 7.9e-322 rather than 0).

private let machineEpsilon = 1.11022302462515654042e-16
private let bigNumber = 4.503599627370496e15
private let bigInverse = 2.22044604925031308085e-16

/// log of the prefactor x^a e^{-x} / Γ(a).
@inline(__always)
private func logGammaPrefactor(_ a: Double, _ x: Double) -> Double {
    a * log(x) - x - lgamma(a)
}

/// P(a, x): regularized lower incomplete gamma.
public func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
    if x.isNaN || a.isNaN || a <= 0 || x < 0 { return .nan }
    if x == 0 { return 0 }
    if x == .infinity { return 1 }
    if x > 1 && x > a { return 1 - regularizedGammaQ(a, x) }
    return exp(log(gammaSeries(a, x)) + logGammaPrefactor(a, x))
}

/// Q(a, x) = 1 − P(a, x): regularized upper incomplete gamma (chi2.sf(x, k) = Q(k/2, x/2)).
public func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
    if x.isNaN || a.isNaN || a <= 0 || x < 0 { return .nan }
    if x == 0 { return 1 }
    if x == .infinity { return 0 }
    if x < 1 || x < a { return 1 - exp(log(gammaSeries(a, x)) + logGammaPrefactor(a, x)) }
    return exp(log(gammaContinuedFraction(a, x)) + logGammaPrefactor(a, x))
}

/// Σ x^k / (a(a+1)…(a+k)) · a, i.e. P(a,x) without its prefactor, times a … divided by a.
private func gammaSeries(_ a: Double, _ x: Double) -> Double {
    var r = a
    var c = 1.0
    var sum = 1.0
    repeat {
        r += 1
        c *= x / r
        sum += c
    } while c / sum > machineEpsilon
    return sum / a
}

/// Continued fraction for Q(a,x) without its prefactor (Cephes igamc).
private func gammaContinuedFraction(_ a: Double, _ x: Double) -> Double {
    var y = 1 - a
    var z = x + y + 1
    var c = 0.0
    var pkm2 = 1.0
    var qkm2 = x
    var pkm1 = x + 1
    var qkm1 = z * x
    var ans = pkm1 / qkm1
    var t: Double
    var iterations = 0
    repeat {
        c += 1
        y += 1
        z += 2
        let yc = y * c
        let pk = pkm1 * z - pkm2 * yc
        let qk = qkm1 * z - qkm2 * yc
        if qk != 0 {
            let r = pk / qk
            t = abs((ans - r) / r)
            ans = r
        } else {
            t = 1
        }
        pkm2 = pkm1
        pkm1 = pk
        qkm2 = qkm1
        qkm1 = qk
        if abs(pk) > bigNumber {
            pkm2 *= bigInverse
            pkm1 *= bigInverse
            qkm2 *= bigInverse
            qkm1 *= bigInverse
        }
        iterations += 1
    } while t > machineEpsilon && iterations < 100_000
    return ans
}

/// Survival function of the chi² distribution with `dof` degrees of freedom.
public func chiSquaredSF(_ x: Double, dof: Double) -> Double {
    if x.isNaN { return .nan }
    if x <= 0 { return 1 }
    return regularizedGammaQ(dof / 2, x / 2)
}
