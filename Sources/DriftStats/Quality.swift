#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Model quality: classification and regression metrics as scikit-learn computes them, isotonic
// calibration as sklearn.isotonic.IsotonicRegression fits it, and NannyML's confidence-based
// performance estimation (CBPE) for binary classifiers.
//
// Golden fixtures: Tests/Fixtures/quality/*.json, made by Tests/Fixtures/quality/make_fixtures.py with
// scikit-learn 1.9.1, scipy 1.17.1, numpy 2.4.6. Where sklearn sums with numpy (np.mean, np.sum), we sum
// with `pairwiseSum` in the same order, so most values agree with sklearn to the last bit.
//
// Inputs: scores must not be NaN (the service drops non-finite scores before calling). A NaN score
// never traps: it gives NaN in the affected values and an unspecified (but finite-time) rank. The
// `scores`/`labels` (and `predictions`/`targets`) arrays must have equal lengths: that is a programming
// error, checked with a precondition. Empty inputs give `rows == 0`, nil for the optional values and
// NaN (0/0) for the non-optional means — encode with a non-conforming-float strategy or skip them.

// MARK: - Binary classification

/// Realized quality of a binary classifier on labelled rows. Predicted positive when score >= threshold.
public struct BinaryQuality: Sendable, Codable, Equatable {
    public var rows: Int
    public var positives: Int
    public var threshold: Double
    /// sklearn.metrics.roc_auc_score. nil when only one class is present (sklearn 1.9 warns and returns NaN).
    public var rocAUC: Double?
    /// sklearn.metrics.average_precision_score. nil when there are no positives (sklearn 1.9 warns
    /// "No positive class found in y_true" and returns 0.0, which is not a measurement).
    public var averagePrecision: Double?
    /// TP / predicted positives. nil when nothing is predicted positive (sklearn's zero_division case:
    /// it warns and returns 0.0 by default; we report "undefined" instead of a fake zero).
    public var precision: Double?
    /// TP / positives. nil when there are no positives (sklearn's zero_division case).
    public var recall: Double?
    /// sklearn's F1 = 2·TP / (positives + predicted positives) (sklearn 1.9.1 `_precision_recall_fscore_support`
    /// computes F-beta from the confusion counts this way). So it is 0, not nil, when precision or recall alone is undefined, and
    /// nil only when there are neither positives nor predicted positives (zero_division).
    public var f1: Double?
    public var accuracy: Double
    /// sklearn.metrics.log_loss(labels, p, labels=[0, 1]) with p = score clipped to [0, 1] (sklearn raises
    /// on probabilities outside [0, 1]; we clip). sklearn 1.9 clips the two-column probabilities
    /// [1−p, p] to [eps, 1−eps], eps = np.finfo(float64).eps = 2⁻⁵², so a confident wrong 0 or 1 costs
    /// −log(2⁻⁵²) ≈ 36.04 rather than infinity; we do the same.
    public var logLoss: Double
    /// sklearn.metrics.brier_score_loss (binary: mean of (y − p)², computed as sklearn does from the
    /// two-column form with scale_by_half) with p = score clipped to [0, 1].
    public var brier: Double
    /// Expected calibration error: 10 equal-width bins on [0, 1] of the score clipped to [0, 1]
    /// (bin = min(⌊10·p⌋, 9), so 1.0 is in the last bin), weighted by bin size:
    /// Σ_b |mean_b(p) − mean_b(y)| · n_b / n. Not an sklearn function (calibration_curve uses the same
    /// uniform bins but returns no ECE); the fixture script states the same formula in numpy.
    public var expectedCalibrationError: Double
    /// mean(label)
    public var positiveRate: Double
    /// mean(score >= threshold)
    public var predictedPositiveRate: Double

    enum CodingKeys: String, CodingKey {
        case rows, positives, threshold
        case rocAUC = "roc_auc"
        case averagePrecision = "average_precision"
        case precision, recall, f1, accuracy
        case logLoss = "log_loss"
        case brier
        case expectedCalibrationError = "expected_calibration_error"
        case positiveRate = "positive_rate"
        case predictedPositiveRate = "predicted_positive_rate"
    }

