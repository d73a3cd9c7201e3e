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

/// The simulated fraud models of `driftwatch bench detection`. Every feature is a transform of a
/// latent standard normal (independent, or correlated in pairs): normal, lognormal (amounts,
/// ages, distances), integer counts (floor of a lognormal: many ties), an hour of day (24 values)
/// and a [0, 1] risk score; categorical features draw their categories from fixed shares, each
/// category with a risk. The score (the prediction) is sigmoid(−3 + Σ weight·latent + Σ
/// weight·risk): a deterministic function of the features, no extra draws, with a few features
/// carrying most of its weight (as a gradient-boosted model's importances do) and the rest
/// little. A change to a heavily weighted feature moves the score; one to a lightly weighted
/// feature does not.
///
/// - `features5`: the original five — `amount` (lognormal), `account_age` (normal),
///   `txn_velocity` and `distance_km` (correlation +0.8), `merchant_category` (6 categories).
///   Its feature columns are drawn exactly as before issue 14 (same draws, same order).
/// - `features36`: fraud-like, 31 numeric + 5 categorical: amount, account_age_days,
///   distance_from_home_km, txn_hour, velocity and count pairs, `v1`…`v21` (PCA-like
///   components, as in the public credit-card fraud data), with correlated pairs; device_type,
///   merchant_category, country, channel, card_type.
/// - `features100`: the 36 plus `v22`…`v75` and ten more categoricals (85 numeric + 15
///   categorical), the additions lightly weighted.
public struct SimulatedModel: Sendable {
    /// The model sizes of the bench.
    public enum Preset: Int, Sendable, Codable, CaseIterable {
        case features5 = 5
        case features36 = 36
        case features100 = 100
    }

    enum Marginal: Sendable {
        case normal(mean: Double, sd: Double)
        case lognormal(mu: Double, sigma: Double)
        /// ⌊exp(mu + sigma·z)⌋: a count with many ties at small values.
        case count(mu: Double, sigma: Double)
        /// ⌊24·Φ(z)⌋: the hour of day.
        case hour
        /// Φ(z): a score in (0, 1).
        case unit

        func value(_ z: Double) -> Double {
            switch self {
            case .normal(let mean, let sd): mean + sd * z
            case .lognormal(let mu, let sigma): exp(mu + sigma * z)
            case .count(let mu, let sigma): floor(exp(mu + sigma * z))
            case .hour: Swift.min(23, floor(24 * standardNormalCDF(z)))
            case .unit: standardNormalCDF(z)
            }
        }
    }

    struct Categories: Sendable {
        var names: [String]
        var shares: [Double]
        var risk: [Double]
        var newCategory: String
        var newRisk: Double
    }

    enum Kind: Sendable {
        case numeric(Marginal)
        case categorical(Categories)
    }

    struct Column: Sendable {
        var name: String
        var kind: Kind
        /// Weight in the score's logit.
        var weight: Double
    }

    /// Two numeric features whose latent normals are correlated.
    struct Pair: Sendable {
        var first: Int
        var second: Int
        var rho: Double
    }

    public static let predictionName = "score"
    public let preset: Preset
    let columns: [Column]
    let pairs: [Pair]
    let intercept = -3.0

    public var featureNames: [String] { columns.map(\.name) }
    public var featureKinds: [FeatureKind] {
        columns.map { c in
            switch c.kind {
            case .numeric: .numeric
            case .categorical: .categorical
            }
        }
    }

