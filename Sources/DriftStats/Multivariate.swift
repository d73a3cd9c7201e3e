import CLAPACK

// Multivariate drift by PCA data reconstruction, as NannyML's DataReconstructionDriftCalculator
// (NannyML docs, "How it works → Data Reconstruction with PCA"; nannyml/drift/multivariate/
// data_reconstruction/calculator.py). Univariate tests look at one marginal at a time and cannot see a
// change in how features move together (a correlation flipping from +0.9 to −0.9 leaves every marginal
// unchanged); the reconstruction error can:
//
//   fit (baseline):  impute missing values with the column mean → standardise (mean, population std) →
//                    PCA keeping the fewest principal axes whose cumulative explained-variance share is
//                    ≥ `varianceShare` (NannyML passes n_components=0.65 to sklearn's PCA) → mean
//                    reconstruction error of baseline chunks → thresholds mean ± 3σ of those chunk errors
//                    (by default the axes are fitted on half the baseline and the chunks drawn from the
//                    other half: see `init`).
//   score (window):  the same imputation and standardisation with the baseline's values, z ↦ z·V·Vᵀ, and
//                    the mean over rows of ‖z − z·V·Vᵀ‖₂. Rows that follow the baseline's correlation
//                    structure lie close to the kept subspace; rows that break it do not.
//
// Categorical features: NannyML imputes them with the most frequent value and then frequency-encodes them
// (category_encoders CountEncoder(normalize=True): each category becomes its share of the baseline rows).
// This file only sees Double columns, so the caller encodes categoricals first, with an encoding computed
// from the baseline and applied unchanged to every window: `FrequencyEncoding` below does that.
//
// Numerics. The covariance (a correlation matrix, since the columns are standardised) is accumulated block
// by block with BLAS `dsyrk` (C += Zbᵀ·Zb over blocks of rows, so a 1M-row baseline never needs an n×d
// copy), and decomposed with LAPACK `dsyevr` (all eigenpairs, MRRR; LAPACK Users' Guide / dsyevr.f). The
// module map links lapacke, lapack and blas; `dsyevr` goes through LAPACKE's `LAPACKE_dsyevr_work` in
// column-major layout (no transposed copies) with the documented workspace query (lwork = liwork = −1).
// Debian's OpenBLAS has no LAPACKE symbols, so liblapacke forwards to whichever liblapack the Debian
// alternatives select (OpenBLAS or the reference netlib library); both give the same results to rounding.
// Scoring is two `dgemm` per block of rows: P = Zb·V, then Zb ← Zb − P·Vᵀ in place, then row norms.
//
// Measured on a 2-core x86-64 machine (synthetic 5-factor data, 1 % missing; min of 5–7 runs), with
// Debian's OpenBLAS 0.3.21 (pthread) — the backend the README's install line selects — and, forced through
// LD_LIBRARY_PATH, the reference netlib BLAS/LAPACK 3.11:
//   covariance kernel, 200k×30, release:  dsyrk 10.1 ms vs 26.3 ms for a cache-friendly scalar loop over
//                                         row-major blocks (upper triangle); 100k×200: 78 vs 430 ms.
//                                         Reference BLAS: dsyrk 75 ms vs the loop's 26 ms (1.46 s vs 0.43 s
//                                         at 100k×200) — slower, but that backend is a fallback.
//   fit 200k×30:    48 ms release, 378 ms debug (reference BLAS: 128 ms, 469 ms)
//   score 100k×30:  6.6 ms release, 38 ms debug (reference BLAS: 13.7 ms, 46 ms)
// So dsyrk it is. The two backends agree to rounding: the same tests pass on both, and the bench's mean
// errors differ by 4e-16.
//
// Differences from NannyML/sklearn, all deliberate:
// - k is the smallest number of axes with cumulative share ≥ varianceShare; sklearn's PCA takes the first
//   with share strictly > n_components (searchsorted side="right"). They differ only on an exact tie.
// - Baseline chunks come from a deterministically shuffled baseline (the baseline may be ordered, e.g. by
//   time, and then its consecutive chunks would not be exchangeable with a live window), the trailing
//   incomplete chunk is dropped (NannyML's SizeBasedChunker keeps it by default; a shorter chunk's mean
//   has a larger variance and would widen the band).
// - NannyML computes the thresholds as np.nanmean ± 3·np.nanstd (ddof 0) of the reference chunk errors and
//   drops a lower threshold ≤ 0 (lower_threshold_value_limit = 0); we clamp it to 0, which flags the same
//   windows since an error is never negative. NannyML alerts when not (lower < e < upper); we alert when e
//   is outside [lower, upper]: the two differ only when e equals a threshold exactly.
// - Non-finite values (NaN and ±∞) are missing. A baseline column with no finite value gets mean 0, std 1.