    public init(rows: Int, positives: Int, threshold: Double, rocAUC: Double?, averagePrecision: Double?,
                precision: Double?, recall: Double?, f1: Double?, accuracy: Double, logLoss: Double, brier: Double,
                expectedCalibrationError: Double, positiveRate: Double, predictedPositiveRate: Double) {
        self.rows = rows
        self.positives = positives
        self.threshold = threshold
        self.rocAUC = rocAUC
        self.averagePrecision = averagePrecision
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.accuracy = accuracy
        self.logLoss = logLoss
        self.brier = brier
        self.expectedCalibrationError = expectedCalibrationError
        self.positiveRate = positiveRate
        self.predictedPositiveRate = predictedPositiveRate
    }
}

/// Scores of the positive and the negative rows, each sorted ascending: every ranking metric is a
/// merge of the two from the top, so the window is sorted once (radix sort, no index permutation).
struct ClassSortedScores {
    var positive: [Double]
    var negative: [Double]

    init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "scores and labels must have the same length")
        var p = 0
        for l in labels where l { p += 1 }
        var pos = [Double](repeating: 0, count: p)
        var neg = [Double](repeating: 0, count: labels.count - p)
        var i = 0, j = 0
        for k in 0..<scores.count {
            if labels[k] { pos[i] = scores[k]; i += 1 } else { neg[j] = scores[k]; j += 1 }
        }
        radixSort(&pos)
        radixSort(&neg)
        positive = pos
        negative = neg
    }

    /// Calls `body(positives, negatives)` for each distinct score, from the highest down: the
    /// (tps, fps) steps of sklearn's `confusion_matrix_at_thresholds` (stable descending sort, one
    /// threshold per distinct score, ties grouped).
    func forEachTieGroupDescending(_ body: (Int, Int) -> Void) {
        positive.withUnsafeBufferPointer { pos in
            negative.withUnsafeBufferPointer { neg in
                var i = pos.count - 1
                var j = neg.count - 1
                while i >= 0 || j >= 0 {
                    let t: Double
                    if i < 0 {
                        t = neg[j]
                    } else if j < 0 {
                        t = pos[i]
                    } else {
                        t = pos[i] > neg[j] ? pos[i] : neg[j]
                    }
                    var dp = 0
                    var dn = 0
                    while i >= 0 && pos[i] == t { dp += 1; i -= 1 }
                    while j >= 0 && neg[j] == t { dn += 1; j -= 1 }
                    if dp == 0 && dn == 0 {
                        // t is NaN (equal to nothing): consume one element so the walk always ends.
                        if i >= 0 && pos[i].isNaN { dp = 1; i -= 1 } else { dn = 1; j -= 1 }
                    }
                    body(dp, dn)
                }
            }
        }
    }

    /// ROC AUC as the Mann–Whitney statistic: P(score₊ > score₋) + ½·P(score₊ = score₋), i.e. the
    /// trapezoid area under sklearn's roc_curve (which puts ties on one threshold, giving the
    /// diagonal step whose area is the ½ term). Counted exactly in integers (2·area in units of
    /// 1/(P·N)) and divided once, so the result is the correctly rounded exact AUC; sklearn
    /// (roc_auc_score → roc_curve(drop_intermediate=True) → auc → scipy trapezoid) lands within a
    /// few ulps of it.
    func rocAUC() -> Double? {
        let p = positive.count
        let n = negative.count
        guard p > 0, n > 0 else { return nil }
        var tp = 0
        var area2 = 0
        forEachTieGroupDescending { dp, dn in
            area2 += dn * (2 * tp + dp)
            tp += dp
        }
        return Double(area2) / (2.0 * Double(p) * Double(n))
    }

    /// sklearn.metrics.average_precision_score: AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct
    /// thresholds of precision_recall_curve (drop_intermediate=False; ties grouped), the step-wise
    /// (not interpolated) sum. Reproduces sklearn's arithmetic: precision = tps/(tps+fps),
    /// recall = tps/tps[-1], the curve reversed with (recall 0, precision 1) appended, then
    /// max(0, −np.sum(np.diff(recall) · precision[:-1])) with numpy's pairwise sum in the same order.
    func averagePrecision() -> Double? {
        let p = positive.count
        guard p > 0 else { return nil }
        let n = p + negative.count
        let total = Double(p)
        // Terms in sklearn's (reversed, ascending-threshold) order: the k-th distinct threshold from
        // the top lands at index n−1−k, so the K terms occupy the tail n−K..<n in order.
        var terms = [Double](repeating: 0, count: n)
        var k = 0
        var tps = 0
        var fps = 0
        var previousRecall = 0.0
        terms.withUnsafeMutableBufferPointer { out in
            forEachTieGroupDescending { dp, dn in
                tps += dp
                fps += dn
                let tpsD = Double(tps)
                let precision = tpsD / (tpsD + Double(fps))
                let recall = tpsD / total
                out[n - 1 - k] = (previousRecall - recall) * precision
                previousRecall = recall
                k += 1
            }
        }
        let sum = terms.withUnsafeBufferPointer { pairwiseSum(UnsafeBufferPointer(rebasing: $0[(n - k)..<n])) }
        let ap = -sum
        return ap > 0.0 ? ap : 0.0
    }
}

