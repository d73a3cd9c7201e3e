// Chi-squared tests for categorical features.

/// A chi-squared test's statistic, p-value and degrees of freedom (as scipy.stats reports them).
public struct ChiSquareResult: Sendable, Equatable, Codable {
    public var statistic: Double
    public var pvalue: Double
    public var dof: Int
}

/// Pearson goodness-of-fit of current counts against reference shares, as Evidently's
/// `chisquare` stat test: f_exp = reference count × n_cur / n_ref, then
/// `scipy.stats.chisquare(f_obs, f_exp)` (evidently/legacy/calculations/stattests/
/// chisquare_stattest.py). A category absent from the reference has f_exp = 0, so the
/// statistic is +∞ and p = 0, exactly as scipy.
public func chiSquareGoodnessOfFit(referenceCounts: [Int], currentCounts: [Int]) -> ChiSquareResult {
    precondition(referenceCounts.count == currentCounts.count, "aligned category counts")
    let nRef = referenceCounts.reduce(0, +)
    let nCur = currentCounts.reduce(0, +)
    let k = referenceCounts.count
    let dof = max(k - 1, 0)
    guard nRef > 0, nCur > 0, k > 1 else { return ChiSquareResult(statistic: 0, pvalue: 1, dof: dof) }
    let scale = Double(nCur) / Double(nRef)
    var statistic = 0.0
    for i in 0..<k {
        let expected = Double(referenceCounts[i]) * scale
        let diff = Double(currentCounts[i]) - expected
        statistic += diff * diff / expected  // +inf when expected == 0 < observed
    }
    return ChiSquareResult(statistic: statistic, pvalue: chiSquaredSF(statistic, dof: Double(dof)), dof: dof)
}

/// Chi-squared test of independence on the 2×K table (reference row, current row), as
/// `scipy.stats.chi2_contingency(table, correction=True)`: Yates' continuity correction
/// only when dof = 1 (scipy/stats/contingency.py).
public func chiSquareContingency(referenceCounts: [Int], currentCounts: [Int]) -> ChiSquareResult {
    precondition(referenceCounts.count == currentCounts.count, "aligned category counts")
    // Categories seen on neither side carry no information (and would divide by zero).
    var ref: [Double] = []
    var cur: [Double] = []
    for i in referenceCounts.indices where referenceCounts[i] + currentCounts[i] > 0 {
        ref.append(Double(referenceCounts[i]))
        cur.append(Double(currentCounts[i]))
    }
    let k = ref.count
    let nRef = ref.reduce(0, +)
    let nCur = cur.reduce(0, +)
    let dof = max(k - 1, 0)
    guard dof > 0, nRef > 0, nCur > 0 else { return ChiSquareResult(statistic: 0, pvalue: 1, dof: dof) }
    let total = nRef + nCur
    var statistic = 0.0
    for i in 0..<k {
        let colSum = ref[i] + cur[i]
        for (observed, rowSum) in [(ref[i], nRef), (cur[i], nCur)] {
            let expected = rowSum * colSum / total
            var obs = observed
            if dof == 1 {
                let diff = expected - obs
                let magnitude = min(0.5, abs(diff))
                obs += diff > 0 ? magnitude : (diff < 0 ? -magnitude : 0)
            }
            let d = obs - expected
            statistic += d * d / expected
        }
    }
    return ChiSquareResult(statistic: statistic, pvalue: chiSquaredSF(statistic, dof: Double(dof)), dof: dof)
}
