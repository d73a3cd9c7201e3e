// Summation and moments as numpy computes them, so means and standard deviations agree
// with numpy to the last bits rather than to ~n·ε.

/// numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src, `pairwise_sum`):
/// blocks of 8 partial sums below 128 elements, halving recursion above.
public func pairwiseSum(_ a: UnsafeBufferPointer<Double>) -> Double {
    let n = a.count
    if n < 8 {
        var res = 0.0
        for v in a { res += v }
        return res
    }
    if n <= 128 {
        var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3]
        var r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
        var i = 8
        while i < n - (n % 8) {
            r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
            r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
            i += 8
        }
        var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n {
            res += a[i]
            i += 1
        }
        return res
    }
    var half = n / 2
    half -= half % 8
    return pairwiseSum(UnsafeBufferPointer(rebasing: a[0..<half]))
        + pairwiseSum(UnsafeBufferPointer(rebasing: a[half..<n]))
}

/// Mean and population standard deviation as `np.mean(x)` and `np.std(x)` (two passes).
public func meanAndStd(_ a: UnsafeBufferPointer<Double>, ddof: Int = 0) -> (mean: Double, std: Double) {
    let n = a.count
    guard n > 0 else { return (.nan, .nan) }
    let mean = pairwiseSum(a) / Double(n)
    guard n > ddof else { return (mean, .nan) }
    var squares = [Double](repeating: 0, count: n)
    for i in 0..<n {
        let d = a[i] - mean
        squares[i] = d * d
    }
    let ss = squares.withUnsafeBufferPointer { pairwiseSum($0) }
    return (mean, (ss / Double(n - ddof)).squareRoot())
}

/// Descriptive summary of one numeric column (missing values given as nil), with numpy's
/// definitions: what `driftwatch` reports about a column's shape and completeness.
public struct ColumnDescription: Sendable, Equatable, Codable {
    public var countTotal: Int
    public var countMissing: Int
    public var missingShare: Double
    public var countNonMissing: Int
    public var distinctNonMissing: Int
    public var countZero: Int
    public var countNegative: Int
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var stdDdof0: Double?
    public var stdDdof1: Double?

    public init(values: [Double?]) {
        countTotal = values.count
        var present = values.compactMap { $0 }
        countNonMissing = present.count
        countMissing = countTotal - countNonMissing
        missingShare = countTotal == 0 ? 0 : Double(countMissing) / Double(countTotal)
        countZero = present.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        countNegative = present.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        let stats = present.withUnsafeBufferPointer { buf -> (Double, Double, Double) in
            let s0 = meanAndStd(buf, ddof: 0)
            let s1 = meanAndStd(buf, ddof: 1)
            return (s0.mean, s0.std, s1.std)
        }
        present.sort()
        distinctNonMissing = present.withUnsafeBufferPointer { distinctCount($0) }
        min = present.first
        max = present.last
        mean = countNonMissing > 0 ? stats.0 : nil
        stdDdof0 = countNonMissing > 0 ? stats.1 : nil
        stdDdof1 = countNonMissing > 1 ? stats.2 : nil
    }
}