/// sklearn.metrics.roc_auc_score for binary labels (ties in the scores handled as the Mann–Whitney
/// statistic with average ranks, which is the trapezoid area of sklearn's ROC curve). nil when only
/// one class is present. O(n log n): two radix sorts and a merge.
public func rocAUC(scores: [Double], labels: [Bool]) -> Double? {
    ClassSortedScores(scores: scores, labels: labels).rocAUC()
}

/// sklearn.metrics.average_precision_score for binary labels (step-wise, ties grouped like
/// sklearn's precision_recall_curve). nil when there are no positives.
public func averagePrecision(scores: [Double], labels: [Bool]) -> Double? {
    ClassSortedScores(scores: scores, labels: labels).averagePrecision()
}

/// Realized binary-classification quality. Predicted positive when score >= threshold.
public func binaryQuality(scores: [Double], labels: [Bool], threshold: Double) -> BinaryQuality {
    precondition(scores.count == labels.count, "scores and labels must have the same length")
    let n = scores.count
    let eps = Double.ulpOfOne  // np.finfo(np.float64).eps: sklearn 1.9.1 `_log_loss` clips to [eps, 1 − eps]
    var positives = 0
    var predictedPositives = 0
    var truePositives = 0
    var correct = 0
    var logLossTerms = [Double](repeating: 0, count: n)
    var brierTerms = [Double](repeating: 0, count: n)
    var binProbability = [Double](repeating: 0, count: 10)
    var binLabel = [Double](repeating: 0, count: 10)
    scores.withUnsafeBufferPointer { s in
        labels.withUnsafeBufferPointer { l in
            logLossTerms.withUnsafeMutableBufferPointer { ll in
                brierTerms.withUnsafeMutableBufferPointer { br in
                    for i in 0..<n {
                        let score = s[i]
                        let label = l[i]
                        let predicted = score >= threshold
                        if label { positives += 1 }
                        if predicted { predictedPositives += 1 }
                        if label && predicted { truePositives += 1 }
                        if label == predicted { correct += 1 }
                        // Probability view of the score: clipped into [0, 1] (sklearn would raise).
                        let p = min(max(score, 0.0), 1.0)
                        let y = label ? 1.0 : 0.0
                        // sklearn log_loss: columns [1 − p, p], each clipped to [eps, 1 − eps];
                        // xlogy picks the label's column: loss = −log(clip(column)).
                        let q = label ? p : 1.0 - p
                        ll[i] = -log(min(max(q, eps), 1.0 - eps))
                        // sklearn brier_score_loss: Σ over the two columns of (onehot − proba)², then ×½
                        // after the mean; the columns are computed as numpy does ((1−y) − (1−p), y − p).
                        let a = (1.0 - y) - (1.0 - p)
                        let b = y - p
                        br[i] = a * a + b * b
                        // ECE bin (a NaN p goes to bin 0 instead of trapping in Int(_:)).
                        let bin = p >= 1.0 ? 9 : (p > 0.0 ? min(Int(p * 10.0), 9) : 0)
                        binProbability[bin] += p
                        binLabel[bin] += y
                    }
                }
            }
        }
    }
    let rows = Double(n)
    let ranked = ClassSortedScores(scores: scores, labels: labels)
    // np.mean = pairwise sum / n (sklearn's _average → numpy.average → mean).
    let logLoss = logLossTerms.withUnsafeBufferPointer { pairwiseSum($0) } / rows
    let brier = brierTerms.withUnsafeBufferPointer { pairwiseSum($0) } / rows * 0.5
    // Σ_b |mean_b(p) − mean_b(y)|·n_b/n = Σ_b |Σ_b p − Σ_b y| / n.
    var ece = 0.0
    for b in 0..<10 { ece += abs(binProbability[b] - binLabel[b]) }
    ece /= rows
    let tp = Double(truePositives)
    let precision: Double? = predictedPositives > 0 ? tp / Double(predictedPositives) : nil
    let recall: Double? = positives > 0 ? tp / Double(positives) : nil
    let f1Denominator = Double(positives) + Double(predictedPositives)
    let f1: Double? = f1Denominator > 0 ? 2.0 * tp / f1Denominator : nil
    return BinaryQuality(
        rows: n, positives: positives, threshold: threshold,
        rocAUC: ranked.rocAUC(), averagePrecision: ranked.averagePrecision(),
        precision: precision, recall: recall, f1: f1,
        accuracy: Double(correct) / rows, logLoss: logLoss, brier: brier,
        expectedCalibrationError: ece,
        positiveRate: Double(positives) / rows,
        predictedPositiveRate: Double(predictedPositives) / rows)
}