// MARK: - Model

/// Fitted on the baseline's numeric columns (categoricals are encoded by the caller as frequency-encoded
/// numeric columns, see `FrequencyEncoding`; this type only sees Double columns).
public struct ReconstructionModel: Sendable, Codable, Equatable {
    /// Which baseline rows the threshold band is measured on (see `init`).
    public enum BandRows: String, Sendable, Codable, CaseIterable {
        /// Axes fitted on a random half of the baseline, the band measured on the other half.
        case heldOut = "held_out"
        /// Axes fitted and band measured on every row (NannyML; optimistic for wide models).
        case inSample = "in_sample"
    }

    public var featureNames: [String]
    /// Imputation value and centring: the mean of the column's finite baseline values.
    public var means: [Double]
    /// Standardisation: population std of the imputed column (sklearn StandardScaler after SimpleImputer);
    /// a constant column gets std 1 and contributes 0.
    public var stds: [Double]
    /// k principal axes (each of length d, unit norm) in the standardised space, by decreasing explained
    /// variance; each is signed so that its largest-magnitude entry is positive (sklearn ≥ 1.5 svd_flip on
    /// components_), so a model is reproducible whatever sign LAPACK returned.
    public var components: [[Double]]
    /// Cumulative explained-variance share of the kept axes (≥ the requested share).
    public var explainedVarianceShare: Double
    /// Mean and standard deviation of the mean reconstruction error over baseline chunks of `chunkSize` rows,
    /// and the threshold band mean ± 3σ (NannyML: lower/upper thresholds).
    public var chunkSize: Int
    /// Chunks drawn for the band: at least this many (later passes reshuffle the rows).
    static let minimumChunks = 200
    public var chunkErrorMean: Double
    public var chunkErrorStd: Double
    public var lowerThreshold: Double
    public var upperThreshold: Double

