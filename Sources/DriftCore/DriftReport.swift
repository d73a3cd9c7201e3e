import DriftStats

/// Non-finite numbers have no JSON form; they are reported as null.
@inline(__always)
func finite(_ x: Double?) -> Double? {
    guard let x, x.isFinite else { return nil }
    return x
}

public enum FeatureStatus: String, Sendable, Codable {
    case drifted
    case ok
    case insufficientData = "insufficient_data"
}

public struct KSReport: Sendable, Codable, Equatable {
    public var statistic: Double
    public var pvalue: Double
    public var pvalueAdjusted: Double?
    /// What scipy would report as the method actually used ("exact" or "asymp").
    public var method: String
    public var location: Double?
    public var sign: Int

    enum CodingKeys: String, CodingKey {
        case statistic, pvalue, pvalueAdjusted = "pvalue_adjusted", method, location, sign
    }
}

public struct ChiSquareReport: Sendable, Codable, Equatable {
    /// null when infinite (a category the baseline never had, goodness-of-fit test).
    public var statistic: Double?
    public var pvalue: Double
    public var pvalueAdjusted: Double?
    public var dof: Int
    public var test: String

    enum CodingKeys: String, CodingKey {
        case statistic, pvalue, pvalueAdjusted = "pvalue_adjusted", dof, test
    }
}

public struct PercentileReport: Sendable, Codable, Equatable {
    public var baseline: Percentiles
    public var current: Percentiles
    /// current − baseline, per percentile.
    public var shift: [String: Double]
    /// shift / baseline IQR; null when the IQR is 0.
    public var shiftIQR: [String: Double]?

    enum CodingKeys: String, CodingKey { case baseline, current, shift, shiftIQR = "shift_iqr" }

    init(baseline: Percentiles, current: Percentiles) {
        self.baseline = baseline
        self.current = current
        var shift: [String: Double] = [:]
        var relative: [String: Double] = [:]
        let iqr = baseline.iqr
        for level in Percentiles.levels {
            guard let b = baseline[level], let c = current[level] else { continue }
            shift["p\(level)"] = c - b
            if iqr > 0 { relative["p\(level)"] = (c - b) / iqr }
        }
        self.shift = shift
        self.shiftIQR = iqr > 0 ? relative : nil
    }
}

public struct QualityReport: Sendable, Codable, Equatable {
    public var total: Int
    public var missing: Int
    public var missingShare: Double
    public var nan: Int
    public var infinite: Int
    public var wrongType: Int
    public var outOfRange: Int?
    /// Share of usable current values outside the baseline's [min, max] (numeric only).
    public var outOfRangeShare: Double?
    /// Current categories the baseline never had (first 50), and how many rows carry them.
    public var unseenCategories: [String]
    public var unseenCount: Int

    enum CodingKeys: String, CodingKey {
        case total, missing, missingShare = "missing_share", nan, infinite, wrongType = "wrong_type"
        case outOfRange = "out_of_range", outOfRangeShare = "out_of_range_share"
        case unseenCategories = "unseen_categories", unseenCount = "unseen_count"
    }
}

/// The verdict and figures for one feature in one window: the object `driftwatch check
/// --format json` prints and the service stores.
public struct FeatureResult: Sendable, Codable, Equatable {
    public var name: String
    public var kind: FeatureKind
    public var status: FeatureStatus
    public var nBaseline: Int
    public var nCurrent: Int
    public var ks: KSReport?
    public var chi2: ChiSquareReport?
    public var psi: Double?
    public var js: Double?
    public var wasserstein: Double?
    public var wassersteinNormed: Double?
    public var percentiles: PercentileReport?
    public var quality: QualityReport
    /// Bins behind PSI/JS (edges, cut points or keys, and both sides' shares), for plots.
    public var bins: BinnedShares?
    public var drifted: Bool
    public var reasons: [String]
    /// The metrics against their fixed and baseline-calibrated thresholds (`calibration:
    /// baseline_chunks` only).
    public var thresholds: FeatureThresholds? = nil