    public init(_ preset: Preset) {
        self.preset = preset
        var columns: [Column] = []
        var pairs: [(String, String, Double)] = []
        func numeric(_ name: String, _ m: Marginal, _ w: Double) { columns.append(Column(name: name, kind: .numeric(m), weight: w)) }
        func categorical(_ name: String, _ names: [String], _ shares: [Double], _ risk: [Double], _ w: Double,
                         new: String = "other_new", newRisk: Double = 1.5) {
            columns.append(Column(name: name, kind: .categorical(Categories(names: names, shares: shares, risk: risk,
                                                                            newCategory: new, newRisk: newRisk)), weight: w))
        }
        switch preset {
        case .features5:
            numeric("amount", .lognormal(mu: 3.5, sigma: 0.9), 0.8)
            numeric("account_age", .normal(mean: 400, sd: 150), -0.6)
            numeric("txn_velocity", .normal(mean: 0, sd: 1), 0.6)
            numeric("distance_km", .normal(mean: 0, sd: 1), 0.4)
            categorical("merchant_category", ["grocery", "travel", "electronics", "restaurants", "fuel", "gaming"],
                        [0.30, 0.25, 0.20, 0.12, 0.08, 0.05], [-0.5, 0.3, 0.6, -0.3, -0.4, 0.8], 0.5, new: "crypto_exchange")
            pairs = [("txn_velocity", "distance_km", 0.8)]
        case .features36, .features100:
            numeric("amount", .lognormal(mu: 3.5, sigma: 0.9), 0.8)
            numeric("account_age_days", .lognormal(mu: 6.0, sigma: 0.8), -0.7)
            numeric("distance_from_home_km", .lognormal(mu: 2.0, sigma: 1.2), 0.5)
            numeric("txn_hour", .hour, 0.25)
            numeric("txn_velocity_1h", .normal(mean: 0, sd: 1), 0.6)
            numeric("txn_count_24h", .count(mu: 1.5, sigma: 0.7), 0.2)
            numeric("avg_amount_30d", .lognormal(mu: 3.6, sigma: 0.6), -0.2)
            numeric("failed_logins_24h", .count(mu: -0.5, sigma: 1.0), 0.3)
            numeric("ip_risk_score", .unit, 0.4)
            numeric("email_age_days", .lognormal(mu: 5.5, sigma: 1.0), -0.3)
            for k in 1...21 { numeric("v\(k)", .normal(mean: 0, sd: 1), 0.25 * pow(0.8, Double(k - 1))) }
            categorical("device_type", ["mobile", "desktop", "tablet", "pos"], [0.55, 0.30, 0.10, 0.05], [0, -0.3, 0.2, 1.0], 0.6)
            categorical("merchant_category", ["grocery", "restaurants", "fuel", "travel", "electronics", "fashion", "gaming", "digital_goods"],
                        [0.25, 0.15, 0.12, 0.12, 0.12, 0.10, 0.08, 0.06], [-0.5, -0.3, -0.4, 0.3, 0.6, 0.1, 0.8, 1.0], 0.5,
                        new: "crypto_exchange")
            categorical("country", ["DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "BR", "NG"],
                        [0.30, 0.15, 0.12, 0.10, 0.08, 0.08, 0.07, 0.05, 0.03, 0.02], [-0.3, -0.2, -0.1, 0.1, -0.2, 0, 0, 0.2, 0.6, 1.0], 0.4)
            categorical("channel", ["online", "in_store", "phone"], [0.6, 0.3, 0.1], [0.3, -0.5, 0.4], 0.2)
            categorical("card_type", ["debit", "credit", "prepaid", "corporate"], [0.5, 0.35, 0.1, 0.05], [-0.1, 0, 0.8, -0.2], 0.15)
            pairs = [("txn_velocity_1h", "txn_count_24h", 0.8), ("amount", "avg_amount_30d", 0.6), ("v1", "v2", 0.5),
                     ("v3", "v4", -0.4), ("v5", "v6", 0.6), ("v7", "v8", 0.3)]
            if preset == .features100 {
                for k in 22...75 { numeric("v\(k)", .normal(mean: 0, sd: 1), 0.02) }
                let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
                for (i, l) in letters.enumerated() {
                    let n = 3 + i % 4
                    let raw = (0..<n).map { 1.0 / Double($0 + 2) }
                    let total = raw.reduce(0, +)
                    categorical("segment_\(l)", (0..<n).map { "\(l)\($0)" }, raw.map { $0 / total },
                                (0..<n).map { Double($0) / Double(n) - 0.5 }, 0.05)
                }
                for k in stride(from: 22, to: 62, by: 8) { pairs.append(("v\(k)", "v\(k + 1)", 0.7)) }
            }
        }
        self.columns = columns
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })
        self.pairs = pairs.compactMap { a, b, rho in
            guard let i = index[a], let j = index[b] else { return nil }
            return Pair(first: i, second: j, rho: rho)
        }
    }

    /// The change types of the original table, on this model's features.
    public var changeTypes: [DetectionSimulation.Scenario] {
        let age = preset == .features5 ? "account_age" : "account_age_days"
        let pair = preset == .features5 ? "txn_velocity" : "txn_velocity_1h"
        return [
            .init(name: "mean shift 0.1σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.1)]),
            .init(name: "mean shift 0.25σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.25)]),
            .init(name: "mean shift 0.5σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.5)]),
            .init(name: "scale ×1.5", kind: .changeType, changes: [.scale(age, factor: 1.5)]),
            .init(name: "new category 5%", kind: .changeType, changes: [.newCategory("merchant_category", share: 0.05)]),
            .init(name: "correlation +0.8 → −0.8", kind: .changeType, changes: [.correlation(pair, rho: -0.8)]),
        ]
    }

    /// A minority of the features drifting strongly (PSI ≥ 0.3) — what the share rule alone
    /// never sees on a wide model.
    public var minority: [DetectionSimulation.Scenario] {
        switch preset {
        case .features5:
            return [
                .init(name: "1 feature strong, score unmoved", kind: .minority, changes: [.meanShift("distance_km", sigmas: 0.65)]),
                .init(name: "1 feature strong, score moves", kind: .minority, changes: [.meanShift("amount", sigmas: 0.8)]),
                .init(name: "2 strong + 1 moderate", kind: .minority, changes: [
                    .meanShift("account_age", sigmas: -0.67), .tilt("merchant_category", strength: 1.2),
                    .meanShift("distance_km", sigmas: 0.46),
                ]),
            ]
        case .features36, .features100:
            let light = preset == .features36 ? ["v21", "v20", "v19", "v18", "v17"] : ["v71", "v72", "v73", "v74", "v75"]
            return [
                .init(name: "1 feature strong, score unmoved", kind: .minority, changes: [.meanShift(light[0], sigmas: 0.65)]),
                .init(name: "1 feature strong, score moves", kind: .minority, changes: [.meanShift("amount", sigmas: 0.8)]),
                // The case of issue 14: PSI ≈ 0.48, 0.42, 0.32, 0.20, 0.12 and a moderately drifting score (younger
                // accounts and riskier devices and merchants raise it, shorter distances lower it).
                .init(name: "fraud case: 3 strong + 2 moderate", kind: .minority, changes: [
                    .tilt("device_type", strength: 1.6), .meanShift("account_age_days", sigmas: -0.67),
                    .tilt("merchant_category", strength: 1.2), .meanShift("distance_from_home_km", sigmas: -0.46),
                    .meanShift("txn_hour", sigmas: 0.36),
                ]),
                .init(name: "5 light features strong", kind: .minority, changes: light.map { .meanShift($0, sigmas: 0.57) }),
            ]
        }
    }

    /// One table of `rows` rows (features) and the score column, with the scenario's changes.
    func table(rows: Int, scenario: DetectionSimulation.Scenario?, generator g: inout SeededGenerator,
               source: String) -> (features: Table, prediction: NumericColumn) {
        let n = columns.count
        var shift = [Double](repeating: 0, count: n)
        var scale = [Double](repeating: 1, count: n)
        var newShare = [Double](repeating: 0, count: n)
        var tilt = [Double](repeating: 0, count: n)
        var rho = pairs.map(\.rho)
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })
        for change in scenario?.changes ?? [] {
            guard let i = index[change.feature] else { preconditionFailure("scenario names an unknown feature \(change.feature)") }
            switch change {
            case .meanShift(_, let s): shift[i] = s
            case .scale(_, let f): scale[i] = f
            case .newCategory(_, let s): newShare[i] = s
            case .tilt(_, let s): tilt[i] = s
            case .correlation(_, let r):
                if let p = pairs.firstIndex(where: { $0.first == i }) { rho[p] = r }
            }
        }
        // Per column: its slot among the numeric or the categorical arrays, its pair role.
        var pairOfFirst = [Int?](repeating: nil, count: n)
        var isSecond = [Bool](repeating: false, count: n)
        for (p, pair) in pairs.enumerated() {
            pairOfFirst[pair.first] = p
            isSecond[pair.second] = true
        }
        var numeric: [[Double]] = []
        var codes: [[Int32]] = []
        var slot = [Int](repeating: 0, count: n)
        var cumulative: [[Double]] = []
        var totals: [Double] = []
        var risks: [[Double]] = []
        for (i, c) in columns.enumerated() {
            switch c.kind {
            case .numeric:
                slot[i] = numeric.count
                numeric.append([Double](repeating: 0, count: rows))
            case .categorical(let cat):
                slot[i] = codes.count
                codes.append([Int32](repeating: 0, count: rows))
                var running = 0.0
                var cum: [Double] = []
                for (k, share) in cat.shares.enumerated() {
                    running += tilt[i] == 0 ? share : share * exp(tilt[i] * cat.risk[k])
                    cum.append(running)
                }
                cumulative.append(cum)
                totals.append(running)
                risks.append(cat.risk + [cat.newRisk])
            }
        }
        let rest = rho.map { (1 - $0 * $0).squareRoot() }
        var latent = [Double](repeating: 0, count: n)
        var score = [Double](repeating: 0, count: rows)
        // The 5-feature model keeps its original stream (one `normal()` per value); the wider ones use
        // both values of each polar draw.
        let paired = preset != .features5
        var spare: Double?
        func normal() -> Double {
            guard paired else { return g.normal() }
            if let s = spare {
                spare = nil
                return s
            }
            let (a, b) = g.normalPair()
            spare = b
            return a
        }
        // Flat per-column facts, so the row loop copies no Column (and its arrays) per value.
        let marginals: [Marginal?] = columns.map { c in
            if case .numeric(let m) = c.kind { return m }
            return nil
        }
        let weights = columns.map(\.weight)
        let categoryCounts: [Int] = columns.map { c in
            if case .categorical(let cat) = c.kind { return cat.names.count }
            return 0
        }
        for r in 0..<rows {
            var logit = intercept
            for i in 0..<n {
                if let marginal = marginals[i] {
                    let z: Double
                    if let p = pairOfFirst[i] {
                        let z1 = normal(), z2 = normal()
                        latent[pairs[p].second] = rho[p] * z1 + rest[p] * z2
                        z = z1
                    } else if isSecond[i] {
                        z = latent[i]
                    } else {
                        z = normal()
                    }
                    let moved = shift[i] + scale[i] * z
                    numeric[slot[i]][r] = marginal.value(moved)
                    logit += weights[i] * moved
                } else {
                    let s = slot[i]
                    let code: Int
                    if newShare[i] > 0 && g.uniform() < newShare[i] {
                        code = categoryCounts[i]
                    } else {
                        let u = g.uniform() * totals[s]
                        code = cumulative[s].firstIndex { u < $0 } ?? (categoryCounts[i] - 1)
                    }
                    codes[s][r] = Int32(code)
                    logit += weights[i] * risks[s][code]
                }
            }
            score[r] = 1 / (1 + exp(-logit))
        }
        var q = QualityCounts()
        q.total = rows
        let table = Table(source: source, rows: rows, columns: columns.enumerated().map { i, c in
            switch c.kind {
            case .numeric: return .numeric(NumericColumn(name: c.name, values: numeric[slot[i]], quality: q))
            case .categorical(let cat):
                return .categorical(CategoricalColumn(name: c.name, codes: codes[slot[i]], dictionary: cat.names + [cat.newCategory], quality: q))
            }
        })
        return (table, NumericColumn(name: Self.predictionName, values: score, quality: q))
    }
}

/// Φ(z), the standard normal CDF.
func standardNormalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

extension String {
    /// FNV-1a: a seed salt that, unlike `hashValue`, is the same in every process.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
