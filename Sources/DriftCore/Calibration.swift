import DriftStats
import Foundation

/// Where a feature's effect-size threshold comes from.
public enum ThresholdCalibration: String, ConfigurationEnum {
    /// `psi_threshold` (default 0.1) for every window size.
    case fixed
    /// Mean + k·σ of the metric over baseline chunks of the live window's size (NannyML's
    /// "standard deviation threshold" on reference chunks).
    case baselineChunks = "baseline_chunks"
}

/// One metric's spread over the baseline chunks and the threshold it gives.
public struct MetricSpread: Sendable, Codable, Equatable {
    /// Mean and population σ of the metric over the chunks, on its own scale.
    public var mean: Double
    public var std: Double
    /// mean + k·σ on the cube-root scale, mapped back (see BaselineCalibration).
    public var threshold: Double
}

/// A feature's calibrated thresholds for windows of one size.
public struct FeatureCalibration: Sendable, Equatable {
    /// Usable values per chunk: the window's rows × the baseline's usable share of this feature.
    public var chunkValues: Int
    /// Chunks compared (0 when unavailable).
    public var chunks: Int = 0
    public var psi: MetricSpread?
    public var ksStatistic: MetricSpread?
    public var js: MetricSpread?
    public var wassersteinNormed: MetricSpread?
    /// Why this feature has no calibrated thresholds (its baseline is too small), nil when it has.
    public var unavailable: String?
}

/// Thresholds calibrated on the baseline for windows of `windowRows` rows.
///
/// Each chunk is a random sample, without replacement, of the baseline's usable values of the
/// window's size (seeded, so every replay of a window gets the same thresholds); it is compared
/// with the whole prepared baseline exactly as a live window is, and each metric's mean and
/// population σ over the chunks give the threshold mean + k·σ — NannyML's reference-chunk
/// thresholds (`StandardDeviationThreshold`, std_lower/upper_multiplier = 3) — taken on the
/// cube-root scale: t = PSI^(1/3), (JS distance²)^(1/3) (the divergence), KS D^(1/3),
/// Wasserstein^(1/3), threshold = (mean(t) + k·σ(t))³. PSI and the JS divergence are χ²-like
/// under no drift, and a χ²'s cube root is close to normal (Wilson & Hilferty 1931), so k = 3
/// keeps its normal meaning: on the raw scale mean + 3σ of χ²₅ is exceeded 1.3 % of the time, on
/// the cube-root scale 0.13 %; for the Kolmogorov distribution (KS D) 0.87 % and 0.25 %
/// (10⁶ draws, scipy). Measured with `driftwatch bench detection`: on the raw scale the
/// calibrated detector confirmed false episodes in 1.6 % of clean runs.
///
/// Correction for overlap: a chunk S of m values is part of the baseline B (N values) it is
/// compared with, so its ECDF difference is smaller than a live window's. Exactly,
/// F_S − F_B = (1 − m/N)(F_S − F_R) with R = B ∖ S (and the same for bin shares), so KS D and
/// Wasserstein (linear in that difference) are scaled by N/(N − m), which gives exactly the
/// statistic of S against the rest of the baseline, an independent sample; JS distance (to first
/// order linear) by the same factor and PSI (to first order quadratic) by its square. NannyML
/// leaves this out; with m = N/10 it would set the KS threshold ~10 % too low.
///
/// Chunks: 200 (consecutive ones disjoint until the baseline is used up, then drawn again, each
/// still a valid sample): σ from few chunks is too noisy for a 3σ threshold (its relative error is
/// about 1/√(2·chunks): 16 % with 20). Large windows get fewer, so that a feature's chunks hold at
/// most 5M values (at least 20 chunks): 50 for windows of 100k rows. A feature whose baseline holds fewer than 2m usable values gets no
/// calibration (the chunks would be most of the baseline) and keeps the fixed threshold, with
/// the reason reported.
public struct BaselineCalibration: Sendable, Equatable {
    public var windowRows: Int
    public var k: Double
    public var features: [String: FeatureCalibration]

    static let minChunks = 20
    static let maxChunks = 200
    static let maxValuesPerFeature = 5_000_000

    public init(baseline: BaselineProfile, windowRows: Int, config: DetectorConfig, seed: UInt64 = 0xCA11_B4A7E) {
        let rows = Swift.max(windowRows, 1)
        self.windowRows = rows
        self.k = config.calibrationK
        let k = config.calibrationK
        let features = baseline.features
        let calibrated = concurrentMap(features.count) { i -> FeatureCalibration in
            var g = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: rows) &* 0x9E37_79B9 &+ UInt64(i))
            return calibrate(features[i], windowRows: rows, k: k, config: config, generator: &g)
        }
        var byName: [String: FeatureCalibration] = [:]
        for (f, c) in zip(features, calibrated) { byName[f.name] = c }
        self.features = byName
    }

    static func chunkCount(chunk m: Int) -> Int {
        Swift.min(Swift.max(maxValuesPerFeature / Swift.max(m, 1), minChunks), maxChunks)
    }
}

