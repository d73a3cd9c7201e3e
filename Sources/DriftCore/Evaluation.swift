import DriftStats

/// Compares a window with a prepared baseline: every feature's statistics (features in
/// parallel), p-values corrected across features, the per-feature and window verdicts.
///
/// Decision rule (README, "How driftwatch decides"): a feature drifts when its corrected
/// p-value (KS for numeric, chi² for categorical) is below `alpha` **and** its PSI reaches
/// `psiThreshold` — with large windows every p-value is tiny, so significance alone is
/// not drift. Fewer than `minCurrentValues` usable values give "insufficient data". The
/// data set drifts when drifted / evaluated ≥ `driftShare`; the window drifts when the data
/// set does, or a drifted feature has a major effect (PSI ≥ `majorPSI`), or the prediction
/// drifts (`predictionRule`), or the multivariate error leaves its band (`WindowVerdict`).
///
/// With `calibration: baseline_chunks` the PSI gate is the feature's calibrated threshold
/// (`calibration`, or computed here for chunks of the window's size when nil), and every
/// feature reports its metrics against both thresholds.
///
/// `prediction`: the model's score column and its window values, evaluated on its own (outside
/// the features' correction and drifted share) and counted in the verdict per `predictionRule`.
public func evaluateWindow(baseline: BaselineProfile, window: WindowData, config: DetectorConfig,
                           calibration: BaselineCalibration? = nil,
                           prediction: (baseline: FeatureBaseline, window: FeatureWindow?)? = nil) -> DriftReport {
    let comparison = compareWindow(baseline: baseline, window: window, config: config, prediction: prediction)
    return decideWindow(comparison, baseline: baseline, config: config, calibration: calibration)
}

/// A window's statistics against the baseline, before any verdict: what every decision
/// setting (alpha, thresholds, calibration, correction, the window rule) shares, so a window
/// can be judged by several detectors at the cost of one comparison (`driftwatch bench
/// detection`). The statistics depend only on the binning, bins, ε, JS base, KS method and χ² test.
public struct WindowComparison: Sendable {
    var baseline: DataSetInfo
    var current: DataSetInfo
    var features: [FeatureResult]
    var prediction: FeatureResult?
    /// The prediction's baseline (its thresholds are calibrated with the features').
    var predictionBaseline: FeatureBaseline?
    var extraColumns: [String]
}

/// The statistics of every feature (in parallel) and of the prediction, undecided.
public func compareWindow(baseline: BaselineProfile, window: WindowData, config: DetectorConfig,
                          prediction: (baseline: FeatureBaseline, window: FeatureWindow?)? = nil) -> WindowComparison {
    let features = baseline.features
    // The prediction is compared in the same parallel pass, as one more column.
    let columns = features.map { ($0, window.features[$0.name]) } + (prediction.map { [($0.baseline, $0.window)] } ?? [])
    let compared = concurrentMap(columns.count) { i in compareFeature(columns[i].0, columns[i].1, config: config) }
    let known = Set(features.map(\.name) + (prediction.map { [$0.baseline.name] } ?? []))
    return WindowComparison(
        baseline: DataSetInfo(rows: baseline.rows, source: baseline.source),
        current: DataSetInfo(rows: window.rows, source: window.source),
        features: Array(compared.prefix(features.count)), prediction: prediction == nil ? nil : compared.last,
        predictionBaseline: prediction?.baseline, extraColumns: window.features.keys.filter { !known.contains($0) }.sorted())
}