    /// columns: d columns of equal length n (row i = columns[j][i]); NaN = missing → imputed with the column
    /// mean. varianceShare default 0.65 (NannyML's default n_components). chunkSize: the live window's size
    /// (rows).
    ///
    /// Held-out band (`band: .heldOut`, the default): a row's error under axes fitted on that same row is
    /// optimistic — the fitted subspace follows the baseline's own sampling noise (sample eigenvalues spread
    /// by ≈ ±2√(d/n), Marchenko & Pastur 1967) — so live windows, which the fit never saw, score higher than
    /// in-sample chunks, by an amount that grows with d·k/n: with 36 features and a 50,000-row baseline,
    /// 3.9 % of clean 1000-row windows left an in-sample band (0.5 % with a 200,000-row baseline;
    /// `driftwatch bench detection`). So the baseline is split at random (a fixed seed) into halves: the axes
    /// are fitted on one, the chunks' errors measured on the other, rows the model never saw — the band then
    /// describes exactly the model that scores the windows. (Cross-fitting, which refits the axes per fold
    /// and keeps the full fit for scoring, fails when eigenvalues are near-tied: each fold keeps other axes
    /// than the full fit, and its errors describe another model — on the 5-feature bench model that put the
    /// band below the windows' errors, 5 % flagged.) The means and scales come from all rows. `.inSample`
    /// fits and measures on every row, as NannyML does (the golden tests against sklearn use it).
    ///
    /// Baseline chunks: the rows are shuffled deterministically (splitmix64 seeded with `seed`, Fisher–Yates;
    /// the baseline may be ordered) and cut into consecutive non-overlapping chunks of `chunkSize` rows, the
    /// incomplete remainder dropped; the shuffle is repeated until there are at least 200 chunks (NannyML uses
    /// the ⌊n/chunkSize⌋ chunks of one pass, whose σ is too noisy for a 3σ band when they are few). When n < 2·chunkSize there would be fewer than 2 chunks, so chunks of
    /// ⌊n/4⌋ rows are used instead (⌊n/⌊n/4⌋⌋ ≥ 4 of them); the mean of a smaller chunk varies more, so the
    /// band is then wider (more conservative) than a window of `chunkSize` rows would warrant — record a
    /// larger baseline to fix that.
    ///
    /// Returns nil when d < 2 or n < 10, and also when the shapes disagree (featureNames.count ≠ d, columns of
    /// different lengths), chunkSize < 1, varianceShare is NaN, every column is constant (no variance to
    /// model), or LAPACK reports a failure. varianceShare is clamped to [0, 1].
    public init?(featureNames: [String], columns: [[Double]], varianceShare: Double = 0.65, chunkSize: Int,
                 seed: UInt64 = 0x5EED, band: BandRows = .heldOut) {
        let d = columns.count
        guard d >= 2, featureNames.count == d, chunkSize >= 1, !varianceShare.isNaN else { return nil }
        let n = columns[0].count
        guard n >= 10, columns.allSatisfy({ $0.count == n }) else { return nil }
        let share = Swift.min(Swift.max(varianceShare, 0), 1)

        // 1. Imputation value and scale of each column (SimpleImputer(strategy="mean") then StandardScaler).
        var means = [Double](repeating: 0, count: d)
        var stds = [Double](repeating: 1, count: d)
        var finite = [Double](repeating: 0, count: n)  // compacted copy, only for columns with missing values
        for j in 0..<d {
            let (c, mean, stdFinite) = columns[j].withUnsafeBufferPointer { col -> (Int, Double, Double) in
                var missing = 0
                for x in col where !x.isFinite { missing += 1 }
                if missing == 0 {
                    let (mean, std) = meanAndStd(col)
                    return (n, mean, std)
                }
                let c = n - missing
                guard c > 0 else { return (0, 0, 1) }
                return finite.withUnsafeMutableBufferPointer { buffer in
                    var k = 0
                    for x in col where x.isFinite {
                        buffer[k] = x
                        k += 1
                    }
                    let (mean, std) = meanAndStd(UnsafeBufferPointer(rebasing: buffer[0..<c]))
                    return (c, mean, std)
                }
            }
            guard c > 0 else { continue }  // no finite value: mean 0, std 1 (documented above)
            // Imputed values sit at the mean, so Σ(x − mean)² over the imputed column is the same sum over the
            // c finite values, divided by n instead of c.
            let variance = stdFinite * stdFinite * Double(c) / Double(n)
            means[j] = mean
            stds[j] = isConstantFeature(variance: variance, mean: mean, rows: n) ? 1 : variance.squareRoot()
        }

        // 2. The rows the axes are fitted on, and the rows the band is measured on (see `BandRows`).
        var fitted: [Bool]?
        var measured: [Bool]?
        var fitRows = n
        var bandRows = n
        if band == .heldOut && n >= 20 {
            var order = Array(0..<n)
            var g = ChunkShuffleGenerator(state: 0xF17_5EED)
            for i in 0..<(n - 1) { order.swapAt(i, i + Int(g.next(below: UInt64(n - i)))) }
            var inFit = [Bool](repeating: false, count: n)
            fitRows = (n + 1) / 2
            for i in order.prefix(fitRows) { inFit[i] = true }
            fitted = inFit
            measured = inFit.map { !$0 }
            bandRows = n - fitRows
        }

        // Covariance of the standardised fitting rows, C = ZᵀZ/(n−1), accumulated over row blocks with dsyrk
        // (upper triangle, column-major d×d).
        let blockRows = reconstructionBlockRows(d: d, n: n)
        var cov = [Double](repeating: 0, count: d * d)
        var block = [Double](repeating: 0, count: blockRows * d)
        var start = 0
        while start < n {
            let m = Swift.min(blockRows, n - start)
            block.withUnsafeMutableBufferPointer { zb in
                cov.withUnsafeMutableBufferPointer { c in
                    guard let z = zb.baseAddress, let cp = c.baseAddress else { return }
                    let rows = standardiseSelected(columns, start: start, rows: m, means: means, stds: stds, keep: fitted,
                                                   into: z, ld: blockRows)
                    guard rows > 0 else { return }
                    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows),
                                1.0, z, Int32(blockRows), 1.0, cp, Int32(d))
                }
            }
            start += m
        }
        let scale = 1.0 / Double(fitRows - 1)
        for i in cov.indices { cov[i] *= scale }

        // 3. Eigenpairs (ascending from dsyevr), taken in descending order.
        guard let eigen = symmetricEigen(&cov, d: d) else { return nil }
        var total = 0.0
        for lambda in eigen.values { total += Swift.max(lambda, 0) }  // rounding can leave tiny negatives
        guard total > 0, total.isFinite else { return nil }
        // Cumulative sum of the explained-variance ratios, as sklearn's PCA (stable_cumsum of
        // explained_variance_ratio_); k = d if rounding keeps it below a share of 1.
        var k = d
        var kept = 0.0
        for rank in 0..<d {
            kept += Swift.max(eigen.values[d - 1 - rank], 0) / total
            if kept >= share {
                k = rank + 1
                break
            }
        }
        var components = [[Double]]()
        components.reserveCapacity(k)
        for rank in 0..<k {
            let column = d - 1 - rank
            var axis = Array(eigen.vectors[(column * d)..<((column + 1) * d)])
            var largest = 0
            for j in 1..<d where abs(axis[j]) > abs(axis[largest]) { largest = j }
            if axis[largest] < 0 { for j in 0..<d { axis[j] = -axis[j] } }
            components.append(axis)
        }

        // 4. Reconstruction error of every row of the band's part, then the chunk means.
        var errors = [Double](repeating: 0, count: bandRows)
        let basis = flattenBasis(components, d: d)
        errors.withUnsafeMutableBufferPointer { out in
            var at = 0
            forEachReconstructionBlock(columns, rows: n, means: means, stds: stds, basis: basis, d: d, k: k, keep: measured) { e in
                for i in 0..<e.count { out[at + i] = e[i] }
                at += e.count
            }
        }
        let rows = bandRows
        let chunkRows = rows >= 2 * chunkSize ? chunkSize : rows / 4
        let perPass = rows / chunkRows
        let used = perPass * chunkRows
        // Passes of a partial Fisher–Yates shuffle: each pass's first `used` positions become a uniformly random
        // arrangement of the rows, cut into disjoint chunks. A row's error does not depend on the row order, so
        // shuffling errors = shuffling rows. Passes repeat until there are at least `minimumChunks` chunks: the
        // band's σ from ⌊n/m⌋ chunks alone is too noisy when there are few (`driftwatch bench detection`,
        // 200k-row baseline, 5000-row windows: 40 chunks gave a band that 4.2 % of clean windows left).
        var generator = ChunkShuffleGenerator(state: seed)
        let passes = Swift.max(1, (Self.minimumChunks + perPass - 1) / perPass)
        var chunkMeans = [Double](repeating: 0, count: passes * perPass)
        for pass in 0..<passes {
            for i in 0..<Swift.min(used, rows - 1) {
                let j = i + Int(generator.next(below: UInt64(rows - i)))
                errors.swapAt(i, j)
            }
            errors.withUnsafeBufferPointer { e in
                for c in 0..<perPass {
                    let chunk = UnsafeBufferPointer(rebasing: e[(c * chunkRows)..<((c + 1) * chunkRows)])
                    chunkMeans[pass * perPass + c] = pairwiseSum(chunk) / Double(chunkRows)
                }
            }
        }
        let (chunkMean, spread) = chunkMeans.withUnsafeBufferPointer { meanAndStd($0) }
        // Chunks drawn without replacement from `rows` rows vary less than windows drawn from the population,
        // by the finite-population factor (rows − m)/(rows − 1) in variance (Cochran 1977, §2.6): undone here.
        let chunkStd = rows > chunkRows ? spread * (Double(rows - 1) / Double(rows - chunkRows)).squareRoot() : spread

        self.featureNames = featureNames
        self.means = means
        self.stds = stds
        self.components = components
        self.explainedVarianceShare = kept
        self.chunkSize = chunkSize
        self.chunkErrorMean = chunkMean
        self.chunkErrorStd = chunkStd
        self.lowerThreshold = Swift.max(0, chunkMean - 3 * chunkStd)
        self.upperThreshold = chunkMean + 3 * chunkStd
    }

    /// Mean reconstruction error of a window (same column order; NaN imputed): for each row, standardise,
    /// project onto the components, reconstruct, take the Euclidean distance to the standardised row; average.
    /// NaN when the window has no rows, a different number of columns, or columns of different lengths.
    public func meanReconstructionError(columns: [[Double]]) -> Double {
        let d = featureNames.count
        let k = components.count
        guard d >= 1, k >= 1, columns.count == d, means.count == d, stds.count == d,
              components.allSatisfy({ $0.count == d }) else { return .nan }
        let n = columns[0].count
        guard n > 0, columns.allSatisfy({ $0.count == n }) else { return .nan }
        let basis = flattenBasis(components, d: d)
        var sum = 0.0
        forEachReconstructionBlock(columns, rows: n, means: means, stds: stds, basis: basis, d: d, k: k) { e in
            sum += pairwiseSum(e)
        }
        return sum / Double(n)
    }

    enum CodingKeys: String, CodingKey {
        case featureNames = "feature_names"
        case means, stds, components
        case explainedVarianceShare = "explained_variance_share"
        case chunkSize = "chunk_size"
        case chunkErrorMean = "chunk_error_mean"
        case chunkErrorStd = "chunk_error_std"
        case lowerThreshold = "lower_threshold"
        case upperThreshold = "upper_threshold"
    }

    /// Decoding checks the shapes, so a stored model can never make scoring index out of range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        featureNames = try c.decode([String].self, forKey: .featureNames)
        means = try c.decode([Double].self, forKey: .means)
        stds = try c.decode([Double].self, forKey: .stds)
        components = try c.decode([[Double]].self, forKey: .components)
        explainedVarianceShare = try c.decode(Double.self, forKey: .explainedVarianceShare)
        chunkSize = try c.decode(Int.self, forKey: .chunkSize)
        chunkErrorMean = try c.decode(Double.self, forKey: .chunkErrorMean)
        chunkErrorStd = try c.decode(Double.self, forKey: .chunkErrorStd)
        lowerThreshold = try c.decode(Double.self, forKey: .lowerThreshold)
        upperThreshold = try c.decode(Double.self, forKey: .upperThreshold)
        let d = featureNames.count
        guard d >= 2, means.count == d, stds.count == d, stds.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DecodingError.dataCorruptedError(forKey: .stds, in: c,
                debugDescription: "reconstruction model needs ≥ 2 features with one mean and one positive std each")
        }
        guard !components.isEmpty, components.count <= d, components.allSatisfy({ $0.count == d }) else {
            throw DecodingError.dataCorruptedError(forKey: .components, in: c,
                debugDescription: "reconstruction model needs 1…\(d) components of length \(d)")
        }
        guard chunkSize >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .chunkSize, in: c, debugDescription: "chunk_size must be ≥ 1")
        }
    }
}

