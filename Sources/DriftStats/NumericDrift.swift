// A numeric feature's baseline, prepared once, and its comparison with one window.

/// Everything about a baseline column that window comparisons need, computed once:
/// the sorted finite values, moments, percentiles and the bins of each preset.
public struct NumericReference: Sendable {
    /// Finite baseline values, ascending.
    public let sorted: [Double]
    public let mean: Double
    public let stdPop: Double
    public let percentiles: Percentiles
    /// Quantile-bin cut points (distinct, ascending) and baseline counts in those bins.
    public let quantileBins: Int
    public let quantileCuts: [Double]
    public let quantileCounts: [Int]
    /// Distinct baseline values, counted up to 21 (Evidently only asks "more than 20?").
    public let distinctUpTo21: Int
    /// Doane edges over the baseline and its counts (NannyML preset).
    public let doaneEdges: [Double]
    public let doaneCounts: [Int]

    public var count: Int { sorted.count }
    public var min: Double? { sorted.first }
    public var max: Double? { sorted.last }

    /// - Parameter values: the finite baseline values, any order (consumed).
    public init(values: [Double], quantileBins: Int = 10) {
        var values = values
        radixSort(&values)
        self.init(sorted: values, quantileBins: quantileBins)
    }

    /// - Parameter sorted: finite values already in ascending order.
    public init(sorted: [Double], quantileBins: Int = 10) {
        precondition(quantileBins >= 2, "at least two quantile bins")
        self.sorted = sorted
        self.quantileBins = quantileBins
        var cuts: [Double] = []
        var counts: [Int] = []
        var doane: [Double] = []
        var doaneCounts: [Int] = []
        var moments = (mean: Double.nan, std: Double.nan)
        var percentiles = Percentiles(p1: .nan, p5: .nan, p25: .nan, p50: .nan, p75: .nan, p95: .nan, p99: .nan)
        var distinct = 0
        sorted.withUnsafeBufferPointer { buf in
            guard !buf.isEmpty else { return }
            moments = meanAndStd(buf)
            percentiles = Percentiles(sorted: buf)
            for k in 1..<quantileBins {
                let cut = quantileSorted(buf, Double(k) / Double(quantileBins))
                if cuts.last != cut { cuts.append(cut) }
            }
            counts = countsInRightClosedBins(buf, cuts: cuts)
            distinct = distinctCount(buf, cap: 21)
            doane = DriftStats.doaneEdges(sorted: buf, mean: moments.mean, stdPop: moments.std)
            doaneCounts = histogramCounts(buf, edges: doane)
        }
        self.mean = moments.mean
        self.stdPop = moments.std
        self.percentiles = percentiles
        self.quantileCuts = cuts
        self.quantileCounts = counts
        self.distinctUpTo21 = distinct
        self.doaneEdges = doane
        self.doaneCounts = doaneCounts
    }
}

/// How a numeric feature is compared: binning preset, PSI epsilon, JS base, KS method.
public struct NumericComparisonOptions: Sendable, Equatable {
    public var binning: BinningPreset = .quantile
    public var psiEpsilon: Double = 1e-4
    /// Log base of Jensen–Shannon; nil = natural log. The NannyML preset always uses 2.
    public var jsBase: Double? = nil
    public var ksMethod: KSMethod = .auto
    public var ksAlternative: KSAlternative = .twoSided
    /// Floor of the baseline std when normalising Wasserstein (Evidently: 0.001).
    public var wassersteinStdFloor: Double = 0.001

    public init() {}
}

/// Bins both samples were counted in, for reports and plots.
public struct BinnedShares: Sendable, Equatable, Codable {
    /// "quantile", "sturges_histogram", "value_counts" or "doane_leftover".
    public var kind: String
    /// Edges (histogram kinds), cut points (quantile) or keys (value counts).
    public var boundaries: [Double]
    public var reference: [Double]
    public var current: [Double]
    /// Category names of the `categories` kind, in bin order.
    public var labels: [String]?

    public init(kind: String, boundaries: [Double], reference: [Double], current: [Double], labels: [String]? = nil) {
        self.kind = kind
        self.boundaries = boundaries
        self.reference = reference
        self.current = current
        self.labels = labels
    }
}

