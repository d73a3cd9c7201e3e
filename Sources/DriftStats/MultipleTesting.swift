// Multiple-testing corrections across the features of one window.

/// How p-values of one window's features are corrected for testing many features at once.
public enum FalseDiscoveryMethod: String, Sendable, Codable, CaseIterable {
    /// Benjamini & Hochberg (1995), valid under independence / positive dependence.
    case bh
    /// Benjamini & Yekutieli (2001), valid under arbitrary dependence.
    case by
}

/// Adjusted p-values as `scipy.stats.false_discovery_control(ps, method=…)`
/// (scipy/stats/_morestats.py): sort, p_(i)·m/i (the factor first), optional harmonic
/// factor for BY, cumulative minimum from the top, clip to [0, 1], original order.
public func falseDiscoveryControl(_ pvalues: [Double], method: FalseDiscoveryMethod = .bh) -> [Double] {
    let m = pvalues.count
    if m <= 1 { return pvalues }
    let order = pvalues.indices.sorted { (pvalues[$0], $0) < (pvalues[$1], $1) }
    var adjusted = [Double](repeating: 0, count: m)
    var harmonic = 1.0
    if method == .by {
        harmonic = 0
        for k in 1...m { harmonic += 1 / Double(k) }
    }
    for (rank, index) in order.enumerated() {
        var a = pvalues[index] * (Double(m) / Double(rank + 1))
        if method == .by { a *= harmonic }
        adjusted[rank] = a
    }
    if m >= 2 {
        for i in stride(from: m - 2, through: 0, by: -1) where adjusted[i + 1] < adjusted[i] {
            adjusted[i] = adjusted[i + 1]
        }
    }
    var result = [Double](repeating: 0, count: m)
    for (rank, index) in order.enumerated() {
        result[index] = min(max(adjusted[rank], 0), 1)
    }
    return result
}

/// Bonferroni: min(p·m, 1).
public func bonferroni(_ pvalues: [Double]) -> [Double] {
    let m = Double(pvalues.count)
    return pvalues.map { min($0 * m, 1) }
}