/// Result of scoring one window against a `ReconstructionModel`. `reconstructionError` is NaN (and
/// `drifted` false) when the window had no rows or the wrong columns; JSONEncoder needs a
/// non-conforming-float strategy for that case.
public struct MultivariateResult: Sendable, Codable, Equatable {
    public var reconstructionError: Double
    public var lowerThreshold: Double
    public var upperThreshold: Double
    /// Error outside [lower, upper].
    public var drifted: Bool
    public var components: Int
    public var explainedVarianceShare: Double
    public var rows: Int

    public init(reconstructionError: Double, lowerThreshold: Double, upperThreshold: Double, drifted: Bool,
                components: Int, explainedVarianceShare: Double, rows: Int) {
        self.reconstructionError = reconstructionError
        self.lowerThreshold = lowerThreshold
        self.upperThreshold = upperThreshold
        self.drifted = drifted
        self.components = components
        self.explainedVarianceShare = explainedVarianceShare
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case reconstructionError = "reconstruction_error"
        case lowerThreshold = "lower_threshold"
        case upperThreshold = "upper_threshold"
        case drifted, components
        case explainedVarianceShare = "explained_variance_share"
        case rows
    }
}

/// The window's mean reconstruction error against the band mean ± `sigmas`·σ of the baseline chunks'
/// errors (NannyML's 3 by default; `detector.calibration_k` when thresholds are calibrated).
public func compareMultivariate(_ model: ReconstructionModel, columns: [[Double]], sigmas: Double = 3) -> MultivariateResult {
    let error = model.meanReconstructionError(columns: columns)
    let lower = sigmas == 3 ? model.lowerThreshold : Swift.max(0, model.chunkErrorMean - sigmas * model.chunkErrorStd)
    let upper = sigmas == 3 ? model.upperThreshold : model.chunkErrorMean + sigmas * model.chunkErrorStd
    let drifted = !error.isNaN && (error < lower || error > upper)
    return MultivariateResult(
        reconstructionError: error, lowerThreshold: lower, upperThreshold: upper,
        drifted: drifted, components: model.components.count,
        explainedVarianceShare: model.explainedVarianceShare, rows: columns.first?.count ?? 0)
}

