import DriftCore
import DriftStats
#if canImport(Glibc)
import Glibc
#endif

/// How one synthetic numeric feature is distributed, and how a drifted window moves it.
public struct SyntheticFeature: Sendable {
    /// The distribution family of the feature.
    public enum Shape: Sendable { case normal, lognormal, uniform, exponential }
    public var name: String
    public var shape: Shape
    public var location: Double
    public var scale: Double
    /// Share of values left empty (missing).
    public var missingShare: Double

    public init(name: String, shape: Shape, location: Double, scale: Double, missingShare: Double = 0) {
        self.name = name
        self.shape = shape
        self.location = location
        self.scale = scale
        self.missingShare = missingShare
    }

    /// One draw, rounded to 4 decimals so CSV text round-trips to the same double.
    public func draw(_ g: inout SeededGenerator, shift: Double = 0, scaleFactor: Double = 1) -> Double {
        let z: Double
        switch shape {
        case .normal: z = g.normal()
        case .lognormal: z = exp(0.5 * g.normal())
        case .uniform: z = g.uniform() * 3.4641016151377544 - 1.7320508075688772
        case .exponential: z = -log(g.uniform())
        }
        let x = location + scale * (shift + z * scaleFactor)
        return (x * 10_000).rounded() / 10_000
    }
}

/// The benchmark's data set: `features` numeric columns of mixed shapes; in the window,
/// every fifth feature is shifted by 0.25σ and every seventh scaled by 1.3.
public struct SyntheticDataSet: Sendable {
    public var features: [SyntheticFeature]

    public init(featureCount: Int) {
        let shapes: [SyntheticFeature.Shape] = [.normal, .lognormal, .uniform, .exponential]
        features = (0..<featureCount).map { i in
            let name = i < 10 ? "f0\(i)" : "f\(i)"
            return SyntheticFeature(name: name, shape: shapes[i % shapes.count],
                                    location: Double(i * 10), scale: 1 + Double(i % 5),
                                    missingShare: i % 10 == 3 ? 0.001 : 0)
        }
    }

    public func shift(of feature: Int) -> (shift: Double, scale: Double) {
        (feature % 5 == 0 ? 0.25 : 0, feature % 7 == 0 ? 1.3 : 1)
    }

    /// Column `feature` with `rows` values (NaN = missing); deterministic per (seed, feature).
    public func column(_ feature: Int, rows: Int, seed: UInt64, drifted: Bool) -> [Double] {
        var g = SeededGenerator(seed: seed &+ UInt64(feature) &* 1_000_003)
        let f = features[feature]
        let (shift, scale) = drifted ? self.shift(of: feature) : (0, 1)
        var out = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            if f.missingShare > 0 && g.uniform() < f.missingShare {
                out[r] = .nan
            } else {
                out[r] = f.draw(&g, shift: shift, scaleFactor: scale)
            }
        }
        return out
    }

    /// A table of numeric columns (features generated in parallel).
    public func table(rows: Int, seed: UInt64, drifted: Bool, source: String) -> Table {
        let columns = concurrentMap(features.count) { i -> Column in
            let values = column(i, rows: rows, seed: seed, drifted: drifted)
            var q = QualityCounts()
            q.total = rows
            q.missing = values.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
            return .numeric(NumericColumn(name: features[i].name, values: values, quality: q))
        }
        return Table(source: source, rows: rows, columns: columns)
    }
}
