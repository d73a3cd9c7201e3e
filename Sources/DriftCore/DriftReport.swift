import DriftStats

/// Non-finite numbers have no JSON form; they are reported as null.
@inline(__always)
func finite(_ x: Double?) -> Double? {
    guard let x, x.isFinite else { return nil }
    return x
}

/// A feature's verdict in one window.
public enum FeatureStatus: String, Sendable, Codable {
    case drifted
    case ok
    case insufficientData = "insufficient_data"
}

/// The KS test of a numeric feature as reported: statistic, p-value and its corrected value.
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

/// The chi-squared test of a categorical feature as reported.
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

/// A numeric feature's percentiles in the baseline and the window, and their shifts.
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

/// A feature's data quality in the window: missing values, type mismatches, out-of-range values.
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
    /// How large the shift of a drifted feature is (nil when it did not drift): `major` alone
    /// makes the window drifted.
    public var effect: EffectBand? = nil

    enum CodingKeys: String, CodingKey {
        case name, kind, status, nBaseline = "n_baseline", nCurrent = "n_current", ks, chi2, psi, js
        case wasserstein, wassersteinNormed = "wasserstein_normed", percentiles, quality, bins, drifted, reasons
        case thresholds, effect
    }

    /// The p-value the decision uses (KS for numeric, chi² for categorical).
    var testPValue: Double? { ks?.pvalue ?? chi2?.pvalue }
}

/// The size of a drifted feature's shift, in the PSI bands of credit scoring (Siddiqi 2006;
/// Yurdakul 2018: below 0.1 no significant change, 0.1–0.25 moderate, above 0.25 major): PSI below
/// `psi_threshold` is `small` (only calibrated thresholds let such a feature drift), from
/// `psi_threshold` `moderate`, from `major_psi` `major`. With calibrated thresholds each band edge
/// is raised by the PSI that sampling noise alone gives a window of that size (the baseline chunks'
/// mean), so that the bands measure the shift, not the window's noise.
public enum EffectBand: String, Sendable, Codable, CaseIterable {
    case small, moderate, major
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

/// A feature's thresholds with `calibration: baseline_chunks`: which one decided, the chunks
/// behind them, and every metric against its fixed and calibrated threshold.
public struct FeatureThresholds: Sendable, Codable, Equatable {
    /// Which PSI threshold decided: "calibrated", or "fixed" when the baseline was too small.
    public var decision: String
    public var windowRows: Int
    public var chunkValues: Int
    public var chunks: Int
    public var k: Double
    public var note: String?
    public var metrics: [ThresholdReport]
    /// The effect bands' PSI edges that applied (`EffectBand`): `psi_threshold` and `major_psi`,
    /// plus the chunks' mean PSI when calibrated; `major_psi` nil when that rule is off.
    public var moderatePSI: Double? = nil
    public var majorPSI: Double? = nil

    enum CodingKeys: String, CodingKey {
        case decision, windowRows = "window_rows", chunkValues = "chunk_values", chunks, k, note, metrics
        case moderatePSI = "moderate_psi", majorPSI = "major_psi"
    }

    public var isCalibrated: Bool { decision == "calibrated" }

    /// The PSI threshold that decided: the calibrated one, or the fixed one when the baseline was too small.
    public var decidingPSIThreshold: Double? {
        let psi = metrics.first { $0.metric == "psi" }
        return isCalibrated ? psi?.calibrated : psi?.fixed
    }
}

/// A compared table: its rows and where it came from.
public struct DataSetInfo: Sendable, Codable, Equatable {
    public var rows: Int
    public var source: String?
}

/// Why a window counts as drifted: the rules of "How driftwatch decides" (README), each of which
/// alone makes the window drifted.
public enum VerdictRule: String, Sendable, Codable, CaseIterable {
    /// The drifted share of the features reached `drift_share`.
    case share
    /// A feature drifted with a major effect (PSI ≥ `major_psi`, or its calibrated equivalent).
    case majorFeature = "major_feature"
    /// The prediction drifted (`prediction_rule`).
    case prediction
    /// The PCA reconstruction error left its band.
    case multivariate
}

/// The window's verdict — what episodes count and `driftwatch check` exits 1 on — and the
/// rules that made it.
public struct WindowVerdict: Sendable, Codable, Equatable {
    public var drifted: Bool
    /// The rules that held, in `VerdictRule` order; empty when the window is clean.
    public var by: [VerdictRule]
    /// The features that drifted with a major effect, most severe first (rule `major_feature`).
    public var majorFeatures: [String]
    /// The prediction column's name when its drift counted (rule `prediction`).
    public var prediction: String?

    enum CodingKeys: String, CodingKey { case drifted, by, majorFeatures = "major_features", prediction }

    public init(by: [VerdictRule], majorFeatures: [String] = [], prediction: String? = nil) {
        self.by = VerdictRule.allCases.filter(by.contains)
        self.drifted = !by.isEmpty
        self.majorFeatures = majorFeatures
        self.prediction = prediction
    }