// MARK: - Categorical features

/// Frequency encoding of one categorical column, fitted on the baseline and applied unchanged to every
/// window, so that a category means the same number in both (NannyML: SimpleImputer(strategy=
/// "most_frequent") then category_encoders CountEncoder(normalize=True)).
///
/// A category becomes its share of the baseline rows; a missing value (nil) is first replaced by the
/// baseline's most frequent category (ties → the smallest string, as SimpleImputer); a category never seen
/// in the baseline becomes 0 (its baseline share). If the baseline column has no value at all, everything
/// encodes to NaN, which `ReconstructionModel` treats as missing.
public struct FrequencyEncoding: Sendable, Codable, Equatable {
    public var shares: [String: Double]
    public var mostFrequent: String?

    public init(baseline: [String?]) {
        var counts = [String: Int]()
        var present = 0
        for case let value? in baseline {
            counts[value, default: 0] += 1
            present += 1
        }
        var best: (value: String, count: Int)?
        for (value, count) in counts {
            if let b = best, count < b.count || (count == b.count && value > b.value) { continue }
            best = (value, count)
        }
        // Shares of all baseline rows: the imputed missing rows count for the most frequent category.
        let missing = baseline.count - present
        var shares = [String: Double]()
        for (value, count) in counts {
            let imputed = value == best?.value ? missing : 0
            shares[value] = Double(count + imputed) / Double(baseline.count)
        }
        self.shares = shares
        self.mostFrequent = best?.value
    }

