#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Binning and the distances defined on bins (PSI, Jensen–Shannon).
//
// Everything here works on *sorted* samples: counting a bin is two binary searches, so a
// window of any size is binned in O(bins · log n) once it is sorted.

/// How numeric features are binned for PSI and Jensen–Shannon.
public enum BinningPreset: String, Sendable, Codable, CaseIterable {
    /// `bins` baseline-quantile bins (numpy linear quantiles k/bins, duplicate cut points
    /// removed, open-ended outer bins); PSI clips shares at epsilon, natural log.
    case quantile
    /// Evidently 0.7: Sturges bins over baseline ∪ current when the baseline has more than 20
    /// distinct values, value counts otherwise; Evidently's zero-fill rule for PSI.
    case evidently
    /// NannyML: Doane bins over the baseline plus a leftover bin for current values outside
    /// the baseline range; Jensen–Shannon in base 2.
    case nannyml
}

/// Counts of a sorted sample in the bins (−∞, c₁], (c₁, c₂], …, (c_m, +∞): the bin of x is the
/// number of cut points strictly below x (numpy `searchsorted(cuts, x, side="left")`).
public func countsInRightClosedBins(_ sorted: UnsafeBufferPointer<Double>, cuts: [Double]) -> [Int] {
    var counts = [Int](repeating: 0, count: cuts.count + 1)
    var previous = 0
    for (j, cut) in cuts.enumerated() {
        let atOrBelow = upperBound(sorted, cut)
        counts[j] = atOrBelow - previous
        previous = atOrBelow
    }
    counts[cuts.count] = sorted.count - previous
    return counts
}

/// `numpy.histogram(x, bins=edges)[0]` for a sorted sample: [e_i, e_{i+1}) and the last bin
/// closed; values outside [e_0, e_k] are not counted.
public func histogramCounts(_ sorted: UnsafeBufferPointer<Double>, edges: [Double]) -> [Int] {
    guard edges.count >= 2 else { return [] }
    var positions = [Int](repeating: 0, count: edges.count)
    for i in 0..<(edges.count - 1) { positions[i] = lowerBound(sorted, edges[i]) }
    positions[edges.count - 1] = upperBound(sorted, edges[edges.count - 1])
    return (0..<(edges.count - 1)).map { positions[$0 + 1] - positions[$0] }
}

/// `numpy.linspace(lo, hi, k + 1)`: lo + i·step with the last edge exactly `hi`.
public func linspaceEdges(_ lo: Double, _ hi: Double, bins k: Int) -> [Double] {
    precondition(k >= 1)
    let step = (hi - lo) / Double(k)
    var edges = [Double](repeating: 0, count: k + 1)
    for i in 0...k {
        edges[i] = step == 0 ? Double(i) / Double(k) * (hi - lo) + lo : Double(i) * step + lo
    }
    edges[k] = hi
    return edges
}

/// Edges from a bin width as numpy `_get_bin_edges` does for string bin rules: equal
/// bins of count ceil(range / width), one bin when the width is 0; a degenerate range is
/// widened by ±0.5.
private func equalWidthEdges(lo: Double, hi: Double, width: Double) -> [Double] {
    var first = lo
    var last = hi
    if first == last {
        first -= 0.5
        last += 0.5
    }
    var bins = 1
    if width != 0 && width.isFinite {
        bins = max(Int((( last - first) / width).rounded(.up)), 1)
    }
    return linspaceEdges(first, last, bins: bins)
}

/// `numpy.histogram_bin_edges(data, bins="sturges")` for data with `count` values spanning
/// [lo, hi]: width = range / (log2(n) + 1).
public func sturgesEdges(lo: Double, hi: Double, count: Int) -> [Double] {
    let width = (hi - lo) / (log2(Double(count)) + 1)
    return equalWidthEdges(lo: lo, hi: hi, width: width)
}