// MARK: - Regression

/// Realized quality of a regression model.
public struct RegressionQuality: Sendable, Codable, Equatable {
    public var rows: Int
    /// sklearn.metrics.mean_absolute_error
    public var mae: Double
    /// sklearn.metrics.root_mean_squared_error
    public var rmse: Double
    /// sklearn.metrics.mean_absolute_percentage_error: mean of |pred − y| / max(|y|, eps) with
    /// eps = np.finfo(np.float64).eps, so a zero target contributes |pred|/2.2e-16 (huge; as sklearn).
    public var mape: Double
    /// sklearn.metrics.r2_score where it is defined. nil when there are fewer than two rows (sklearn
    /// warns and returns NaN) or the targets are constant: sklearn's force_finite then returns 1.0
    /// (perfect predictions) or 0.0 — or, when numpy's mean of the constant is not exactly the
    /// constant (three times 0.1), a meaningless −3e31 — none of which is a measurement.
    public var r2: Double?

    public init(rows: Int, mae: Double, rmse: Double, mape: Double, r2: Double?) {
        self.rows = rows
        self.mae = mae
        self.rmse = rmse
        self.mape = mape
        self.r2 = r2
    }
}

/// Realized regression quality, each value computed as sklearn does (numpy pairwise sums).
public func regressionQuality(predictions: [Double], targets: [Double]) -> RegressionQuality {
    precondition(predictions.count == targets.count, "predictions and targets must have the same length")
    let n = predictions.count
    let rows = Double(n)
    let eps = Double.ulpOfOne
    var absolute = [Double](repeating: 0, count: n)
    var squared = [Double](repeating: 0, count: n)
    var percentage = [Double](repeating: 0, count: n)
    var constant = true
    predictions.withUnsafeBufferPointer { p in
        targets.withUnsafeBufferPointer { t in
            absolute.withUnsafeMutableBufferPointer { a in
                squared.withUnsafeMutableBufferPointer { sq in
                    percentage.withUnsafeMutableBufferPointer { pc in
                        for i in 0..<n {
                            let d = t[i] - p[i]
                            a[i] = abs(p[i] - t[i])
                            sq[i] = d * d
                            pc[i] = a[i] / max(abs(t[i]), eps)
                            if t[i] != t[0] { constant = false }
                        }
                    }
                }
            }
        }
    }
    let mae = absolute.withUnsafeBufferPointer { pairwiseSum($0) } / rows
    let sse = squared.withUnsafeBufferPointer { pairwiseSum($0) }
    let rmse = (sse / rows).squareRoot()
    let mape = percentage.withUnsafeBufferPointer { pairwiseSum($0) } / rows
    var r2: Double?
    if n >= 2 && !constant {
        // sklearn r2_score: 1 − Σ(y − ŷ)² / Σ(y − mean(y))², both numpy sums.
        let mean = targets.withUnsafeBufferPointer { pairwiseSum($0) } / rows
        targets.withUnsafeBufferPointer { t in
            absolute.withUnsafeMutableBufferPointer { dev in
                for i in 0..<n {
                    let d = t[i] - mean
                    dev[i] = d * d
                }
            }
        }
        let denominator = absolute.withUnsafeBufferPointer { pairwiseSum($0) }
        // A denominator that underflows to 0 is sklearn's force_finite case again: undefined.
        if denominator != 0 { r2 = 1.0 - sse / denominator }
    }
    return RegressionQuality(rows: n, mae: mae, rmse: rmse, mape: mape, r2: r2)
}