    public func encode(_ values: [String?]) -> [Double] {
        let missingValue = mostFrequent.flatMap { shares[$0] } ?? .nan
        return values.map { value in
            guard let value else { return missingValue }
            return shares[value] ?? 0
        }
    }

    enum CodingKeys: String, CodingKey {
        case shares
        case mostFrequent = "most_frequent"
    }
}

// MARK: - Kernels

/// Rows per block: ~512 KiB of standardised doubles, enough for BLAS to run at full speed, small enough to
/// stay in L2/L3 and to keep memory flat for any n.
private func reconstructionBlockRows(d: Int, n: Int) -> Int {
    Swift.max(1, Swift.min(n, Swift.max(64, Swift.min(8192, 65_536 / Swift.max(d, 1)))))
}

/// sklearn.preprocessing._data._is_constant_feature: var ≤ n·ε·var + (n·mean·ε)² (a variance that is only
/// rounding noise of the mean); such a column gets scale 1 (`_handle_zeros_in_scale`).
private func isConstantFeature(variance: Double, mean: Double, rows: Int) -> Bool {
    let eps = Double.ulpOfOne
    let n = Double(rows)
    let bound = n * eps * variance + (n * mean * eps) * (n * mean * eps)
    return !(variance > bound)
}

/// Rows [start, start+m) standardised into a column-major m×d block with leading dimension `ld`; a
/// non-finite value is missing and imputed with the mean, i.e. 0 after standardising.
private func standardiseBlock(_ columns: [[Double]], start: Int, rows m: Int, means: [Double], stds: [Double],
                              into z: UnsafeMutablePointer<Double>, ld: Int) {
    for j in 0..<columns.count {
        let mean = means[j], sd = stds[j]
        let dst = z + j * ld
        columns[j].withUnsafeBufferPointer { col in
            for i in 0..<m {
                let x = col[start + i]
                // (x − mean)/sd with a division, as StandardScaler.transform does.
                dst[i] = x.isFinite ? (x - mean) / sd : 0
            }
        }
    }
}

