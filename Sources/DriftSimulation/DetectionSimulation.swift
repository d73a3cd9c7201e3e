import DriftCore
import DriftStats
import Foundation

/// Seeded streams of windows for measuring driftwatch's error rates (`driftwatch bench detection`):
/// how often a detector flags windows and confirms episodes when nothing changed, and how often
/// and how fast it confirms known injected changes. Every window goes through the same code as the
/// service's: `compareWindow`/`decideWindow` (KS/chi², BH, the PSI gate, the major-effect rule,
/// the prediction judged on its own), the PCA reconstruction error, the window verdict, and the
/// `EpisodeTracker` with the model's confirmation policy.
///
/// The simulated models (`SimulatedModel`) are fraud models of 5, 36 and 100 features with a
/// score computed from the features; see there.
public struct DetectionSimulation: Sendable {
    /// Sizes of the simulation and the detector judged. Defaults are the README's table.
    public struct Options: Sendable {
        public var baselineRows = 50_000
        public var windowRows = 1_000
        public var noDriftRuns = 500
        /// Windows per no-drift run (24 hourly windows: one day).
        public var noDriftWindows = 24
        public var shiftRuns = 200
        /// Clean windows before the change starts (a false confirmation there is counted).
        public var cleanWindows = 5
        /// Windows after the change starts.
        public var driftedWindows = 6
        public var seed: UInt64 = 20_261_129
        public var confirm = ModelSettings.defaultConfirm
        public var resolve = ModelSettings.defaultResolve
        /// The detector judged (`DetectorConfig()`'s defaults unless changed); the calibrated mode
        /// is the same settings with `calibration: baseline_chunks`.
        public var detector = DetectorConfig()
        public var varianceShare = 0.65
        public init() {}
    }

    /// One change of a model's data, applied from the window `cleanWindows` on.
    public enum Change: Sendable, Equatable {
        /// A feature's latent normal moves by `sigmas` (numeric: its values move monotonically).
        case meanShift(String, sigmas: Double)
        /// A feature's latent normal is scaled by `factor`.
        case scale(String, factor: Double)
        /// A categorical feature: this share of rows takes a category the baseline never had.
        case newCategory(String, share: Double)
        /// A categorical feature's shares tilt towards its risky categories: share ∝ share·e^(strength·risk).
        case tilt(String, strength: Double)
        /// The correlation of the pair whose first feature is named.
        case correlation(String, rho: Double)

        var feature: String {
            switch self {
            case .meanShift(let f, _), .scale(let f, _), .newCategory(let f, _), .tilt(let f, _), .correlation(let f, _): f
            }
        }
    }

    /// What a scenario is for: one of the change types of the original table, or a minority of
    /// the features drifting strongly (issue 14).
    public enum ScenarioKind: String, Sendable, Codable {
        case changeType = "change_type"
        case minority
    }

    /// A named set of changes.
    public struct Scenario: Sendable {
        public var name: String
        public var kind: ScenarioKind
        public var changes: [Change]
        public init(name: String, kind: ScenarioKind, changes: [Change]) {
            self.name = name
            self.kind = kind
            self.changes = changes
        }

        /// The features whose marginal distribution changes (the correlation flip changes none).
        var changedFeatures: [String] {
            var seen: [String] = []
            for c in changes {
                if case .correlation = c { continue }
                if !seen.contains(c.feature) { seen.append(c.feature) }
            }
            return seen
        }
    }