// MARK: - Isotonic calibration

/// Isotonic calibration of scores to probabilities, as sklearn.isotonic.IsotonicRegression(y_min=0,
/// y_max=1, increasing=True, out_of_bounds="clip") fit on (score, label), sklearn 1.9.1 / scipy 1.17.1:
///
/// 1. sort by (score, label) and merge equal scores into one point whose value is the mean label and
///    whose weight is the count (sklearn `_make_unique`; note it merges scores closer than
///    np.finfo(float64).resolution = 1e-15 to the first score of a run, keeping that first score);
/// 2. pool adjacent violators (scipy.optimize.isotonic_regression, Busing 2022 Algorithm 1, pooling on
///    `>=`), ported operation for operation so the fitted values are bit-identical; clip to [0, 1];
/// 3. drop interior points whose value equals both neighbours (sklearn `trim_duplicates`);
/// 4. predict: clip the score to [first, last] threshold, then linear interpolation between the fitted
///    points as np.interp does it (what scipy's interp1d delegates to for float64).
///
/// Non-finite scores are ignored by the fit (sklearn rejects them). An empty fit has no thresholds and
/// predicts NaN. Persist it as JSON (Codable: `{"thresholds": [...], "values": [...]}`); decoding
/// checks that the arrays have equal length, are finite and that thresholds strictly increase.
public struct IsotonicCalibrator: Sendable, Codable, Equatable {
    /// Fitted X (sklearn `X_thresholds_`), strictly increasing.
    public var thresholds: [Double]
    /// Fitted y (sklearn `y_thresholds_`), non-decreasing, in [0, 1].
    public var values: [Double]

    /// np.finfo(np.float64).resolution, sklearn `_make_unique`'s merge distance.
    static let mergeResolution = 1e-15