/// Judges compared statistics with `config`: p-values corrected across the features, each
/// feature's verdict, the drifted share, the prediction on its own, and the window verdict.
public func decideWindow(_ comparison: WindowComparison, baseline: BaselineProfile, config: DetectorConfig,
                         calibration: BaselineCalibration? = nil) -> DriftReport {
    var calibration = calibration
    if config.calibration == .baselineChunks, calibration == nil {
        var all = baseline
        if let p = comparison.predictionBaseline { all.features.append(p) }
        calibration = BaselineCalibration(baseline: all, windowRows: comparison.current.rows, config: config)
    } else if config.calibration != .baselineChunks {
        calibration = nil
    }
    var partial = comparison.features
    correctAndDecide(&partial, config: config, calibration: calibration)
    partial.sort(by: severityOrder)
    let evaluated = partial.filter { $0.status != .insufficientData }.count
    let drifted = partial.filter(\.drifted).count
    let share = evaluated == 0 ? 0 : Double(drifted) / Double(evaluated)
    let summary = DriftSummary(
        features: partial.count, evaluated: evaluated, insufficient: partial.count - evaluated,
        drifted: drifted, driftedShare: share, driftShareThreshold: config.driftShare,
        datasetDrifted: evaluated > 0 && share >= config.driftShare, extraColumns: comparison.extraColumns)
    var report = DriftReport(baseline: comparison.baseline, current: comparison.current,
                             detector: config, features: partial, summary: summary)
    if var p = comparison.prediction.map({ [$0] }) {
        // One test: its correction leaves the p-value as it is.
        correctAndDecide(&p, config: config, calibration: calibration)
        report.attach(prediction: p.first)
    }
    return report
}

/// Corrects the p-values of the results that have a verdict, and decides each.
private func correctAndDecide(_ partial: inout [FeatureResult], config: DetectorConfig, calibration: BaselineCalibration?) {
    let tested = partial.indices.filter { partial[$0].status != .insufficientData && partial[$0].testPValue != nil }
    let raw = tested.compactMap { partial[$0].testPValue }
    let adjusted: [Double]
    switch config.correction {
    case .bh: adjusted = falseDiscoveryControl(raw, method: .bh)
    case .by: adjusted = falseDiscoveryControl(raw, method: .by)
    case .bonferroni: adjusted = bonferroni(raw)
    case .none: adjusted = raw
    }
    for (k, i) in tested.enumerated() {
        if partial[i].ks != nil { partial[i].ks?.pvalueAdjusted = adjusted[k] }
        if partial[i].chi2 != nil { partial[i].chi2?.pvalueAdjusted = adjusted[k] }
        decide(&partial[i], adjustedP: adjusted[k], config: config, calibration: calibration)
    }
}

/// Drifted first, then by PSI (largest first), insufficient data last; ties by name.
func severityOrder(_ a: FeatureResult, _ b: FeatureResult) -> Bool {
    func rank(_ s: FeatureStatus) -> Int {
        switch s {
        case .drifted: 0
        case .ok: 1
        case .insufficientData: 2
        }
    }
    if rank(a.status) != rank(b.status) { return rank(a.status) < rank(b.status) }
    let pa = a.psi ?? -1
    let pb = b.psi ?? -1
    if pa != pb { return pa > pb }
    return a.name < b.name
}

private func decide(_ r: inout FeatureResult, adjustedP: Double, config: DetectorConfig, calibration: BaselineCalibration?) {
    let test = r.kind == .numeric ? "KS" : "chi²"
    let significant = adjustedP < config.alpha
    let psi = r.psi ?? 0
    var psiThreshold = config.psiThreshold
    var thresholdName = "\(formatFigure(config.psiThreshold))"
    // The effect bands' edges (EffectBand): the fixed values, or calibrated, raised by the noise.
    var moderateEdge = config.psiThreshold
    var majorEdge = config.majorPSI
    var noiseNote = ""
    if let calibration {
        var thresholds = thresholdReport(r, calibration: calibration, config: config)
        if thresholds.isCalibrated, let t = thresholds.decidingPSIThreshold {
            psiThreshold = t
            thresholdName = "\(formatFigure(t)) (calibrated on baseline chunks; fixed \(formatFigure(config.psiThreshold)))"
            // A window adds its sampling noise to the PSI it measures (n·PSI is close to a noncentral
            // χ², whose mean is the noise's plus the shift's), so the bands, which are about the shift,
            // move up by the chunks' mean PSI.
            if let noise = thresholds.metrics.first(where: { $0.metric == "psi" })?.baselineMean {
                moderateEdge += noise
                majorEdge = majorEdge.map { $0 + noise }
                noiseNote = " + noise \(formatFigure(noise)) of baseline chunks"
            }
        }
        thresholds.moderatePSI = moderateEdge
        thresholds.majorPSI = majorEdge
        r.thresholds = thresholds
    }
    let large = psi >= psiThreshold
    r.drifted = significant && large
    r.status = r.drifted ? .drifted : .ok
    if r.drifted {
        if let m = majorEdge, psi >= m {
            r.effect = .major
        } else {
            r.effect = psi >= moderateEdge ? .moderate : .small
        }
    } else {
        r.effect = nil
    }
    let p = formatFigure(adjustedP)
    let psiText = formatFigure(psi)
    var reasons: [String] = []
    reasons.append(significant
        ? "\(test) adjusted p \(p) < alpha \(formatFigure(config.alpha))"
        : "\(test) adjusted p \(p) ≥ alpha \(formatFigure(config.alpha)): not significant")
    reasons.append(large
        ? "PSI \(psiText) ≥ \(thresholdName)"
        : "PSI \(psiText) < \(thresholdName): effect too small")
    switch r.effect {
    case .major?:
        let edge = formatFigure(majorEdge ?? 0)
        let how = noiseNote.isEmpty ? "" : " (\(config.majorPSI.map { formatFigure($0) } ?? "-")\(noiseNote))"
        reasons.append("PSI \(psiText) ≥ major \(edge)\(how): a major shift, the window drifts")
    case .small?:
        reasons.append("PSI \(psiText) < \(formatFigure(moderateEdge)) (\(formatFigure(config.psiThreshold))\(noiseNote)): a small shift")
    case .moderate?, nil:
        break
    }
    if let note = r.thresholds?.note { reasons.append(note) }
    r.reasons = reasons
}