/// A numeric feature's window against its baseline: KS, PSI, JS, Wasserstein and percentiles.
public struct NumericComparison: Sendable, Equatable {
    public var ks: KSResult
    public var psi: Double
    public var jensenShannon: Double
    public var wasserstein: Double
    public var wassersteinNormed: Double
    public var currentPercentiles: Percentiles
    /// Current values below the baseline minimum or above its maximum.
    public var outOfRangeCount: Int
    public var bins: BinnedShares
}

/// Compares one window column (sorted, finite) with a prepared baseline: one galloping pass
/// for KS and Wasserstein (`mergedECDF`), O(bins · log n) for everything binned.
public func compareNumeric(
    _ reference: NumericReference,
    sortedWindow window: UnsafeBufferPointer<Double>,
    options: NumericComparisonOptions = NumericComparisonOptions()
) -> NumericComparison? {
    guard !window.isEmpty, reference.count > 0 else { return nil }
    return reference.sorted.withUnsafeBufferPointer { ref -> NumericComparison in
        let nRef = ref.count
        let nCur = window.count
        let merged = mergedECDF(baseline: ref, window: window)
        let ks = ksTest(merged.ks, n1: nRef, n2: nCur, alternative: options.ksAlternative, method: options.ksMethod)
        let w1 = merged.wasserstein
        let norm = Swift.max(reference.stdPop, options.wassersteinStdFloor)

        let bins: BinnedShares
        let psi: Double
        let js: Double
        switch options.binning {
        case .quantile:
            let cur = countsInRightClosedBins(window, cuts: reference.quantileCuts)
            let r = shares(reference.quantileCounts, total: nRef)
            let c = shares(cur, total: nCur)
            bins = BinnedShares(kind: "quantile", boundaries: reference.quantileCuts, reference: r, current: c)
            psi = populationStabilityIndex(reference: r, current: c, epsilon: options.psiEpsilon)
            js = jensenShannonDistance(r, c, base: options.jsBase)
        case .evidently:
            if reference.distinctUpTo21 > 20 {
                // Sturges over baseline ∪ current (Evidently get_binned_data).
                let lo = Swift.min(ref[0], window[0])
                let hi = Swift.max(ref[nRef - 1], window[nCur - 1])
                let edges = sturgesEdges(lo: lo, hi: hi, count: nRef + nCur)
                let r = shares(histogramCounts(ref, edges: edges), total: nRef)
                let c = shares(histogramCounts(window, edges: edges), total: nCur)
                bins = BinnedShares(kind: "sturges_histogram", boundaries: edges, reference: r, current: c)
            } else {
                let vc = valueCounts(ref, window)
                bins = BinnedShares(kind: "value_counts", boundaries: vc.keys,
                                    reference: shares(vc.countsA, total: nRef),
                                    current: shares(vc.countsB, total: nCur))
            }
            psi = evidentlyPSI(reference: bins.reference, current: bins.current)
            js = jensenShannonDistance(bins.reference, bins.current, base: options.jsBase)
        case .nannyml:
            let edges = reference.doaneEdges
            var r = shares(reference.doaneCounts, total: nRef)
            let curCounts = histogramCounts(window, edges: edges)
            var c = shares(curCounts, total: nCur)
            // Leftover bin: current values outside the baseline's range (NannyML).
            r.append(0)
            c.append(Double(nCur - curCounts.reduce(0, +)) / Double(nCur))
            bins = BinnedShares(kind: "doane_leftover", boundaries: edges, reference: r, current: c)
            psi = populationStabilityIndex(reference: r, current: c, epsilon: options.psiEpsilon)
            js = jensenShannonDistance(r, c, base: 2)
        }
        let below = lowerBound(window, ref[0])
        let above = nCur - upperBound(window, ref[nRef - 1])
        return NumericComparison(
            ks: ks, psi: psi, jensenShannon: js, wasserstein: w1, wassersteinNormed: w1 / norm,
            currentPercentiles: Percentiles(sorted: window), outOfRangeCount: below + above, bins: bins)
    }
}