    public init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "scores and labels must have the same length")
        var finiteScores: [Double] = []
        var finiteLabels: [Bool] = []
        var allFinite = true
        for s in scores where !s.isFinite { allFinite = false; break }
        if !allFinite {
            finiteScores.reserveCapacity(scores.count)
            finiteLabels.reserveCapacity(scores.count)
            for (s, l) in zip(scores, labels) where s.isFinite { finiteScores.append(s); finiteLabels.append(l) }
        }
        let sorted = allFinite ? ClassSortedScores(scores: scores, labels: labels)
                               : ClassSortedScores(scores: finiteScores, labels: finiteLabels)

        // 1. Unique X with mean label and count (sklearn/_isotonic.pyx `_make_unique`, after
        // np.lexsort((y, X))): walk the merged ascending order of both classes.
        var x: [Double] = []
        var y: [Double] = []
        var w: [Double] = []
        sorted.positive.withUnsafeBufferPointer { pos in
            sorted.negative.withUnsafeBufferPointer { neg in
                var i = 0
                var j = 0
                var currentX = 0.0
                var currentPositives = 0
                var currentCount = 0
                while i < pos.count || j < neg.count {
                    // Within equal scores lexsort puts label 0 first; the order does not change the
                    // (integer) sums, so only the score order matters here.
                    let takeNegative = i >= pos.count || (j < neg.count && neg[j] <= pos[i])
                    let value = takeNegative ? neg[j] : pos[i]
                    if takeNegative { j += 1 } else { i += 1 }
                    if currentCount == 0 {
                        currentX = value
                    } else if value - currentX >= Self.mergeResolution {
                        x.append(currentX)
                        y.append(Double(currentPositives) / Double(currentCount))
                        w.append(Double(currentCount))
                        currentX = value
                        currentPositives = 0
                        currentCount = 0
                    }
                    currentCount += 1
                    if !takeNegative { currentPositives += 1 }
                }
                if currentCount > 0 {
                    x.append(currentX)
                    y.append(Double(currentPositives) / Double(currentCount))
                    w.append(Double(currentCount))
                }
            }
        }
        let m = x.count
        guard m > 0 else {
            thresholds = []
            values = []
            return
        }

        // 2. PAVA, scipy/optimize/_pava/pava_pybind.cpp (Busing, F. M. T. A. (2022). Monotone
        // Regression: A Simple and Fast O(n) PAVA Implementation. J. Stat. Softw. 102(1)), same
        // operations in the same order as scipy so the pooled means round identically.
        var r = [Int](repeating: 0, count: m + 1)
        y.withUnsafeMutableBufferPointer { xs in
            w.withUnsafeMutableBufferPointer { ws in
                r.withUnsafeMutableBufferPointer { rs in
                    rs[0] = 0
                    rs[1] = 1  // r has m + 1 ≥ 2 entries
                    var b = 0
                    var xbPrev = xs[0]
                    var wbPrev = ws[0]
                    var i = 1
                    while i < m {
                        b += 1
                        var xb = xs[i]
                        var wb = ws[i]
                        var sb = 0.0
                        if xbPrev >= xb {
                            b -= 1
                            sb = wbPrev * xbPrev + wb * xb
                            wb += wbPrev
                            xb = sb / wb
                            while i < m - 1 && xb >= xs[i + 1] {
                                i += 1
                                sb += ws[i] * xs[i]
                                wb += ws[i]
                                xb = sb / wb
                            }
                            while b > 0 && xs[b - 1] >= xb {
                                b -= 1
                                sb += ws[b] * xs[b]
                                wb += ws[b]
                                xb = sb / wb
                            }
                        }
                        xs[b] = xb
                        xbPrev = xb
                        ws[b] = wb
                        wbPrev = wb
                        rs[b + 1] = i + 1
                        i += 1
                    }
                    // Expand block values back over the points (scipy's lines 33–40).
                    var from = m - 1
                    var k = b
                    while k >= 0 {
                        let to = rs[k]
                        let value = xs[k]
                        var p = from
                        while p >= to { xs[p] = value; p -= 1 }
                        from = to - 1
                        k -= 1
                    }
                }
            }
        }
        // y_min = 0, y_max = 1 (np.clip; a no-op for 0/1 labels, kept for the definition).
        for k in 0..<m { y[k] = min(max(y[k], 0.0), 1.0) }

        // 3. sklearn `_build_y(trim_duplicates=True)`: keep the ends and every point whose value
        // differs from its left or right neighbour.
        var keptX: [Double] = []
        var keptY: [Double] = []
        keptX.reserveCapacity(m)
        keptY.reserveCapacity(m)
        for k in 0..<m {
            if k == 0 || k == m - 1 || y[k] != y[k - 1] || y[k] != y[k + 1] {
                keptX.append(x[k])
                keptY.append(y[k])
            }
        }
        thresholds = keptX
        values = keptY
    }

    /// The calibrated probability of `score` (sklearn IsotonicRegression.predict). NaN for a NaN
    /// score or an empty fit.
    public func probability(_ score: Double) -> Double {
        thresholds.withUnsafeBufferPointer { xs in
            values.withUnsafeBufferPointer { ys in Self.interpolate(score, xs, ys) }
        }
    }

    /// sklearn `_transform` with out_of_bounds="clip": np.clip to [X_min_, X_max_], then interp1d,
    /// which for float64 data is np.interp (numpy/_core/src/multiarray/compiled_base.c, arr_interp);
    /// a single fitted point predicts its value everywhere (sklearn's `y.repeat` special case).
    @inline(__always)
    static func interpolate(_ score: Double, _ xs: UnsafeBufferPointer<Double>, _ ys: UnsafeBufferPointer<Double>) -> Double {
        let n = min(xs.count, ys.count)
        guard n > 0, !score.isNaN else { return .nan }
        if n == 1 { return ys[0] }
        let t = min(max(score, xs[0]), xs[n - 1])
        // binary_search_with_guess: j with xs[j] <= t < xs[j+1]; t is within [xs[0], xs[n−1]].
        var lo = 0
        var hi = n
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if xs[mid] <= t { lo = mid &+ 1 } else { hi = mid }
        }
        let j = lo - 1
        if j < 0 { return ys[0] }
        if j >= n - 1 { return ys[n - 1] }
        if xs[j] == t { return ys[j] }
        let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        var result = slope * (t - xs[j]) + ys[j]
        if result.isNaN {
            // np.interp: "If we get nan in one direction, try the other".
            result = slope * (t - xs[j + 1]) + ys[j + 1]
            if result.isNaN && ys[j] == ys[j + 1] { result = ys[j] }
        }
        return result
    }

    enum CodingKeys: String, CodingKey { case thresholds, values }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let xs = try c.decode([Double].self, forKey: .thresholds)
        let ys = try c.decode([Double].self, forKey: .values)
        guard xs.count == ys.count else {
            throw DecodingError.dataCorruptedError(forKey: .values, in: c,
                debugDescription: "calibrator has \(xs.count) thresholds but \(ys.count) values")
        }
        for k in 0..<xs.count {
            guard xs[k].isFinite, ys[k].isFinite, k == 0 || xs[k] > xs[k - 1] else {
                throw DecodingError.dataCorruptedError(forKey: .thresholds, in: c,
                    debugDescription: "calibrator points must be finite with strictly increasing thresholds (index \(k))")
            }
        }
        thresholds = xs
        values = ys
    }
}

