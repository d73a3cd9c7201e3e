import DriftSimulation
import ArgumentParser
import DriftCore
import Foundation

struct BenchDetectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detection",
        abstract: "Measure false-alarm and detection rates on seeded simulated streams (fixed vs calibrated thresholds).",
        discussion: """
            Simulated fraud models of 5, 36 and 100 features with a score computed from the features \
            (--features picks them; all three by default). (a) No drift: streams of windows drawn from \
            the baseline distribution → the share of windows flagged (by each rule of the window \
            verdict) and of runs with a confirmed episode. (b) Changes from window --clean-windows on: \
            a minority of the features drifting strongly (1, 3 or 5 features with PSI ≥ 0.3, with and \
            without the score moving), and the original change types (account age mean 0.1σ/0.25σ/0.5σ, \
            scale ×1.5, a new merchant category at 5 %, a correlation flipped to −0.8) → the share of \
            runs confirmed within the confirmation policy's minimum (--confirm windows), at all, and the \
            median delay. Every window is judged by the service's own code with the DEFAULT detector \
            settings unless flags change them. Targets: false episodes ≤ 1 % of no-drift runs; a change \
            the verdict's rules should see by its size confirmed within the minimum in ≥ 95 % of runs.
            """
    )

    @Option(help: "Model sizes, comma-separated: 5, 36, 100.") var features = "5,36,100"
    @Option(name: .customLong("baseline-rows")) var baselineRows = 50_000
    @Option(name: .customLong("window-rows")) var windowRows = 1_000
    @Option(name: .customLong("no-drift-runs"), help: "No-drift runs per model (default: 500, 150, 80 for 5, 36, 100 features).")
    var noDriftRuns: Int?
    @Option(name: .customLong("no-drift-windows"), help: "Windows per no-drift run.") var noDriftWindows = 24
    @Option(name: .customLong("shift-runs"), help: "Runs per change (default: 200, 50, 30 for 5, 36, 100 features).")
    var shiftRuns: Int?
    @Option(name: .customLong("clean-windows"), help: "Clean windows before a change starts.") var cleanWindows = 5
    @Option(name: .customLong("drifted-windows"), help: "Windows after a change starts.") var driftedWindows = 6
    @Option(help: "Confirmation policy: K of N windows, as K/N.") var confirm = "2/3"
    @Option(help: "Which changes: all, minority or change-types.") var scenarios: ScenarioSelection = .all
    @Option(name: .customLong("drift-share"), help: "Share of drifted features that drifts the window (default: the detector's).")
    var driftShare: Double?
    @Option(name: .customLong("major-psi"), help: "Major-effect PSI of the window rule, or 'off' (default: the detector's).")
    var majorPSI: MajorPSIArgument?
    @Option(name: .customLong("prediction-rule"), help: "moderate, major or ignored (default: the detector's).")
    var predictionRule: PredictionRule?
    @Option(name: .customLong("calibration-k"), help: "k of the calibrated thresholds (default: the detector's).")
    var calibrationK: Double?
    @Option var seed: UInt64 = 20_261_129
    @Option(help: "text or json.") var format: BenchFormat = .text

    enum ScenarioSelection: String, ExpressibleByArgument, CaseIterable {
        case all, minority
        case changeTypes = "change-types"
    }

    var presets: [SimulatedModel.Preset]? {
        let parts = features.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let presets = parts.compactMap { Int($0).flatMap(SimulatedModel.Preset.init(rawValue:)) }
        return presets.count == parts.count && !presets.isEmpty ? presets : nil
    }

    func validate() throws {
        guard baselineRows >= 100, windowRows >= 10, noDriftWindows >= 1, cleanWindows >= 0, driftedWindows >= 1,
              (noDriftRuns ?? 1) >= 1, (shiftRuns ?? 1) >= 1 else {
            throw ValidationError("rows and runs must be positive (baseline ≥ 100 rows, windows ≥ 10 rows)")
        }
        guard baselineRows >= 2 * windowRows else { throw ValidationError("--baseline-rows must be at least twice --window-rows") }
        guard presets != nil else { throw ValidationError("--features takes 5, 36 and/or 100, comma-separated; got \(features)") }
        guard parsedConfirm != nil else { throw ValidationError("--confirm takes K/N with 1 ≤ K ≤ N ≤ 100, got \(confirm)") }
        do { try detector.validate() } catch { throw ValidationError("\(error)") }
    }

    var parsedConfirm: ModelSettings.ConfirmSpec? {
        let parts = confirm.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), k >= 1, k <= n, n <= 100 else { return nil }
        return ModelSettings.ConfirmSpec(windows: k, of: n)
    }

    /// The detector judged: DetectorConfig's defaults, changed only by the flags given.
    var detector: DetectorConfig {
        var d = DetectorConfig()
        if let driftShare { d.driftShare = driftShare }
        if let majorPSI { d.majorPSI = majorPSI.value }
        if let predictionRule { d.predictionRule = predictionRule }
        if let calibrationK { d.calibrationK = calibrationK }
        return d
    }

    /// Runs per model size: enough for a 1 % target at 5 features; fewer where a window costs 7–15× more
    /// (the implied rate from the window flags carries the evidence there), so that the default run
    /// takes 2–3 minutes on 2 cores.
    static func defaultRuns(_ preset: SimulatedModel.Preset) -> (noDrift: Int, shift: Int) {
        switch preset {
        case .features5: (500, 200)
        case .features36: (150, 50)
        case .features100: (80, 30)
        }
    }

    /// One model's results.
    struct ModelResult: Encodable {
        var features: Int
        var numeric: Int
        var categorical: Int
        var noDriftRuns: Int
        var shiftRuns: Int
        var reconstructionBand: [Double]?
        var calibratedPSIThresholds: [String: Double]
        var calibratedMajorPSI: [String: Double]
        var noDrift: [DetectionSimulation.NoDriftResult]
        var shifts: [DetectionSimulation.ShiftResult]
        var seconds: Double
        enum CodingKeys: String, CodingKey {
            case features, numeric, categorical, noDriftRuns = "no_drift_runs", shiftRuns = "shift_runs"
            case reconstructionBand = "reconstruction_band", calibratedPSIThresholds = "calibrated_psi_thresholds"
            case calibratedMajorPSI = "calibrated_major_psi", noDrift = "no_drift", shifts, seconds
        }
    }

    func run() throws {
        singleThreadedBLAS()
        let clock = ContinuousClock()
        let started = clock.now
        var results: [ModelResult] = []
        for preset in presets ?? [] {
            let modelStarted = clock.now
            let runs = Self.defaultRuns(preset)
            var options = DetectionSimulation.Options()
            options.baselineRows = baselineRows
            options.windowRows = windowRows
            options.noDriftRuns = noDriftRuns ?? runs.noDrift
            options.noDriftWindows = noDriftWindows
            options.shiftRuns = shiftRuns ?? runs.shift
            options.cleanWindows = cleanWindows
            options.driftedWindows = driftedWindows
            options.detector = detector
            options.seed = seed
            if let c = parsedConfirm { options.confirm = c }
            let simulation = DetectionSimulation(model: preset, options: options)
            let noDrift = simulation.runNoDrift()
            var chosen: [DetectionSimulation.Scenario] = []
            if scenarios != .changeTypes { chosen += simulation.model.minority }
            if scenarios != .minority { chosen += simulation.model.changeTypes }
            let shifts = chosen.flatMap { simulation.runShift($0) }
            var thresholds: [String: Double] = [:]
            var major: [String: Double] = [:]
            for (name, c) in simulation.calibration?.features ?? [:] {
                guard let psi = c.psi else { continue }
                thresholds[name] = psi.threshold
                if let m = options.detector.majorPSI { major[name] = m + psi.mean }
            }
            let kinds = simulation.model.featureKinds
            results.append(ModelResult(
                features: preset.rawValue, numeric: kinds.filter { $0 == .numeric }.count, categorical: kinds.filter { $0 == .categorical }.count,
                noDriftRuns: options.noDriftRuns, shiftRuns: options.shiftRuns,
                reconstructionBand: simulation.reconstructionBand.map { [$0.lower, $0.upper] },
                calibratedPSIThresholds: thresholds, calibratedMajorPSI: major, noDrift: noDrift, shifts: shifts,
                seconds: seconds(clock.now - modelStarted)))
        }
        let elapsed = seconds(clock.now - started)

        switch format {
        case .json:
            struct Output: Encodable {
                var seed: UInt64
                var baselineRows: Int
                var windowRows: Int
                var confirm: String
                var detector: DetectorConfig
                var models: [ModelResult]
                var seconds: Double
                enum CodingKeys: String, CodingKey {
                    case seed, baselineRows = "baseline_rows", windowRows = "window_rows", confirm, detector, models, seconds
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let out = Output(seed: seed, baselineRows: baselineRows, windowRows: windowRows, confirm: confirm, detector: detector,
                             models: results, seconds: elapsed)
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
        case .text:
            print(renderDetection(results, seconds: elapsed))
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private func renderDetection(_ results: [ModelResult], seconds: Double) -> String {
        let d = detector
        let policy = parsedConfirm ?? ModelSettings.defaultConfirm
        func pct(_ x: Double) -> String { fixed1(x * 100) + "%" }
        func pct2(_ x: Double) -> String { formatFigure(x * 100) + "%" }
        func rules(_ by: [VerdictRule]) -> String { by.isEmpty ? "-" : by.map(ruleName).joined(separator: "+") }
        var out = "driftwatch bench detection — seed \(seed), baseline \(baselineRows) rows, windows of \(windowRows) rows, "
        out += "episodes confirm at \(policy.windows) of \(policy.of) windows\n"
        out += "  a window drifts when ≥ \(fixed1(d.driftShare * 100))% of the features drift (KS/chi² BH-adjusted p < \(formatFigure(d.alpha)) "
        out += "and PSI ≥ threshold)"
        if let m = d.majorPSI { out += ", or a drifted feature has PSI ≥ \(formatFigure(m)) (calibrated: \(formatFigure(m)) + the chunks' mean PSI)" }
        switch d.predictionRule {
        case .moderate: out += ", or the score drifts with PSI ≥ \(formatFigure(d.psiThreshold)) (calibrated: + the chunks' mean PSI)"
        case .major: out += ", or the score drifts with a major effect"
        case .ignored: break
        }
        out += ", or the PCA reconstruction error leaves its band\n"
        out += "  thresholds: fixed PSI \(formatFigure(d.psiThreshold)), or calibrated on baseline chunks (mean + \(formatFigure(d.calibrationK))σ on the cube-root scale)\n"

        var summary = [["features", "thresholds", "false episodes (≤ 1%)", "minority confirmed ≤ \(policy.windows) windows (≥ 95%)", "worst minority case"]]
        for r in results {
            out += "\n== \(r.features) features (\(r.numeric) numeric, \(r.categorical) categorical) + score — \(fixed1(r.seconds)) s ==\n"
            if let band = r.reconstructionBand, band.count == 2 {
                out += "  reconstruction-error band [\(formatFigure(band[0])), \(formatFigure(band[1]))] (baseline chunks, mean ± 3σ)\n"
            }
            out += "  calibrated PSI thresholds \(spread(r.calibratedPSIThresholds.values))"
            if !r.calibratedMajorPSI.isEmpty { out += "; calibrated major PSI \(spread(r.calibratedMajorPSI.values))" }
            out += "\n\nNo drift: \(r.noDriftRuns) runs × \(noDriftWindows) windows\n"
            var rows = [["thresholds", "windows flagged", "by share", "by major", "by score", "by multivariate", "runs with a false episode",
                         "≤ (95%)", "implied by window rate", "≤ (95%)", "target ≤ 1%"]]
            for n in r.noDrift {
                rows.append([n.mode.rawValue, pct(n.windowFlagRate), "\(n.flaggedBy.share)", "\(n.flaggedBy.majorFeature)", "\(n.flaggedBy.prediction)",
                             "\(n.flaggedBy.multivariate)", "\(pct(n.falseEpisodeRate)) (\(n.runsWithConfirmedEpisode)/\(n.runs))",
                             pct(n.falseEpisodeRateUpper95), n.impliedFalseEpisodeRate.map(pct2) ?? "-", n.impliedFalseEpisodeRateUpper95.map(pct2) ?? "-",
                             n.falseEpisodeRate <= 0.01 ? "met" : "MISSED"])
            }
            out += renderColumns(rows)
            out += "  ≤ (95%): upper end of the 95% Wilson interval; implied: the false-episode rate the window flag rate gives independent windows under the policy (exact)\n"
            for n in r.noDrift {
                let total = n.featureFlags.values.reduce(0, +)
                let top = n.featureFlags.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
                out += "  \(n.mode.rawValue): \(total) feature flags in \(n.windows) windows"
                out += top.isEmpty ? "\n" : " — most: \(top.map { "\($0.key) \($0.value)" }.joined(separator: ", "))\n"
            }
            out += "\nChanges: \(r.shiftRuns) runs each, \(cleanWindows) clean windows then \(driftedWindows) changed\n"
            rows = [["scenario", "shift PSI", "score PSI", "expected by", "thresholds", "confirmed ≤ \(policy.windows)", "confirmed",
                     "median delay", "false before", "rules held (share of changed windows)", "target ≥ 95%"]]
            for s in r.shifts {
                let psi = s.shiftPSI.prefix(5).map { formatFigure($0.psi) }.joined(separator: "/")
                let held = VerdictRule.allCases.compactMap { rule -> String? in
                    let n = s.shiftedBy[rule]
                    return n == 0 ? nil : "\(ruleName(rule)) \(fixed1(100 * Double(n) / Double(Swift.max(s.shiftedWindows, 1))))"
                }.joined(separator: " ")
                let target = s.expectedBy.isEmpty ? "-" : (s.minimumDelayRate >= 0.95 ? "met" : "MISSED")
                rows.append([s.scenario, psi.isEmpty ? "-" : psi, s.predictionShiftPSI.map(formatFigure) ?? "-", rules(s.expectedBy), s.mode.rawValue,
                             pct(s.minimumDelayRate), pct(s.detectionRate), s.medianDelay.map { formatFigure($0) } ?? "-",
                             "\(s.confirmedBeforeShift)", held.isEmpty ? "-" : held, target])
            }
            out += renderColumns(rows)
            out += "  shift PSI: each changed feature's own PSI (50,000 changed rows vs the baseline, largest first); score PSI: the prediction's\n"
            out += "  expected by: the rules the change's size alone should trigger (target applies); - = none (a moderate single-feature change is a per-feature flag, not an episode)\n"
            for mode in DetectionSimulation.Mode.allCases {
                guard let n = r.noDrift.first(where: { $0.mode == mode }) else { continue }
                let minority = r.shifts.filter { $0.mode == mode && $0.kind == .minority }
                let worst = minority.min { $0.minimumDelayRate < $1.minimumDelayRate }
                summary.append(["\(r.features)", mode.rawValue, "\(pct(n.falseEpisodeRate)) (\(n.runsWithConfirmedEpisode)/\(n.runs))",
                                worst.map { pct($0.minimumDelayRate) } ?? "-", worst?.scenario ?? "-"])
            }
        }
        if results.count > 1 || scenarios != .changeTypes {
            out += "\nSummary\n" + renderColumns(summary)
        }
        out += "\n\(fixed1(seconds)) s"
        return out
    }

    private func ruleName(_ rule: VerdictRule) -> String {
        switch rule {
        case .share: "share"
        case .majorFeature: "major"
        case .prediction: "score"
        case .multivariate: "mv"
        }
    }

    /// min–median–max of a set of thresholds.
    private func spread(_ values: Dictionary<String, Double>.Values) -> String {
        let s = values.sorted()
        guard let lo = s.first, let hi = s.last else { return "-" }
        return "\(formatFigure(lo))–\(formatFigure(s[s.count / 2]))–\(formatFigure(hi)) (min–median–max)"
    }
}

/// The simulation runs windows in parallel on every core; OpenBLAS's own threads for the PCA's small
/// dgemm calls then only contend with them (measured on 2 cores: 30 % slower, a third of the time spent
/// in the kernel yielding). One BLAS thread when the library is OpenBLAS — looked up by name, since the
/// reference BLAS the README also allows has no such function (and no threads).
func singleThreadedBLAS() {
    guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "openblas_set_num_threads") else { return }
    typealias SetThreads = @convention(c) (Int32) -> Void
    unsafeBitCast(symbol, to: SetThreads.self)(1)
}

/// Left-aligned first column, the rest right-aligned, two spaces apart.
func renderColumns(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = first.map(\.count)
    for row in rows { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    return rows.map { row in
        row.enumerated().map { i, c in
            let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
            return i == 0 ? c + pad : pad + c
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