/// Evidently's default thresholds for JS distance and normalised Wasserstein, shown as the
/// fixed reference next to the calibrated ones (they do not decide).
let evidentlyJSThreshold = 0.1
let evidentlyWassersteinThreshold = 0.1

private func thresholdReport(_ r: FeatureResult, calibration: BaselineCalibration, config: DetectorConfig) -> FeatureThresholds {
    let c = calibration.features[r.name]
    func row(_ metric: String, _ value: Double?, fixed: Double?, _ spread: MetricSpread?) -> ThresholdReport {
        ThresholdReport(metric: metric, value: value, fixed: fixed, calibrated: spread?.threshold,
                        baselineMean: spread?.mean, baselineStd: spread?.std)
    }
    var metrics = [row("psi", r.psi, fixed: config.psiThreshold, c?.psi)]
    if r.kind == .numeric { metrics.append(row("ks_statistic", r.ks?.statistic, fixed: nil, c?.ksStatistic)) }
    metrics.append(row("js", r.js, fixed: evidentlyJSThreshold, c?.js))
    if r.kind == .numeric { metrics.append(row("wasserstein_normed", r.wassersteinNormed, fixed: evidentlyWassersteinThreshold, c?.wassersteinNormed)) }
    let usable = c?.unavailable == nil && c?.psi != nil
    return FeatureThresholds(decision: usable ? "calibrated" : "fixed", windowRows: calibration.windowRows,
                             chunkValues: c?.chunkValues ?? 0, chunks: c?.chunks ?? 0, k: calibration.k,
                             note: c?.unavailable ?? (c == nil ? "feature not calibrated: fixed thresholds" : nil),
                             metrics: metrics)
}