// MARK: - Confidence-based performance estimation

/// NannyML CBPE estimate of a binary classifier's quality on unlabelled rows, from scores calibrated
/// on labelled reference data. Valid under covariate shift (P(y | score) unchanged); it cannot see
/// concept shift (the relation between inputs and labels changing).
public struct EstimatedBinaryQuality: Sendable, Codable, Equatable {
    public var rows: Int
    public var threshold: Double
    /// Expected confusion matrix: TP = Σ_{ŷ=1} p, FP = Σ_{ŷ=1} (1−p), FN = Σ_{ŷ=0} p, TN = Σ_{ŷ=0} (1−p).
    public var truePositives: Double, falsePositives: Double, falseNegatives: Double, trueNegatives: Double
    /// TP/(TP+FP); nil when nothing is predicted positive.
    public var precision: Double?
    /// TP/(TP+FN); nil when Σp = 0.
    public var recall: Double?
    /// TP/(TP + ½(FP+FN)) (NannyML estimate_f1); nil when that denominator is 0.
    public var f1: Double?
    /// (TP+TN)/n
    public var accuracy: Double
    /// NannyML estimate_roc_auc; nil when Σp = 0 or Σ(1−p) = 0.
    public var rocAUC: Double?
    /// Σp/n
    public var expectedPositiveRate: Double

    enum CodingKeys: String, CodingKey {
        case rows, threshold
        case truePositives = "true_positives"
        case falsePositives = "false_positives"
        case falseNegatives = "false_negatives"
        case trueNegatives = "true_negatives"
        case precision, recall, f1, accuracy
        case rocAUC = "roc_auc"
        case expectedPositiveRate = "expected_positive_rate"
    }

    public init(rows: Int, threshold: Double, truePositives: Double, falsePositives: Double,
                falseNegatives: Double, trueNegatives: Double, precision: Double?, recall: Double?, f1: Double?,
                accuracy: Double, rocAUC: Double?, expectedPositiveRate: Double) {
        self.rows = rows
        self.threshold = threshold
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.trueNegatives = trueNegatives
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.accuracy = accuracy
        self.rocAUC = rocAUC
        self.expectedPositiveRate = expectedPositiveRate
    }
}