private func calibrate(_ base: FeatureBaseline, windowRows: Int, k: Double, config: DetectorConfig,
                       generator g: inout SeededGenerator) -> FeatureCalibration {
    let usable = base.quality.usable
    let total = Swift.max(base.quality.total, 1)
    let m = Swift.max(1, Int((Double(windowRows) * Double(usable) / Double(total)).rounded()))
    var result = FeatureCalibration(chunkValues: m)
    let population = base.numeric?.count ?? base.categorical?.total ?? 0
    guard population >= 2 * m else {
        result.unavailable = "baseline has \(population) usable values, fewer than twice a window's \(m): fixed thresholds"
        return result
    }
    let chunks = BaselineCalibration.chunkCount(chunk: m)
    let linear = Double(population) / Double(population - m)
    var sampler = ChunkSampler(population: population)
    var psi: [Double] = [], ks: [Double] = [], js: [Double] = [], wasserstein: [Double] = []

    if let reference = base.numeric {
        var chunk = [Double](repeating: 0, count: m)
        for _ in 0..<chunks {
            let picked = sampler.next(m, &g)
            // Sorted positions into the sorted baseline give the chunk already sorted.
            var positions = picked.map { Double($0) }
            radixSort(&positions)
            for (j, p) in positions.enumerated() { chunk[j] = reference.sorted[Int(p)] }
            let c = chunk.withUnsafeBufferPointer { compareNumeric(reference, sortedWindow: $0, options: config.numericOptions) }
            guard let c else { continue }
            psi.append(c.psi * linear * linear)
            ks.append(c.ks.statistic * linear)
            js.append(c.jensenShannon * linear)
            wasserstein.append(c.wassersteinNormed * linear)
        }
    } else if let reference = base.categorical {
        // Category of each baseline value, categories in a fixed order so the sample is reproducible.
        let categories = reference.counts.keys.sorted()
        var codes = [Int32](repeating: 0, count: population)
        var at = 0
        for (c, name) in categories.enumerated() {
            let n = reference.counts[name] ?? 0
            for j in at..<(at + n) { codes[j] = Int32(c) }
            at += n
        }
        var tally = [Int](repeating: 0, count: categories.count)
        for _ in 0..<chunks {
            for j in tally.indices { tally[j] = 0 }
            for p in sampler.next(m, &g) { tally[Int(codes[p])] += 1 }
            var counts: [String: Int] = [:]
            for (c, n) in tally.enumerated() where n > 0 { counts[categories[c]] = n }
            guard let c = compareCategorical(reference, currentCounts: counts, options: config.categoricalOptions) else { continue }
            psi.append(c.psi * linear * linear)
            js.append(c.jensenShannon * linear)
        }
    }
    result.psi = spread(psi, k: k, power: 1.0 / 3)
    result.ksStatistic = spread(ks, k: k, power: 1.0 / 3)
    result.js = spread(js, k: k, power: 2.0 / 3)
    result.wassersteinNormed = spread(wasserstein, k: k, power: 1.0 / 3)
    result.chunks = psi.count
    if result.psi == nil { result.unavailable = "no chunk could be compared: fixed thresholds" }
    return result
}

/// Mean and population σ of the finite values, and the threshold mean + k·σ on the scale
/// x^power, mapped back; nil when there are none.
private func spread(_ values: [Double], k: Double, power: Double) -> MetricSpread? {
    let finite = values.filter { $0.isFinite && $0 >= 0 }
    guard !finite.isEmpty else { return nil }
    let (mean, std) = finite.withUnsafeBufferPointer { meanAndStd($0) }
    let scaled = finite.map { pow($0, power) }
    let (scaledMean, scaledStd) = scaled.withUnsafeBufferPointer { meanAndStd($0) }
    return MetricSpread(mean: mean, std: std, threshold: pow(scaledMean + k * scaledStd, 1 / power))
}

/// Samples without replacement from 0..<population: a partial Fisher–Yates shuffle whose
/// consecutive slices are disjoint samples; when the slices run out, the shuffle starts over on
/// the already-permuted indices (each new slice is again a uniform sample).
private struct ChunkSampler {
    var permutation: [Int]
    var position = 0

    init(population: Int) { permutation = Array(0..<population) }

    mutating func next(_ m: Int, _ g: inout SeededGenerator) -> ArraySlice<Int> {
        let n = permutation.count
        if position + m > n { position = 0 }
        for i in position..<(position + m) {
            let j = i + Int(g.next() % UInt64(n - i))
            permutation.swapAt(i, j)
        }
        defer { position += m }
        return permutation[position..<(position + m)]
    }
}