    enum CodingKeys: String, CodingKey {
        case name, kind, status, nBaseline = "n_baseline", nCurrent = "n_current", ks, chi2, psi, js
        case wasserstein, wassersteinNormed = "wasserstein_normed", percentiles, quality, bins, drifted, reasons
        case thresholds
    }

    /// The p-value the decision uses (KS for numeric, chi² for categorical).
    var testPValue: Double? { ks?.pvalue ?? chi2?.pvalue }
}

/// One metric of a feature next to its thresholds, so a reader sees both rules.
public struct ThresholdReport: Sendable, Codable, Equatable {
    /// psi, ks_statistic, js or wasserstein_normed.
    public var metric: String
    public var value: Double?
    /// The fixed threshold: `psi_threshold` for PSI; Evidently's defaults (0.1) for JS and
    /// normalised Wasserstein; none for KS D (the fixed rule uses its p-value).
    public var fixed: Double?
    /// Mean + k·σ over baseline chunks of the window's size.
    public var calibrated: Double?
    public var baselineMean: Double?
    public var baselineStd: Double?

    enum CodingKeys: String, CodingKey {
        case metric, value, fixed, calibrated, baselineMean = "baseline_mean", baselineStd = "baseline_std"
    }
}

public struct FeatureThresholds: Sendable, Codable, Equatable {
    /// Which PSI threshold decided: "calibrated", or "fixed" when the baseline was too small.
    public var decision: String
    public var windowRows: Int
    public var chunkValues: Int
    public var chunks: Int
    public var k: Double
    public var note: String?
    public var metrics: [ThresholdReport]

    enum CodingKeys: String, CodingKey {
        case decision, windowRows = "window_rows", chunkValues = "chunk_values", chunks, k, note, metrics
    }

    public var isCalibrated: Bool { decision == "calibrated" }

    /// The PSI threshold that decided: the calibrated one, or the fixed one when the baseline was too small.
    public var decidingPSIThreshold: Double? {
        let psi = metrics.first { $0.metric == "psi" }
        return isCalibrated ? psi?.calibrated : psi?.fixed
    }
}

public struct DataSetInfo: Sendable, Codable, Equatable {
    public var rows: Int
    public var source: String?
}

public struct DriftSummary: Sendable, Codable, Equatable {
    public var features: Int
    /// Features with a verdict (not insufficient data).
    public var evaluated: Int
    public var insufficient: Int
    public var drifted: Int
    /// drifted / evaluated.
    public var driftedShare: Double
    public var driftShareThreshold: Double
    public var datasetDrifted: Bool
    /// Current columns the baseline does not have (not evaluated).
    public var extraColumns: [String]
    /// The PCA reconstruction error left its band (nil when multivariate drift is off).
    public var multivariateDrifted: Bool? = nil

    /// The window's verdict, what episodes count: the features' share reached `drift_share`, or
    /// the multivariate reconstruction error left its band.
    public var windowDrifted: Bool { datasetDrifted || multivariateDrifted == true }

    enum CodingKeys: String, CodingKey {
        case features, evaluated, insufficient, drifted, driftedShare = "drifted_share"
        case driftShareThreshold = "drift_share_threshold", datasetDrifted = "dataset_drifted"
        case extraColumns = "extra_columns", multivariateDrifted = "multivariate_drifted"
    }
}

/// One window compared with the baseline.
public struct DriftReport: Sendable, Codable, Equatable {
    public var baseline: DataSetInfo
    public var current: DataSetInfo
    public var detector: DetectorConfig
    /// Sorted by severity: drifted first, then by PSI, insufficient data last.
    public var features: [FeatureResult]
    public var summary: DriftSummary
    /// PCA reconstruction error against its baseline band (absent when off or with fewer than
    /// two columns). Set with `attach(multivariate:)`, which also records it in the summary.
    public private(set) var multivariate: MultivariateResult?

    init(baseline: DataSetInfo, current: DataSetInfo, detector: DetectorConfig, features: [FeatureResult], summary: DriftSummary) {
        self.baseline = baseline
        self.current = current
        self.detector = detector
        self.features = features
        self.summary = summary
    }

    public mutating func attach(multivariate result: MultivariateResult?) {
        multivariate = result
        summary.multivariateDrifted = result?.drifted
    }
}
