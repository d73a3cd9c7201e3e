// First Wasserstein distance between two 1-D empirical distributions.

/// W₁ = ∫ |F_a(x) − F_b(x)| dx over two ascending samples, summed over consecutive merged
/// points exactly as `scipy.stats.wasserstein_distance` (scipy/stats/_stats_py.py,
/// `_cdf_distance` with p = 1): one merge, no allocation.
public func wassersteinDistance(sorted a: UnsafeBufferPointer<Double>, sorted b: UnsafeBufferPointer<Double>) -> Double {
    let na = a.count
    let nb = b.count
    guard na > 0, nb > 0 else { return .nan }
    // Divide (not multiply by a reciprocal) so each CDF value is the float scipy computes.
    let dna = Double(na)
    let dnb = Double(nb)
    var i = 0
    var j = 0
    var total = 0.0
    // Take the smaller head (a first on ties); the term for the gap to the next merged
    // value uses the counts of values <= the current one.
    var current = a[0] <= b[0] ? a[0] : b[0]
    while true {
        while i < na && a[i] <= current { i &+= 1 }
        while j < nb && b[j] <= current { j &+= 1 }
        let next: Double
        if i < na {
            next = j < nb && b[j] < a[i] ? b[j] : a[i]
        } else if j < nb {
            next = b[j]
        } else {
            break
        }
        total += abs(Double(i) / dna - Double(j) / dnb) * (next - current)
        current = next
    }
    return total
}