/// `numpy.histogram_bin_edges(data, bins="doane")` (Doane 1976, via numpy's
/// `_hist_bin_doane`): width = range / (1 + log2 n + log2(1 + |g1|/σ_g1)).
public func doaneEdges(sorted: UnsafeBufferPointer<Double>, mean: Double, stdPop: Double) -> [Double] {
    let n = sorted.count
    guard n > 0, let lo = sorted.first, let hi = sorted.last else { return [] }
    var width = 0.0
    if n > 2 && stdPop > 0 {
        let sg1 = (6.0 * Double(n - 2) / ((Double(n) + 1.0) * (Double(n) + 3))).squareRoot()
        var skewSum = 0.0
        for v in sorted {
            let z = (v - mean) / stdPop
            skewSum += z * z * z
        }
        let g1 = skewSum / Double(n)
        width = (hi - lo) / (1.0 + log2(Double(n)) + log2(1.0 + abs(g1) / sg1))
    }
    return equalWidthEdges(lo: lo, hi: hi, width: width)
}

/// Shares of each bin: count / total (total includes values no bin holds).
@inlinable
public func shares(_ counts: [Int], total: Int) -> [Double] {
    let n = Double(total)
    return counts.map { Double($0) / n }
}

/// Population Stability Index with the common epsilon clip:
/// Σ (c′ − r′)·ln(c′ / r′), r′ = max(r, ε), c′ = max(c, ε), no renormalisation
/// (Siddiqi 2006, *Credit Risk Scorecards*; the clip as in most production monitors).
public func populationStabilityIndex(reference: [Double], current: [Double], epsilon: Double = 1e-4) -> Double {
    var psi = 0.0
    for i in reference.indices {
        let r = max(reference[i], epsilon)
        let c = max(current[i], epsilon)
        psi += (c - r) * log(c / r)
    }
    return psi
}

/// Evidently's zero fill (evidently/legacy/calculations/stattests/utils.py): zeros on one
/// side become min(non-zero)/10⁶ if that minimum is ≤ 1e-4, else 1e-4.
public func evidentlyZeroFill(_ fractions: [Double]) -> (filled: [Double], fill: Double?) {
    guard fractions.contains(0) else { return (fractions, nil) }
    let smallest = fractions.filter { $0 != 0 }.min() ?? 0
    let fill = smallest <= 0.0001 ? smallest / 1_000_000 : 0.0001
    return (fractions.map { $0 == 0 ? fill : $0 }, fill)
}

/// Evidently's PSI: Σ (r − c)·ln(r / c) over zero-filled shares (evidently …/psi.py).
public func evidentlyPSI(reference: [Double], current: [Double]) -> Double {
    let r = evidentlyZeroFill(reference).filled
    let c = evidentlyZeroFill(current).filled
    var psi = 0.0
    for i in r.indices { psi += (r[i] - c[i]) * log(r[i] / c[i]) }
    return psi
}

/// Jensen–Shannon *distance* (square root of the divergence, Lin 1991), as
/// `scipy.spatial.distance.jensenshannon(p, q, base)`: both vectors normalised to sum 1,
/// m = (p+q)/2, sqrt((KL(p‖m) + KL(q‖m)) / 2); natural log unless `base` is given.
public func jensenShannonDistance(_ p: [Double], _ q: [Double], base: Double? = nil) -> Double {
    let sp = p.reduce(0, +)
    let sq = q.reduce(0, +)
    guard sp > 0, sq > 0 else { return .nan }
    var left = 0.0
    var right = 0.0
    for i in p.indices {
        let pi = p[i] / sp
        let qi = q[i] / sq
        let m = (pi + qi) / 2
        if pi > 0 { left += pi * log(pi / m) }
        if qi > 0 { right += qi * log(qi / m) }
    }
    var js = left + right
    if let base { js /= log(base) }
    return max(js / 2, 0).squareRoot()
}

/// Distinct values of two sorted samples with their counts on each side (Evidently's
/// value-count branch; keys ascending).
public func valueCounts(
    _ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>
) -> (keys: [Double], countsA: [Int], countsB: [Int]) {
    var keys: [Double] = []
    var ca: [Int] = []
    var cb: [Int] = []
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
        let key: Double
        if j >= b.count || (i < a.count && a[i] <= b[j]) { key = a[i] } else { key = b[j] }
        var na = 0
        while i < a.count && a[i] == key { na += 1; i += 1 }
        var nb = 0
        while j < b.count && b[j] == key { nb += 1; j += 1 }
        keys.append(key)
        ca.append(na)
        cb.append(nb)
    }
    return (keys, ca, cb)
}