    /// The thresholds a detector uses: `psi_threshold` always, or calibrated on baseline chunks.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case fixed
        case calibrated = "baseline_chunks"
    }

    /// How many windows each verdict rule held in.
    public struct RuleCounts: Sendable, Codable, Equatable {
        public var share = 0
        public var majorFeature = 0
        public var prediction = 0
        public var multivariate = 0

        enum CodingKeys: String, CodingKey { case share, majorFeature = "major_feature", prediction, multivariate }

        mutating func add(_ rules: [VerdictRule]) {
            for r in rules {
                switch r {
                case .share: share += 1
                case .majorFeature: majorFeature += 1
                case .prediction: prediction += 1
                case .multivariate: multivariate += 1
                }
            }
        }

        static func + (a: RuleCounts, b: RuleCounts) -> RuleCounts {
            RuleCounts(share: a.share + b.share, majorFeature: a.majorFeature + b.majorFeature,
                       prediction: a.prediction + b.prediction, multivariate: a.multivariate + b.multivariate)
        }

        public subscript(rule: VerdictRule) -> Int {
            switch rule {
            case .share: share
            case .majorFeature: majorFeature
            case .prediction: prediction
            case .multivariate: multivariate
            }
        }
    }

    /// Streams with no change: false alarms.
    public struct NoDriftResult: Sendable, Codable {
        public var mode: Mode
        public var runs: Int
        public var windows: Int
        public var windowsFlagged: Int
        /// Windows in which each rule held (a window can count under several).
        public var flaggedBy: RuleCounts
        /// Runs in which an episode was confirmed: false episodes.
        public var runsWithConfirmedEpisode: Int
        /// Windows in which each feature (and the prediction) drifted.
        public var featureFlags: [String: Int]
        /// Upper end of the 95 % Wilson interval of the false-episode rate: what the runs can vouch for.
        public var falseEpisodeRateUpper95 = 0.0
        /// The false-episode rate the window flag rate implies for independent windows (exactly, for the
        /// confirmation policy), and the same from the upper end of the flag rate's 95 % Wilson interval:
        /// 24× the evidence of the runs alone. nil for policies of more than 16 windows.
        public var impliedFalseEpisodeRate: Double?
        public var impliedFalseEpisodeRateUpper95: Double?
        public var windowFlagRate: Double { windows == 0 ? 0 : Double(windowsFlagged) / Double(windows) }
        public var falseEpisodeRate: Double { runs == 0 ? 0 : Double(runsWithConfirmedEpisode) / Double(runs) }

        enum CodingKeys: String, CodingKey {
            case mode, runs, windows, windowsFlagged = "windows_flagged", flaggedBy = "flagged_by"
            case runsWithConfirmedEpisode = "runs_with_confirmed_episode", featureFlags = "feature_flags"
            case falseEpisodeRateUpper95 = "false_episode_rate_upper95", impliedFalseEpisodeRate = "implied_false_episode_rate"
            case impliedFalseEpisodeRateUpper95 = "implied_false_episode_rate_upper95"
        }
    }

    /// Upper end of the Wilson score interval (Wilson 1927) for `successes` of `trials` at z (1.96: 95 %).
    public static func wilsonUpper(_ successes: Int, of trials: Int, z: Double = 1.96) -> Double {
        guard trials > 0 else { return 1 }
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        return Swift.min(1, (p + z2 / (2 * n) + z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n))
    }

    /// P(an episode is confirmed within `windows` independent windows, each drifted with probability
    /// `q`) under the policy "`confirm.windows` of the last `confirm.of` windows": exact, by dynamic
    /// programming over the verdicts of the last `of − 1` windows. nil when `of` > 16.
    public static func confirmationProbability(windowRate q: Double, windows: Int, confirm: ModelSettings.ConfirmSpec) -> Double? {
        let of = confirm.of
        guard of >= 1, of <= 16 else { return nil }
        let keep = (1 << (of - 1)) - 1
        var mass = [Double](repeating: 0, count: keep + 1)
        mass[0] = 1
        var confirmed = 0.0
        for _ in 0..<windows {
            var next = [Double](repeating: 0, count: keep + 1)
            for (state, m) in mass.enumerated() where m > 0 {
                for flagged in 0...1 {
                    let p = flagged == 1 ? q : 1 - q
                    let recent = (state << 1) | flagged  // the last `of` verdicts, newest in bit 0
                    if recent.nonzeroBitCount >= confirm.windows {
                        confirmed += m * p
                    } else {
                        next[recent & keep] += m * p
                    }
                }
            }
            mass = next
        }
        return confirmed
    }

    /// A change's own size: a feature's PSI on a large changed sample against the baseline.
    public struct FeaturePSI: Sendable, Codable, Equatable {
        public var name: String
        public var psi: Double
    }

    /// Streams that change: detection and its delay.
    public struct ShiftResult: Sendable, Codable {
        public var scenario: String
        public var kind: ScenarioKind
        public var mode: Mode
        public var runs: Int
        /// PSI of each changed feature on 50,000 changed rows against the baseline, largest first:
        /// the change's own size, free of a window's sampling noise (empty for the correlation flip).
        public var shiftPSI: [FeaturePSI]
        /// The prediction's PSI on the same rows.
        public var predictionShiftPSI: Double?
        /// The rules the change's size alone should trigger with the detector's settings (a changed
        /// feature's shift PSI ≥ `major_psi`, the prediction's ≥ `psi_threshold`, the changed features'
        /// share ≥ `drift_share`); the detection target applies when there is one.
        public var expectedBy: [VerdictRule]
        /// Mean window PSI of the largest change, over the changed windows (noise included).
        public var meanPSI: Double?
        /// Confirmed within `confirm.windows` windows of the change: the fastest the policy allows.
        public var detectedWithinPolicyMinimum: Int
        /// Confirmed at any changed window.
        public var detected: Int
        /// Confirmed before the change started (false episodes during the clean prefix).
        public var confirmedBeforeShift: Int
        /// Windows from the change's start to the confirming window, 1-based, of detected runs.
        public var delays: [Int]
        /// Changed windows, and in how many each rule held.
        public var shiftedWindows: Int
        public var shiftedBy: RuleCounts

        enum CodingKeys: String, CodingKey {
            case scenario, kind, mode, runs, shiftPSI = "shift_psi", predictionShiftPSI = "prediction_shift_psi"
            case expectedBy = "expected_by", meanPSI = "mean_window_psi", detectedWithinPolicyMinimum = "detected_within_policy_minimum"
            case detected, confirmedBeforeShift = "confirmed_before_shift", delays, shiftedWindows = "shifted_windows"
            case shiftedBy = "shifted_by"
        }

        public var medianDelay: Double? {
            guard !delays.isEmpty else { return nil }
            let s = delays.sorted()
            return s.count % 2 == 1 ? Double(s[s.count / 2]) : Double(s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        public var detectionRate: Double { runs == 0 ? 0 : Double(detected) / Double(runs) }
        public var minimumDelayRate: Double { runs == 0 ? 0 : Double(detectedWithinPolicyMinimum) / Double(runs) }
    }

    public let options: Options
    public let model: SimulatedModel
    let profile: BaselineProfile
    let predictionBaseline: FeatureBaseline
    let encoding: MultivariateEncoding
    let reconstruction: ReconstructionModel?
    let detectors: [(mode: Mode, config: DetectorConfig, calibration: BaselineCalibration?)]

    public init(model preset: SimulatedModel.Preset = .features5, options: Options) {
        self.options = options
        let model = SimulatedModel(preset)
        self.model = model
        var g = SeededGenerator(seed: options.seed)
        let baseline = model.table(rows: options.baselineRows, scenario: nil, generator: &g, source: "simulated baseline")
        var fixed = options.detector
        fixed.calibration = .fixed
        profile = BaselineProfile(table: baseline.features, config: fixed)
        let scores = BaselineProfile(table: Table(source: "simulated baseline", rows: options.baselineRows,
                                                  columns: [.numeric(baseline.prediction)]), config: fixed)
        predictionBaseline = scores.features[0]
        let encoding = MultivariateEncoding(baseline: baseline.features, columns: baseline.features.columns.map(\.name))
        self.encoding = encoding
        reconstruction = encoding.encode(baseline.features).flatMap {
            ReconstructionModel(featureNames: encoding.names, columns: $0, varianceShare: options.varianceShare,
                                chunkSize: options.windowRows)
        }
        var calibrated = fixed
        calibrated.calibration = .baselineChunks
        // Features and prediction, as the service calibrates them (ModelBaseline.calibration).
        var all = profile
        all.features.append(predictionBaseline)
        detectors = [
            (.fixed, fixed, nil),
            (.calibrated, calibrated, BaselineCalibration(baseline: all, windowRows: options.windowRows, config: calibrated)),
        ]
    }

    /// The calibrated thresholds in use (for the report).
    public var calibration: BaselineCalibration? { detectors.first { $0.mode == .calibrated }?.calibration }
    public var reconstructionBand: (lower: Double, upper: Double)? {
        reconstruction.map { ($0.lowerThreshold, $0.upperThreshold) }
    }
    public var predictionName: String { SimulatedModel.predictionName }

    /// One detector's view of one simulated window.
    struct JudgedWindow {
        var by: [VerdictRule]
        var drifted: Bool { !by.isEmpty }
        /// PSI of the tracked features.
        var psi: [String: Double]
        var driftedFeatures: [String]
    }

    /// Every detector's verdict on one window: the statistics computed once, decided per detector
    /// (the same rows for all, so the modes are paired).
    func judge(_ window: (features: Table, prediction: NumericColumn), track: [String]) -> [JudgedWindow] {
        let data = WindowData(table: window.features)
        let score = FeatureWindow.numeric(values: window.prediction.values, quality: window.prediction.quality)
        let comparison = compareWindow(baseline: profile, window: data, config: detectors[0].config,
                                       prediction: (baseline: predictionBaseline, window: score))
        // The PCA band is NannyML's ±3σ in both modes (k = 3): the modes differ only in the features' thresholds.
        let multivariate = reconstruction.flatMap { model in encoding.encode(window.features).map { compareMultivariate(model, columns: $0) } }
        return detectors.map { _, config, calibration in
            var report = decideWindow(comparison, baseline: profile, config: config, calibration: calibration)
            report.attach(multivariate: multivariate)
            var psi: [String: Double] = [:]
            for f in report.features where track.contains(f.name) { psi[f.name] = f.psi }
            var drifted = report.features.filter(\.drifted).map(\.name)
            if report.prediction?.drifted == true { drifted.append(predictionName) }
            return JudgedWindow(by: report.summary.verdict?.by ?? [], psi: psi, driftedFeatures: drifted)
        }
    }

    /// One run's outcome for one detector.
    struct RunOutcome: Sendable {
        var windowsFlagged = 0
        var flaggedBy = RuleCounts()
        var confirmed = false
        var featureFlags: [String: Int] = [:]
        var confirmedAt: Int?
        var falseEarly = false
        var psiSum = 0.0
        var psiCount = 0
    }

    /// Streams drawn from the baseline distribution only (runs in parallel, results in run order).
    public func runNoDrift() -> [NoDriftResult] {
        let outcomes = concurrentMap(options.noDriftRuns) { run -> [RunOutcome] in
            var g = SeededGenerator(seed: options.seed &+ 1_000_003 &* UInt64(run + 1))
            var trackers = detectors.map { _ in EpisodeTracker(confirm: options.confirm, resolve: options.resolve) }
            var out = [RunOutcome](repeating: RunOutcome(), count: detectors.count)
            for w in 0..<options.noDriftWindows {
                let window = model.table(rows: options.windowRows, scenario: nil, generator: &g, source: "window")
                for (d, v) in judge(window, track: []).enumerated() {
                    if v.drifted { out[d].windowsFlagged += 1 }
                    out[d].flaggedBy.add(v.by)
                    for f in v.driftedFeatures { out[d].featureFlags[f, default: 0] += 1 }
                    let t = trackers[d].observe(windowSeq: w, at: Double(w), drifted: v.drifted, driftedFeatures: [], driftedShare: 0)
                    if t.contains(where: { $0.to == .confirmed }) { out[d].confirmed = true }
                }
            }
            return out
        }
        return detectors.indices.map { d in
            var r = NoDriftResult(mode: detectors[d].mode, runs: 0, windows: 0, windowsFlagged: 0, flaggedBy: RuleCounts(),
                                  runsWithConfirmedEpisode: 0, featureFlags: [:])
            for run in outcomes {
                let o = run[d]
                r.runs += 1
                r.windows += options.noDriftWindows
                r.windowsFlagged += o.windowsFlagged
                r.flaggedBy = r.flaggedBy + o.flaggedBy
                if o.confirmed { r.runsWithConfirmedEpisode += 1 }
                for (f, n) in o.featureFlags { r.featureFlags[f, default: 0] += n }
            }
            r.falseEpisodeRateUpper95 = Self.wilsonUpper(r.runsWithConfirmedEpisode, of: r.runs)
            r.impliedFalseEpisodeRate = Self.confirmationProbability(windowRate: r.windowFlagRate, windows: options.noDriftWindows,
                                                                     confirm: options.confirm)
            r.impliedFalseEpisodeRateUpper95 = Self.confirmationProbability(
                windowRate: Self.wilsonUpper(r.windowsFlagged, of: r.windows), windows: options.noDriftWindows, confirm: options.confirm)
            return r
        }
    }

    /// Streams that change at window `cleanWindows` (runs in parallel, results in run order).
    public func runShift(_ scenario: Scenario) -> [ShiftResult] {
        let salt = UInt64(truncatingIfNeeded: scenario.name.hashValueStable)
        let size = shiftSize(scenario)
        let track = size.features.first.map { [$0.name] } ?? []
        let outcomes = concurrentMap(options.shiftRuns) { run -> [RunOutcome] in
            var g = SeededGenerator(seed: options.seed ^ salt &+ 7_919 &* UInt64(run + 1))
            var trackers = detectors.map { _ in EpisodeTracker(confirm: options.confirm, resolve: options.resolve) }
            var out = [RunOutcome](repeating: RunOutcome(), count: detectors.count)
            for w in 0..<(options.cleanWindows + options.driftedWindows) {
                let shifted = w >= options.cleanWindows
                let window = model.table(rows: options.windowRows, scenario: shifted ? scenario : nil, generator: &g, source: "window")
                for (d, v) in judge(window, track: track).enumerated() {
                    if shifted {
                        out[d].flaggedBy.add(v.by)
                        if let f = track.first, let psi = v.psi[f] {
                            out[d].psiSum += psi
                            out[d].psiCount += 1
                        }
                    }
                    let t = trackers[d].observe(windowSeq: w, at: Double(w), drifted: v.drifted, driftedFeatures: [], driftedShare: 0)
                    guard t.contains(where: { $0.to == .confirmed }) else { continue }
                    if shifted {
                        if out[d].confirmedAt == nil { out[d].confirmedAt = w - options.cleanWindows + 1 }
                    } else {
                        out[d].falseEarly = true
                    }
                }
            }
            return out
        }
        return detectors.indices.map { d in
            var r = ShiftResult(scenario: scenario.name, kind: scenario.kind, mode: detectors[d].mode, runs: 0, shiftPSI: size.features,
                                predictionShiftPSI: size.prediction, expectedBy: expected(size), meanPSI: nil,
                                detectedWithinPolicyMinimum: 0, detected: 0, confirmedBeforeShift: 0, delays: [],
                                shiftedWindows: 0, shiftedBy: RuleCounts())
            var psiSum = 0.0, psiCount = 0
            for run in outcomes {
                let o = run[d]
                r.runs += 1
                r.shiftedWindows += options.driftedWindows
                r.shiftedBy = r.shiftedBy + o.flaggedBy
                psiSum += o.psiSum
                psiCount += o.psiCount
                if o.falseEarly { r.confirmedBeforeShift += 1 }
                // A run already in a (false) confirmed episode at the change cannot confirm again: not detected.
                if let delay = o.confirmedAt {
                    r.detected += 1
                    r.delays.append(delay)
                    if delay <= options.confirm.windows { r.detectedWithinPolicyMinimum += 1 }
                }
            }
            r.meanPSI = psiCount == 0 ? nil : psiSum / Double(psiCount)
            return r
        }
    }

    /// The rules a change of this size should trigger under the detector's settings.
    func expected(_ size: (features: [FeaturePSI], prediction: Double?)) -> [VerdictRule] {
        let config = options.detector
        var by: [VerdictRule] = []
        let moderate = size.features.filter { $0.psi >= config.psiThreshold }.count
        if Double(moderate) / Double(model.columns.count) >= config.driftShare { by.append(.share) }
        if let m = config.majorPSI, size.features.contains(where: { $0.psi >= m }) { by.append(.majorFeature) }
        if let p = size.prediction {
            switch config.predictionRule {
            case .moderate: if p >= config.psiThreshold { by.append(.prediction) }
            case .major: if let m = config.majorPSI, p >= m { by.append(.prediction) }
            case .ignored: break
            }
        }
        return by
    }

    /// The scenario's PSI per changed feature and for the prediction, on 50,000 changed rows
    /// (the change's size, not a window's noise).
    func shiftSize(_ scenario: Scenario) -> (features: [FeaturePSI], prediction: Double?) {
        var g = SeededGenerator(seed: options.seed ^ 0x51F7)
        let rows = 50_000
        let table = model.table(rows: rows, scenario: scenario, generator: &g, source: "shift size")
        let changed = scenario.changedFeatures
        let subset = BaselineProfile(source: profile.source, rows: profile.rows,
                                     features: profile.features.filter { changed.contains($0.name) })
        let report = evaluateWindow(baseline: subset, window: WindowData(table: table.features), config: detectors[0].config,
                                    prediction: (baseline: predictionBaseline,
                                                 window: .numeric(values: table.prediction.values, quality: table.prediction.quality)))
        let features = report.features.compactMap { f in f.psi.map { FeaturePSI(name: f.name, psi: $0) } }.sorted { $0.psi > $1.psi }
        return (features, report.prediction?.psi)
    }
}
