import DriftStats

/// How p-values are corrected across the features of one window.
public enum PValueCorrection: String, ConfigurationEnum {
    case bh, by, bonferroni, none
}

/// How the model's prediction (score) column counts in the window verdict. It is evaluated
/// like a feature but on its own — outside the features' p-value correction and drifted share.
public enum PredictionRule: String, ConfigurationEnum {
    /// The prediction drifting with at least a moderate effect (`EffectBand.moderate`: corrected
    /// p < `alpha` and PSI ≥ `psi_threshold`; calibrated, PSI also ≥ `psi_threshold` plus the
    /// chunks' mean PSI) makes the window drifted: the default. The score is what the model's
    /// decisions are made on, and drift in the features the model relies on shows there (README,
    /// "How driftwatch decides").
    case moderate
    /// Only a major effect (PSI ≥ `major_psi`, or its calibrated equivalent) counts.
    case major
    /// Reported, never counted (the verdict before issue 14).
    case ignored
}

/// The drift decision rule and the statistics' settings. Defaults are the README's, and are
/// set here only (`driftwatch check`, the bench and the service start from `DetectorConfig()`).
public struct DetectorConfig: Sendable, Codable, Equatable {
    /// Significance level for the corrected p-value.
    public var alpha: Double = 0.05
    /// Effect-size gate: a feature drifts only when PSI reaches this too.
    public var psiThreshold: Double = 0.1
    /// Share of drifted features at which the whole data set counts as drifted.
    public var driftShare: Double = 0.5
    /// A drifted feature whose PSI reaches this (the credit-scoring "major shift" band,
    /// Yurdakul 2018) makes the window drifted whatever the share; with calibrated thresholds,
    /// this plus the PSI that sampling noise alone gives a window of that size (the baseline
    /// chunks' mean). nil turns the rule off (`"major_psi": null`).
    public var majorPSI: Double? = 0.25
    /// How the prediction's drift counts in the window verdict.
    public var predictionRule: PredictionRule = .moderate
    public var binning: BinningPreset = .quantile
    /// Quantile bins of the `quantile` preset.
    public var bins: Int = 10
    public var psiEpsilon: Double = 1e-4
    /// Jensen–Shannon log base; nil = natural log (the `nannyml` preset uses 2).
    public var jsBase: Double? = nil
    public var ksMethod: KSMethod = .auto
    public var chiSquare: ChiSquareKind = .contingency
    public var correction: PValueCorrection = .bh
    /// Fewer usable current values than this give "insufficient data", not a verdict.
    public var minCurrentValues: Int = 30
    /// Where the PSI gate comes from: `psi_threshold` always, or baseline chunks of the
    /// window's size (mean + `calibration_k`·σ; see BaselineCalibration).
    public var calibration: ThresholdCalibration = .fixed
    public var calibrationK: Double = 3

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case alpha, psiThreshold = "psi_threshold", driftShare = "drift_share", majorPSI = "major_psi"
        case predictionRule = "prediction_rule", binning, bins
        case psiEpsilon = "psi_epsilon", jsBase = "js_base", ksMethod = "ks_method"
        case chiSquare = "chi2", correction, minCurrentValues = "min_current_values"
        case calibration, calibrationK = "calibration_k"
    }

    /// Unknown keys are errors that name the key's path (a misspelt `"major_ps"` silently falling
    /// back to the default is the worst kind of configuration bug); absent keys take the defaults
    /// above.
    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = DetectorConfig()
        alpha = try c.value(.alpha, or: d.alpha)
        psiThreshold = try c.value(.psiThreshold, or: d.psiThreshold)
        driftShare = try c.value(.driftShare, or: d.driftShare)
        // Absent: the default; an explicit null turns the rule off.
        majorPSI = c.contains(.majorPSI) ? try c.optional(.majorPSI) : d.majorPSI
        predictionRule = try c.value(.predictionRule, or: d.predictionRule)
        binning = try c.value(.binning, or: d.binning)
        bins = try c.value(.bins, or: d.bins)
        psiEpsilon = try c.value(.psiEpsilon, or: d.psiEpsilon)
        jsBase = try c.value(.jsBase, or: d.jsBase)
        ksMethod = try c.value(.ksMethod, or: d.ksMethod)
        chiSquare = try c.value(.chiSquare, or: d.chiSquare)
        correction = try c.value(.correction, or: d.correction)
        minCurrentValues = try c.value(.minCurrentValues, or: d.minCurrentValues)
        calibration = try c.value(.calibration, or: d.calibration)
        calibrationK = try c.value(.calibrationK, or: d.calibrationK)
        try validate()
    }

    /// Every setting, `major_psi` as null when the rule is off (absent would read back as the default).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(psiThreshold, forKey: .psiThreshold)
        try c.encode(driftShare, forKey: .driftShare)
        if let majorPSI { try c.encode(majorPSI, forKey: .majorPSI) } else { try c.encodeNil(forKey: .majorPSI) }
        try c.encode(predictionRule, forKey: .predictionRule)
        try c.encode(binning, forKey: .binning)
        try c.encode(bins, forKey: .bins)
        try c.encode(psiEpsilon, forKey: .psiEpsilon)
        try c.encodeIfPresent(jsBase, forKey: .jsBase)
        try c.encode(ksMethod, forKey: .ksMethod)
        try c.encode(chiSquare, forKey: .chiSquare)
        try c.encode(correction, forKey: .correction)
        try c.encode(minCurrentValues, forKey: .minCurrentValues)
        try c.encode(calibration, forKey: .calibration)
        try c.encode(calibrationK, forKey: .calibrationK)
    }

    /// Rejects settings that would make every verdict meaningless, with a message a person can act on.
    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: m) }
        guard alpha > 0 && alpha < 1 else { throw fail("alpha must be in (0, 1), got \(alpha)") }
        guard psiThreshold >= 0 && psiThreshold.isFinite else { throw fail("psi_threshold must be ≥ 0, got \(psiThreshold)") }
        guard driftShare > 0 && driftShare <= 1 else { throw fail("drift_share must be in (0, 1], got \(driftShare)") }
        if let m = majorPSI, !(m >= 0 && m.isFinite) { throw fail("major_psi must be ≥ 0 (or null to turn the rule off), got \(m)") }
        guard bins >= 2 && bins <= 1000 else { throw fail("bins must be between 2 and 1000, got \(bins)") }
        guard psiEpsilon > 0 && psiEpsilon < 1 else { throw fail("psi_epsilon must be in (0, 1), got \(psiEpsilon)") }
        if let b = jsBase, !(b > 0 && b != 1) { throw fail("js_base must be > 0 and ≠ 1, got \(b)") }
        guard minCurrentValues >= 1 else { throw fail("min_current_values must be ≥ 1, got \(minCurrentValues)") }
        guard calibrationK > 0 && calibrationK <= 10 else { throw fail("calibration_k must be in (0, 10], got \(calibrationK)") }
    }

    var numericOptions: NumericComparisonOptions {
        var o = NumericComparisonOptions()
        o.binning = binning
        o.psiEpsilon = psiEpsilon
        o.jsBase = jsBase
        o.ksMethod = ksMethod
        return o
    }

    var categoricalOptions: CategoricalComparisonOptions {
        var o = CategoricalComparisonOptions()
        o.chiSquare = chiSquare
        o.binning = binning
        o.psiEpsilon = psiEpsilon
        o.jsBase = jsBase
        return o
    }
}

/// A setting that decodes but cannot work (out of range, contradicting another), in words.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
