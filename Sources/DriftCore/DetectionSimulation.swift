import DriftStats
import Foundation

/// Seeded streams of windows for measuring driftwatch's error rates (`driftwatch bench detection`):
/// how often a detector flags windows and confirms episodes when nothing changed, and how often
/// and how fast it confirms known injected shifts. Every window goes through the same code as the
/// service's: `evaluateWindow` (KS/chi², BH, PSI gate), the PCA reconstruction error, and the
/// `EpisodeTracker` with the model's confirmation policy.
///
/// The simulated model is a small fraud model: `amount` (lognormal), `account_age` (normal, the
/// feature mean and scale shifts move), `txn_velocity` and `distance_km` (standard normals with
/// correlation +0.8, flipped to −0.8 by the correlation scenario; their marginals never change),
/// and `merchant_category` (6 categories; the new-category scenario adds a seventh).
public struct DetectionSimulation: Sendable {
    public struct Options: Sendable {
        public var baselineRows = 50_000
        public var windowRows = 1_000
        public var noDriftRuns = 500
        /// Windows per no-drift run (24 hourly windows: one day).
        public var noDriftWindows = 24
        public var shiftRuns = 200
        /// Clean windows before the shift starts (a false confirmation there is counted).
        public var cleanWindows = 5
        /// Windows after the shift starts.
        public var driftedWindows = 6
        public var seed: UInt64 = 20_261_129
        public var confirm = ModelSettings.defaultConfirm
        public var resolve = ModelSettings.defaultResolve
        /// One drifted feature of five flags the window: the strictest setting for false alarms.
        public var driftShare = 0.2
        public var varianceShare = 0.65
        public var calibrationK = 3.0
        public init() {}
    }

    /// One injected change, from the window `cleanWindows` on.
    public struct Scenario: Sendable {
        public var name: String
        /// account_age: mean shift in baseline σ, and scale factor.
        public var meanShift = 0.0
        public var scale = 1.0
        /// merchant_category: share of rows that take a category the baseline never had.
        public var newCategoryShare = 0.0
        /// txn_velocity / distance_km correlation.
        public var correlation = SimulatedFraudModel.baselineCorrelation
        /// The feature the change is in (its PSI is reported), nil for the correlation flip.
        public var feature: String?

        public static let standard: [Scenario] = [
            Scenario(name: "mean shift 0.1σ", meanShift: 0.1, feature: "account_age"),
            Scenario(name: "mean shift 0.25σ", meanShift: 0.25, feature: "account_age"),
            Scenario(name: "mean shift 0.5σ", meanShift: 0.5, feature: "account_age"),
            Scenario(name: "scale ×1.5", scale: 1.5, feature: "account_age"),
            Scenario(name: "new category 5%", newCategoryShare: 0.05, feature: "merchant_category"),
            Scenario(name: "correlation +0.8 → −0.8", correlation: -0.8, feature: nil),
        ]
    }

    public enum Mode: String, Sendable, CaseIterable {
        case fixed
        case calibrated = "baseline_chunks"
    }

    public struct NoDriftResult: Sendable, Codable {
        public var mode: String
        public var runs: Int
        public var windows: Int
        public var windowsFlagged: Int
        /// Flagged by the features' share, and by the reconstruction error.
        public var windowsFlaggedByFeatures: Int
        public var windowsFlaggedByMultivariate: Int
        /// Runs in which an episode was confirmed: false episodes.
        public var runsWithConfirmedEpisode: Int
        /// Windows in which each feature drifted.
        public var featureFlags: [String: Int] = [:]
        public var windowFlagRate: Double { windows == 0 ? 0 : Double(windowsFlagged) / Double(windows) }
        public var falseEpisodeRate: Double { runs == 0 ? 0 : Double(runsWithConfirmedEpisode) / Double(runs) }
    }