/// Components as one contiguous column-major d×k matrix V (axis c at [c·d, (c+1)·d)).
private func flattenBasis(_ components: [[Double]], d: Int) -> [Double] {
    var v = [Double]()
    v.reserveCapacity(d * components.count)
    for axis in components { v.append(contentsOf: axis) }
    return v
}

/// For consecutive blocks of rows, calls body(firstRow, errors) with errors[i] = ‖z − z·V·Vᵀ‖₂ for row
/// firstRow + i. Three buffers for the whole call: Z block (m×d), P = Z·V (m×k), per-row errors.
private func forEachReconstructionBlock(_ columns: [[Double]], rows n: Int, means: [Double], stds: [Double],
                                        basis: [Double], d: Int, k: Int, keep: [Bool]? = nil,
                                        _ body: (UnsafeBufferPointer<Double>) -> Void) {
    let blockRows = reconstructionBlockRows(d: d, n: n)
    var z = [Double](repeating: 0, count: blockRows * d)
    var p = [Double](repeating: 0, count: blockRows * k)
    var errors = [Double](repeating: 0, count: blockRows)
    var start = 0
    while start < n {
        let m = Swift.min(blockRows, n - start)
        z.withUnsafeMutableBufferPointer { zb in
            p.withUnsafeMutableBufferPointer { pb in
                basis.withUnsafeBufferPointer { vb in
                    errors.withUnsafeMutableBufferPointer { eb in
                        guard let zp = zb.baseAddress, let pp = pb.baseAddress, let vp = vb.baseAddress,
                              let ep = eb.baseAddress else { return }
                        let rows = standardiseSelected(columns, start: start, rows: m, means: means, stds: stds, keep: keep,
                                                    into: zp, ld: blockRows)
                        guard rows > 0 else { return }
                        // P = Z·V (m×k), then Z ← Z − P·Vᵀ: the residual of the projection, in place.
                        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(k), Int32(d),
                                    1.0, zp, Int32(blockRows), vp, Int32(d), 0.0, pp, Int32(blockRows))
                        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(d), Int32(k),
                                    -1.0, pp, Int32(blockRows), vp, Int32(d), 1.0, zp, Int32(blockRows))
                        for i in 0..<rows { ep[i] = 0 }
                        for j in 0..<d {
                            let r = zp + j * blockRows
                            for i in 0..<rows { ep[i] += r[i] * r[i] }
                        }
                        for i in 0..<rows { ep[i] = ep[i].squareRoot() }
                        body(UnsafeBufferPointer(start: ep, count: rows))
                    }
                }
            }
        }
        start += m
    }
}

