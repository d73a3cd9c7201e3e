// Quantiles exactly as numpy's default (`method="linear"`, Hyndman & Fan type 7).
// Reference: numpy/lib/_function_base_impl.py, `_quantile` and `_lerp` (numpy 2.4).

/// numpy.quantile(x, q) for an ascending buffer of finite values; NaN when empty.
@inlinable
public func quantileSorted(_ sorted: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
    let n = sorted.count
    guard n > 0 else { return .nan }
    let virtualIndex = Double(n - 1) * q
    let below = virtualIndex.rounded(.down)
    let i = min(max(Int(below), 0), n - 1)
    let j = min(i + 1, n - 1)
    let gamma = virtualIndex - below
    let a = sorted[i]
    let b = sorted[j]
    // numpy's _lerp: two algebraically equal forms, chosen by gamma, differ in the last bit.
    let diff = b - a
    return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma
}

/// The percentiles driftwatch reports (p1 … p99), as numpy.percentile(x, p) with q = p/100.
public struct Percentiles: Sendable, Equatable, Codable {
    public static let levels: [Int] = [1, 5, 25, 50, 75, 95, 99]
    public var p1, p5, p25, p50, p75, p95, p99: Double

    public init(p1: Double, p5: Double, p25: Double, p50: Double, p75: Double, p95: Double, p99: Double) {
        (self.p1, self.p5, self.p25, self.p50, self.p75, self.p95, self.p99) = (p1, p5, p25, p50, p75, p95, p99)
    }

    public init(sorted: UnsafeBufferPointer<Double>) {
        func at(_ p: Int) -> Double { quantileSorted(sorted, Double(p) / 100) }
        self.init(p1: at(1), p5: at(5), p25: at(25), p50: at(50), p75: at(75), p95: at(95), p99: at(99))
    }

    public var values: [Double] { [p1, p5, p25, p50, p75, p95, p99] }
    public var iqr: Double { p75 - p25 }

    public subscript(level: Int) -> Double? {
        switch level {
        case 1: p1
        case 5: p5
        case 25: p25
        case 50: p50
        case 75: p75
        case 95: p95
        case 99: p99
        default: nil
        }
    }
}