private func compareFeature(_ base: FeatureBaseline, _ window: FeatureWindow?, config: DetectorConfig) -> FeatureResult {
    let quality = window?.quality ?? QualityCounts()
    var result = FeatureResult(
        name: base.name, kind: base.kind, status: .insufficientData,
        nBaseline: base.quality.usable, nCurrent: quality.usable,
        ks: nil, chi2: nil, psi: nil, js: nil, wasserstein: nil, wassersteinNormed: nil, percentiles: nil,
        quality: QualityReport(
            total: quality.total, missing: quality.missing,
            missingShare: quality.total == 0 ? 0 : Double(quality.missing) / Double(quality.total),
            nan: quality.nan, infinite: quality.infinite, wrongType: quality.wrongType,
            outOfRange: nil, outOfRangeShare: nil, unseenCategories: [], unseenCount: 0),
        bins: nil, drifted: false, reasons: [])

    switch (base.kind, window) {
    case (_, nil):
        result.reasons = ["column missing from the current data"]
        return result
    case (.numeric, .numeric(let values, _)?):
        guard let reference = base.numeric, reference.count > 0 else {
            result.reasons = ["baseline has no usable values"]
            return result
        }
        var sorted = values
        radixSort(&sorted)
        let comparison = sorted.withUnsafeBufferPointer { compareNumeric(reference, sortedWindow: $0, options: config.numericOptions) }
        if let c = comparison {
            result.ks = KSReport(statistic: c.ks.statistic, pvalue: c.ks.pvalue, pvalueAdjusted: nil,
                                 method: c.ks.effectiveMethod.rawValue, location: finite(c.ks.statisticLocation),
                                 sign: c.ks.statisticSign)
            result.psi = finite(c.psi)
            result.js = finite(c.jensenShannon)
            result.wasserstein = finite(c.wasserstein)
            result.wassersteinNormed = finite(c.wassersteinNormed)
            result.percentiles = PercentileReport(baseline: reference.percentiles, current: c.currentPercentiles)
            result.quality.outOfRange = c.outOfRangeCount
            result.quality.outOfRangeShare = Double(c.outOfRangeCount) / Double(sorted.count)
            result.bins = c.bins
        }
    case (.categorical, .categorical(let counts, _)?):
        guard let reference = base.categorical, reference.total > 0 else {
            result.reasons = ["baseline has no usable values"]
            return result
        }
        if let c = compareCategorical(reference, currentCounts: counts, options: config.categoricalOptions) {
            result.chi2 = ChiSquareReport(statistic: finite(c.chiSquare.statistic), pvalue: c.chiSquare.pvalue,
                                          pvalueAdjusted: nil, dof: c.chiSquare.dof, test: config.chiSquare.rawValue)
            result.psi = finite(c.psi)
            result.js = finite(c.jensenShannon)
            result.quality.unseenCategories = Array(c.unseenCategories.prefix(50))
            result.quality.unseenCount = c.unseenCount
            result.bins = BinnedShares(kind: "categories", boundaries: [],
                                       reference: shares(c.referenceCounts, total: reference.total),
                                       current: shares(c.currentCounts, total: max(result.nCurrent, 1)), labels: c.categories)
        }
    case (.numeric, .categorical?), (.categorical, .numeric?):
        result.reasons = ["kind mismatch: baseline is \(base.kind.rawValue), current data is not"]
        return result
    }
    if result.nCurrent < config.minCurrentValues {
        result.status = .insufficientData
        result.reasons = ["insufficient data: \(result.nCurrent) usable current values (< \(config.minCurrentValues))"]
    } else {
        result.status = .ok
    }
    return result
}

/// Compact figure for reasons and tables: 4 significant digits, scientific when small.
public func formatFigure(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == 0 { return "0" }
    let a = abs(x)
    if a >= 1e-3 && a < 1e6 {
        var s = String(format4(x))
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
    return scientific(x)
}

private func format4(_ x: Double) -> String {
    // 4 significant digits without Foundation.
    let a = abs(x)
    var decimals = 3
    if a >= 1000 { decimals = 0 } else if a >= 100 { decimals = 1 } else if a >= 10 { decimals = 2 } else if a >= 1 { decimals = 3 } else {
        var t = a
        decimals = 3
        while t < 1 { t *= 10; decimals += 1 }
        decimals = min(decimals, 9)
    }
    return fixed(x, decimals: decimals)
}

func fixed(_ x: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (abs(x) * scale).rounded()
    let whole = Int(r / scale)
    var frac = Int(r - Double(whole) * scale)
    var fracText = ""
    for _ in 0..<decimals {
        fracText = String(frac % 10) + fracText
        frac /= 10
    }
    let sign = x < 0 && r != 0 ? "-" : ""
    return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fracText)"
}

private func scientific(_ x: Double) -> String {
    var exponent = 0
    var m = abs(x)
    while m >= 10 { m /= 10; exponent += 1 }
    while m < 1 { m *= 10; exponent -= 1 }
    var mantissa = fixed(m, decimals: 2)
    if mantissa.hasPrefix("10") {
        mantissa = "1.00"
        exponent += 1
    }
    return "\(x < 0 ? "-" : "")\(mantissa)e\(exponent)"
}