    public struct ShiftResult: Sendable, Codable {
        public var scenario: String
        public var mode: String
        public var runs: Int
        /// PSI of the changed feature, shifted vs baseline, on 200,000 rows: the shift's own size, free of a
        /// window's sampling noise (nil for the correlation flip). The detection target applies when it is ≥ 0.1.
        public var shiftPSI: Double?
        /// Mean PSI of the changed feature over the drifted windows (noise included).
        public var meanPSI: Double?
        /// Confirmed within `confirm.windows` windows of the shift: the fastest the policy allows.
        public var detectedWithinPolicyMinimum: Int
        /// Confirmed at any drifted window.
        public var detected: Int
        /// Confirmed before the shift started (false episodes during the clean prefix).
        public var confirmedBeforeShift: Int
        /// Windows from the shift's start to the confirming window, 1-based, of detected runs.
        public var delays: [Int]
        public var medianDelay: Double? {
            guard !delays.isEmpty else { return nil }
            let s = delays.sorted()
            return s.count % 2 == 1 ? Double(s[s.count / 2]) : Double(s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        public var detectionRate: Double { runs == 0 ? 0 : Double(detected) / Double(runs) }
        public var minimumDelayRate: Double { runs == 0 ? 0 : Double(detectedWithinPolicyMinimum) / Double(runs) }
    }

    public let options: Options
    let model: SimulatedFraudModel
    let profile: BaselineProfile
    let encoding: MultivariateEncoding
    let reconstruction: ReconstructionModel?
    let detectors: [(Mode, DetectorConfig, BaselineCalibration?)]

    public init(options: Options) {
        self.options = options
        model = SimulatedFraudModel()
        var g = SeededGenerator(seed: options.seed)
        let baseline = model.table(rows: options.baselineRows, scenario: nil, generator: &g, source: "simulated baseline")
        var base = DetectorConfig()
        base.driftShare = options.driftShare
        base.calibrationK = options.calibrationK
        profile = BaselineProfile(table: baseline, config: base)
        let encoding = MultivariateEncoding(baseline: baseline, columns: baseline.columns.map(\.name))
        self.encoding = encoding
        reconstruction = encoding.encode(baseline).flatMap {
            ReconstructionModel(featureNames: encoding.names, columns: $0, varianceShare: options.varianceShare,
                                chunkSize: options.windowRows)
        }
        var calibrated = base
        calibrated.calibration = .baselineChunks
        detectors = [
            (.fixed, base, nil),
            (.calibrated, calibrated, BaselineCalibration(baseline: profile, windowRows: options.windowRows, config: calibrated)),
        ]
    }

    /// The calibrated thresholds in use (for the report).
    public var calibration: BaselineCalibration? { detectors.first { $0.0 == .calibrated }?.2 }
    public var reconstructionBand: (lower: Double, upper: Double)? {
        reconstruction.map { ($0.lowerThreshold, $0.upperThreshold) }
    }

    struct WindowVerdict {
        var byFeatures: Bool
        var byMultivariate: Bool
        var drifted: Bool { byFeatures || byMultivariate }
        var psi: [String: Double]
        var driftedFeatures: [String]
    }

    /// Every detector's verdict on one window (the same rows for all, so the modes are paired).
    func judge(_ table: Table) -> [WindowVerdict] {
        let data = WindowData(table: table)
        // The PCA band is NannyML's ±3σ in both modes: the modes differ only in the features' thresholds.
        let multivariate = reconstruction.flatMap { model in encoding.encode(table).map { compareMultivariate(model, columns: $0) } }
        return detectors.map { _, config, calibration in
            let report = evaluateWindow(baseline: profile, window: data, config: config, calibration: calibration)
            var psi: [String: Double] = [:]
            for f in report.features { psi[f.name] = f.psi }
            return WindowVerdict(byFeatures: report.summary.datasetDrifted, byMultivariate: multivariate?.drifted == true, psi: psi,
                                 driftedFeatures: report.features.filter(\.drifted).map(\.name))
        }
    }

    /// Streams drawn from the baseline distribution only.
    public func runNoDrift(progress: (@Sendable (Int) -> Void)? = nil) -> [NoDriftResult] {
        var results = detectors.map { mode, _, _ in
            NoDriftResult(mode: mode.rawValue, runs: 0, windows: 0, windowsFlagged: 0, windowsFlaggedByFeatures: 0,
                          windowsFlaggedByMultivariate: 0, runsWithConfirmedEpisode: 0)
        }
        for run in 0..<options.noDriftRuns {
            var g = SeededGenerator(seed: options.seed &+ 1_000_003 &* UInt64(run + 1))
            var trackers = detectors.map { _ in EpisodeTracker(confirm: options.confirm, resolve: options.resolve) }
            var confirmed = [Bool](repeating: false, count: detectors.count)
            for w in 0..<options.noDriftWindows {
                let table = model.table(rows: options.windowRows, scenario: nil, generator: &g, source: "window")
                for (d, v) in judge(table).enumerated() {
                    results[d].windows += 1
                    if v.drifted { results[d].windowsFlagged += 1 }
                    if v.byFeatures { results[d].windowsFlaggedByFeatures += 1 }
                    if v.byMultivariate { results[d].windowsFlaggedByMultivariate += 1 }
                    for f in v.driftedFeatures { results[d].featureFlags[f, default: 0] += 1 }
                    let t = trackers[d].observe(windowSeq: w, at: Double(w), drifted: v.drifted, driftedFeatures: [], driftedShare: 0)
                    if t.contains(where: { $0.to == .confirmed }) { confirmed[d] = true }
                }
            }
            for d in results.indices {
                results[d].runs += 1
                if confirmed[d] { results[d].runsWithConfirmedEpisode += 1 }
            }
            progress?(run + 1)
        }
        return results
    }

    /// Streams that change at window `cleanWindows`.
    public func runShift(_ scenario: Scenario) -> [ShiftResult] {
        var results = detectors.map { mode, _, _ in
            ShiftResult(scenario: scenario.name, mode: mode.rawValue, runs: 0, shiftPSI: nil, meanPSI: nil, detectedWithinPolicyMinimum: 0,
                        detected: 0, confirmedBeforeShift: 0, delays: [])
        }
        var psiSum = 0.0, psiCount = 0
        let salt = UInt64(truncatingIfNeeded: scenario.name.hashValueStable)
        for run in 0..<options.shiftRuns {
            var g = SeededGenerator(seed: options.seed ^ salt &+ 7_919 &* UInt64(run + 1))
            var trackers = detectors.map { _ in EpisodeTracker(confirm: options.confirm, resolve: options.resolve) }
            var confirmedAt = [Int?](repeating: nil, count: detectors.count)
            var falseEarly = [Bool](repeating: false, count: detectors.count)
            for w in 0..<(options.cleanWindows + options.driftedWindows) {
                let shifted = w >= options.cleanWindows
                let table = model.table(rows: options.windowRows, scenario: shifted ? scenario : nil, generator: &g, source: "window")
                let verdicts = judge(table)
                if shifted, let f = scenario.feature, let psi = verdicts[0].psi[f] {
                    psiSum += psi
                    psiCount += 1
                }
                for (d, v) in verdicts.enumerated() {
                    let t = trackers[d].observe(windowSeq: w, at: Double(w), drifted: v.drifted, driftedFeatures: [], driftedShare: 0)
                    guard t.contains(where: { $0.to == .confirmed }) else { continue }
                    if shifted {
                        if confirmedAt[d] == nil { confirmedAt[d] = w - options.cleanWindows + 1 }
                    } else {
                        falseEarly[d] = true
                    }
                }
            }
            for d in results.indices {
                results[d].runs += 1
                if falseEarly[d] { results[d].confirmedBeforeShift += 1 }
                // A run already in a (false) confirmed episode at the shift cannot confirm again: not detected.
                if let delay = confirmedAt[d] {
                    results[d].detected += 1
                    results[d].delays.append(delay)
                    if delay <= options.confirm.windows { results[d].detectedWithinPolicyMinimum += 1 }
                }
            }
        }
        let meanPSI = psiCount == 0 ? nil : psiSum / Double(psiCount)
        let shiftPSI = shiftSize(scenario)
        for d in results.indices {
            results[d].meanPSI = meanPSI
            results[d].shiftPSI = shiftPSI
        }
        return results
    }

    /// The scenario's PSI on a large sample (its size, not a window's noise).
    func shiftSize(_ scenario: Scenario) -> Double? {
        guard let feature = scenario.feature else { return nil }
        var g = SeededGenerator(seed: options.seed ^ 0x51F7)
        let table = model.table(rows: 200_000, scenario: scenario, generator: &g, source: "shift size")
        let report = evaluateWindow(baseline: profile, window: WindowData(table: table), config: detectors[0].1)
        return report.features.first { $0.name == feature }?.psi
    }
}

/// The simulated fraud model's data (see DetectionSimulation).
struct SimulatedFraudModel: Sendable {
    static let baselineCorrelation = 0.8
    static let categories = ["grocery", "travel", "electronics", "restaurants", "fuel", "gaming"]
    static let categoryShares = [0.30, 0.25, 0.20, 0.12, 0.08, 0.05]
    static let newCategory = "crypto_exchange"