    /// The verdict on decided features, the prediction and the summary's share and
    /// multivariate flags, under `config`'s window rule.
    public init(features: [FeatureResult], prediction: FeatureResult?, summary: DriftSummary, config: DetectorConfig) {
        var by: [VerdictRule] = []
        if summary.datasetDrifted { by.append(.share) }
        let major = features.filter { $0.effect == .major }.map(\.name)
        if !major.isEmpty { by.append(.majorFeature) }
        var counted: String?
        if let p = prediction {
            let counts: Bool
            switch config.predictionRule {
            case .moderate: counts = p.effect == .moderate || p.effect == .major
            case .major: counts = p.effect == .major
            case .ignored: counts = false
            }
            if counts {
                by.append(.prediction)
                counted = p.name
            }
        }
        if summary.multivariateDrifted == true { by.append(.multivariate) }
        self.init(by: by, majorFeatures: major, prediction: counted)
    }
}

/// The window's counts and verdicts: the drifted share of the features, and the window verdict.
public struct DriftSummary: Sendable, Codable, Equatable {
    public var features: Int
    /// Features with a verdict (not insufficient data).
    public var evaluated: Int
    public var insufficient: Int
    public var drifted: Int
    /// drifted / evaluated.
    public var driftedShare: Double
    public var driftShareThreshold: Double
    /// The drifted share reached `drift_share` (Evidently's data-set drift; one of the window's rules).
    public var datasetDrifted: Bool
    /// Current columns the baseline does not have (not evaluated).
    public var extraColumns: [String]
    /// The PCA reconstruction error left its band (nil when multivariate drift is off).
    public var multivariateDrifted: Bool? = nil
    /// The window verdict and why (nil only in reports stored before it existed).
    public var verdict: WindowVerdict? = nil

    /// The window's verdict, what episodes count: `verdict`, or for a report stored before it
    /// existed, the share or the multivariate error.
    public var windowDrifted: Bool { verdict?.drifted ?? (datasetDrifted || multivariateDrifted == true) }

    enum CodingKeys: String, CodingKey {
        case features, evaluated, insufficient, drifted, driftedShare = "drifted_share"
        case driftShareThreshold = "drift_share_threshold", datasetDrifted = "dataset_drifted"
        case extraColumns = "extra_columns", multivariateDrifted = "multivariate_drifted", verdict
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
    /// The model's prediction column, evaluated on its own (outside the features' correction and
    /// drifted share; counted in the verdict per `prediction_rule`). Absent when there is none.
    public private(set) var prediction: FeatureResult?
    /// PCA reconstruction error against its baseline band (absent when off or with fewer than
    /// two columns). Set with `attach(multivariate:)`, which also records it in the summary.
    public private(set) var multivariate: MultivariateResult?

    init(baseline: DataSetInfo, current: DataSetInfo, detector: DetectorConfig, features: [FeatureResult], summary: DriftSummary) {
        self.baseline = baseline
        self.current = current
        self.detector = detector
        self.features = features
        self.summary = summary
        updateVerdict()
    }

    public mutating func attach(multivariate result: MultivariateResult?) {
        multivariate = result
        summary.multivariateDrifted = result?.drifted
        updateVerdict()
    }

    /// The prediction's result (decided on its own, with the features' settings).
    public mutating func attach(prediction result: FeatureResult?) {
        prediction = result
        updateVerdict()
    }

    private mutating func updateVerdict() {
        summary.verdict = WindowVerdict(features: features, prediction: prediction, summary: summary, config: detector)
    }

    /// Why the window is (or is not) drifted, in a sentence (table footer, report page, alert).
    public var verdictExplanation: String {
        explainVerdict(summary: summary, features: features, prediction: prediction, multivariate: multivariate, detector: detector)
    }
}

/// Why a window is (or is not) drifted, in one sentence with the figures that decided:
/// `driftwatch check`'s footer, the report page's banner and the alert's description.
public func explainVerdict(summary s: DriftSummary, features: [FeatureResult], prediction: FeatureResult?,
                           multivariate: MultivariateResult?, detector: DetectorConfig) -> String {
    let verdict = s.verdict ?? WindowVerdict(features: features, prediction: prediction, summary: s, config: detector)
    let byName = Dictionary(features.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    func psi(_ f: FeatureResult?) -> String { f?.psi.map { "PSI \(formatFigure($0))" } ?? "PSI -" }
    let shareText = "\(s.drifted) of \(s.evaluated) features drifted (share \(formatFigure(s.driftedShare)) "
        + "\(s.datasetDrifted ? "≥" : "<") drift_share \(formatFigure(s.driftShareThreshold)))"
    guard verdict.drifted else {
        var clean = "window not drifted: \(shareText)"
        if let m = detector.majorPSI { clean += ", no drifted feature with PSI ≥ major \(formatFigure(m))" }
        if let p = prediction, detector.predictionRule != .ignored {
            clean += ", prediction \(p.name) " + (p.effect.map { "drifted with a \($0.rawValue) effect only" } ?? "not drifted")
        }
        return clean
    }
    var parts: [String] = []
    for rule in verdict.by {
        switch rule {
        case .share:
            parts.append("share: \(shareText)")
        case .majorFeature:
            let listed = verdict.majorFeatures.prefix(5).map { "\($0) (\(psi(byName[$0])))" }.joined(separator: ", ")
            let more = verdict.majorFeatures.count > 5 ? " and \(verdict.majorFeatures.count - 5) more" : ""
            let band = detector.majorPSI.map { formatFigure($0) } ?? "-"
            let calibrated = detector.calibration == .baselineChunks ? " + the window's noise floor" : ""
            parts.append("major_feature: \(listed)\(more) drifted with PSI ≥ major \(band)\(calibrated)")
        case .prediction:
            let band = prediction?.effect.map { ", \($0.rawValue) effect" } ?? ""
            parts.append("prediction: \(verdict.prediction ?? prediction?.name ?? "the prediction") drifted (\(psi(prediction))\(band))")
        case .multivariate:
            if let m = multivariate {
                parts.append("multivariate: PCA reconstruction error \(formatFigure(m.reconstructionError)) outside [\(formatFigure(m.lowerThreshold)), \(formatFigure(m.upperThreshold))]")
            } else {
                parts.append("multivariate: the reconstruction error left its band")
            }
        }
    }
    return "window drifted — " + parts.joined(separator: "; ")
}