/// Neumaier-compensated running sum: 1M-row windows keep ~1 ulp instead of ~n·ulp without an array.
struct CompensatedSum {
    var sum = 0.0
    var compensation = 0.0

    @inline(__always)
    mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }

    var value: Double { sum + compensation }
}

/// Confidence-based performance estimation (NannyML CBPE, binary; NannyML docs "Confidence-based
/// Performance Estimation" deep dive, and nannyml/performance_estimation/confidence_based/metrics.py).
/// With calibrated probabilities p_i = calibrator.probability(score_i) and decisions ŷ_i = score_i >= threshold,
/// each row contributes its expected share to the confusion matrix: TP += p, FP += 1−p if ŷ = 1, and
/// FN += p, TN += 1−p otherwise; precision, recall, F1 (TP/(TP + ½(FP+FN)), NannyML `estimate_f1`) and
/// accuracy follow.
///
/// ROC AUC follows NannyML `estimate_roc_auc`: rank rows by score (descending), tps = cumsum(p),
/// fps = cumsum(1−p), both starting at the origin; TPR = tps/Σp, FPR = fps/Σ(1−p); trapezoid area.
/// Because the isotonic map is non-decreasing, ordering by p gives the same sequence of p as ordering
/// by score (rows with equal p add collinear steps, so tie order does not matter); we therefore sort p
/// once (radix) and accumulate Σ (1−p)·(tps_before + p/2) / (Σp·Σ(1−p)), the expected Mann–Whitney count
/// with soft labels. NannyML additionally rounds the cumulative sums to 5 decimals before dividing, a
/// float-noise guard we do not copy (it changes the result by < 1e-5 / Σp).
public func estimateBinaryQuality(scores: [Double], calibrator: IsotonicCalibrator, threshold: Double) -> EstimatedBinaryQuality {
    let n = scores.count
    var probabilities = [Double](repeating: 0, count: n)
    var tp = CompensatedSum(), fp = CompensatedSum(), fn = CompensatedSum(), tn = CompensatedSum()
    var predictedPositives = 0
    calibrator.thresholds.withUnsafeBufferPointer { xs in
        calibrator.values.withUnsafeBufferPointer { ys in
            scores.withUnsafeBufferPointer { s in
                probabilities.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        let p = IsotonicCalibrator.interpolate(s[i], xs, ys)
                        out[i] = p
                        if s[i] >= threshold {
                            predictedPositives += 1
                            tp.add(p)
                            fp.add(1.0 - p)
                        } else {
                            fn.add(p)
                            tn.add(1.0 - p)
                        }
                    }
                }
            }
        }
    }
    let TP = tp.value, FP = fp.value, FN = fn.value, TN = tn.value
    let rows = Double(n)
    let precision: Double? = predictedPositives > 0 && TP + FP > 0 ? TP / (TP + FP) : nil
    let recall: Double? = TP + FN > 0 ? TP / (TP + FN) : nil
    let f1Denominator = TP + 0.5 * (FP + FN)
    let f1: Double? = f1Denominator > 0 ? TP / f1Denominator : nil

    // Expected ROC AUC (see above): walk p from the highest down.
    radixSort(&probabilities)
    var area = CompensatedSum()
    var positiveMass = 0.0
    var negativeMass = 0.0
    probabilities.withUnsafeBufferPointer { ps in
        var i = n - 1
        while i >= 0 {
            let p = ps[i]
            let q = 1.0 - p
            area.add(q * (positiveMass + 0.5 * p))
            positiveMass += p
            negativeMass += q
            i -= 1
        }
    }
    let rocAUC: Double? = positiveMass > 0 && negativeMass > 0 ? area.value / (positiveMass * negativeMass) : nil
    return EstimatedBinaryQuality(
        rows: n, threshold: threshold,
        truePositives: TP, falsePositives: FP, falseNegatives: FN, trueNegatives: TN,
        precision: precision, recall: recall, f1: f1,
        accuracy: (TP + TN) / rows, rocAUC: rocAUC,
        expectedPositiveRate: (TP + FN) / rows)
}