    func table(rows: Int, scenario: DetectionSimulation.Scenario?, generator g: inout SeededGenerator, source: String) -> Table {
        let s = scenario ?? DetectionSimulation.Scenario(name: "none")
        var amount = [Double](repeating: 0, count: rows)
        var age = [Double](repeating: 0, count: rows)
        var velocity = [Double](repeating: 0, count: rows)
        var distance = [Double](repeating: 0, count: rows)
        var merchant = [Int32](repeating: 0, count: rows)
        let rho = s.correlation
        let rest = (1 - rho * rho).squareRoot()
        var cumulative: [Double] = []
        var total = 0.0
        for share in Self.categoryShares {
            total += share
            cumulative.append(total)
        }
        for r in 0..<rows {
            amount[r] = exp(3.5 + 0.9 * g.normal())
            age[r] = 400 + 150 * (s.meanShift + s.scale * g.normal())
            let z1 = g.normal(), z2 = g.normal()
            velocity[r] = z1
            distance[r] = rho * z1 + rest * z2
            if s.newCategoryShare > 0 && g.uniform() < s.newCategoryShare {
                merchant[r] = Int32(Self.categories.count)
            } else {
                let u = g.uniform() * total
                merchant[r] = Int32(cumulative.firstIndex { u < $0 } ?? (Self.categories.count - 1))
            }
        }
        var q = QualityCounts()
        q.total = rows
        return Table(source: source, rows: rows, columns: [
            .numeric(NumericColumn(name: "amount", values: amount, quality: q)),
            .numeric(NumericColumn(name: "account_age", values: age, quality: q)),
            .numeric(NumericColumn(name: "txn_velocity", values: velocity, quality: q)),
            .numeric(NumericColumn(name: "distance_km", values: distance, quality: q)),
            .categorical(CategoricalColumn(name: "merchant_category", codes: merchant,
                                           dictionary: Self.categories + [Self.newCategory], quality: q)),
        ])
    }
}

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