/// Rows [start, start+m) standardised into the column-major block `z` (leading dimension `ld`), then the
/// rows that `keep` selects moved to its first rows, in order; returns how many. All rows when `keep` is nil.
private func standardiseSelected(_ columns: [[Double]], start: Int, rows m: Int, means: [Double], stds: [Double],
                                 keep: [Bool]?, into z: UnsafeMutablePointer<Double>, ld: Int) -> Int {
    standardiseBlock(columns, start: start, rows: m, means: means, stds: stds, into: z, ld: ld)
    guard let keep else { return m }
    var kept = 0
    for i in 0..<m where keep[start + i] {
        if kept != i { for j in 0..<columns.count { z[j * ld + kept] = z[j * ld + i] } }
        kept += 1
    }
    return kept
}

/// All eigenpairs of the symmetric d×d matrix `a` (column-major, upper triangle used; destroyed) with LAPACK
/// dsyevr (JOBZ='V', RANGE='A'), eigenvalues ascending, eigenvector i in vectors[i·d ..< (i+1)·d]. Workspace
/// sizes come from dsyevr's own query (LWORK = LIWORK = −1) rather than the documented minima 26·N / 10·N,
/// which are not optimal for the blocked reduction. ABSTOL = DLAMCH('Safe minimum') as dsyevr's
/// documentation advises for the most accurate eigenvalues. nil when dsyevr reports an error (INFO ≠ 0).
private func symmetricEigen(_ a: inout [Double], d: Int) -> (values: [Double], vectors: [Double])? {
    let n = dw_lapack_int(d)
    let jobz = CChar(UInt8(ascii: "V")), range = CChar(UInt8(ascii: "A")), uplo = CChar(UInt8(ascii: "U"))
    let abstol = LAPACKE_dlamch(CChar(UInt8(ascii: "S")))
    var found: dw_lapack_int = 0
    var values = [Double](repeating: 0, count: d)
    var vectors = [Double](repeating: 0, count: d * d)
    var support = [dw_lapack_int](repeating: 0, count: 2 * d)
    var workSize = 0.0
    var iworkSize: dw_lapack_int = 0
    var info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, jobz, range, uplo, n, &a, n, 0, 0, 0, 0, abstol,
                                   &found, &values, &vectors, n, &support, &workSize, -1, &iworkSize, -1)
    guard info == 0, workSize.isFinite, workSize >= 1, iworkSize >= 1 else { return nil }
    var work = [Double](repeating: 0, count: Int(workSize.rounded(.up)))
    var iwork = [dw_lapack_int](repeating: 0, count: Int(iworkSize))
    info = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, jobz, range, uplo, n, &a, n, 0, 0, 0, 0, abstol,
                               &found, &values, &vectors, n, &support, &work, dw_lapack_int(work.count),
                               &iwork, dw_lapack_int(iwork.count))
    guard info == 0, Int(found) == d else { return nil }
    return (values, vectors)
}

/// splitmix64 (Steele, Lea & Flood 2014) with Lemire's unbiased bounded draw: the shuffle of the baseline
/// chunks must not depend on the standard library's unspecified `shuffle`/`random(in:)` algorithms.
private struct ChunkShuffleGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (bound ≥ 1).
    mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }
}
