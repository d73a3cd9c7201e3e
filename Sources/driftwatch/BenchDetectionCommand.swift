import ArgumentParser
import DriftCore
import Foundation

struct BenchDetectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detection",
        abstract: "Measure false-alarm and detection rates on seeded simulated streams (fixed vs calibrated thresholds).",
        discussion: """
            A simulated fraud model (amount, account_age, txn_velocity and distance_km correlated +0.8, \
            merchant_category). (a) No drift: streams of windows drawn from the baseline distribution → \
            the share of windows flagged and of runs with a confirmed episode. (b) Injected shifts from \
            window --clean-windows on (account_age mean 0.1σ/0.25σ/0.5σ, scale ×1.5, a new merchant \
            category at 5 %, the correlation flipped to −0.8) → the share of runs confirmed within the \
            confirmation policy's minimum (--confirm windows), at all, and the median delay. Every window \
            is judged by the service's own code (KS/chi² with BH, the PSI gate, the PCA reconstruction \
            error, the episode tracker). Targets: false episodes ≤ 1 % of no-drift runs; a shift whose \
            PSI ≥ 0.1 confirmed within the minimum in ≥ 95 % of runs.
            """
    )

    @Option(name: .customLong("baseline-rows")) var baselineRows = 50_000
    @Option(name: .customLong("window-rows")) var windowRows = 1_000
    @Option(name: .customLong("no-drift-runs")) var noDriftRuns = 500
    @Option(name: .customLong("no-drift-windows"), help: "Windows per no-drift run.") var noDriftWindows = 24
    @Option(name: .customLong("shift-runs")) var shiftRuns = 200
    @Option(name: .customLong("clean-windows"), help: "Clean windows before a shift starts.") var cleanWindows = 5
    @Option(name: .customLong("drifted-windows"), help: "Windows after a shift starts.") var driftedWindows = 6
    @Option(help: "Confirmation policy: K of N windows, as K/N.") var confirm = "2/3"
    @Option(name: .customLong("drift-share"), help: "Share of the 5 features that flags a window (0.2 = any one).") var driftShare = 0.2
    @Option(name: .customLong("calibration-k")) var calibrationK = 3.0
    @Option var seed: UInt64 = 20_261_129
    @Option(help: "text or json.") var format: BenchFormat = .text

    func validate() throws {
        guard baselineRows >= 100, windowRows >= 10, noDriftRuns >= 1, noDriftWindows >= 1, shiftRuns >= 1,
              cleanWindows >= 0, driftedWindows >= 1 else {
            throw ValidationError("rows and runs must be positive (baseline ≥ 100 rows, windows ≥ 10 rows)")
        }
        guard baselineRows >= 2 * windowRows else { throw ValidationError("--baseline-rows must be at least twice --window-rows") }
        guard parsedConfirm != nil else { throw ValidationError("--confirm takes K/N with 1 ≤ K ≤ N ≤ 100, got \(confirm)") }
        guard driftShare > 0 && driftShare <= 1 else { throw ValidationError("--drift-share must be in (0, 1]") }
        guard calibrationK > 0 && calibrationK <= 10 else { throw ValidationError("--calibration-k must be in (0, 10]") }
    }

    var parsedConfirm: ModelSettings.ConfirmSpec? {
        let parts = confirm.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), k >= 1, k <= n, n <= 100 else { return nil }
        return ModelSettings.ConfirmSpec(windows: k, of: n)
    }

    func run() throws {
        var options = DetectionSimulation.Options()
        options.baselineRows = baselineRows
        options.windowRows = windowRows
        options.noDriftRuns = noDriftRuns
        options.noDriftWindows = noDriftWindows
        options.shiftRuns = shiftRuns
        options.cleanWindows = cleanWindows
        options.driftedWindows = driftedWindows
        options.driftShare = driftShare
        options.calibrationK = calibrationK
        options.seed = seed
        if let c = parsedConfirm { options.confirm = c }

        let clock = ContinuousClock()
        let started = clock.now
        let simulation = DetectionSimulation(options: options)
        let noDrift = simulation.runNoDrift()
        var shifts: [[DetectionSimulation.ShiftResult]] = []
        for scenario in DetectionSimulation.Scenario.standard { shifts.append(simulation.runShift(scenario)) }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

        switch format {
        case .json:
            struct Output: Encodable {
                var seed: UInt64
                var baselineRows: Int
                var windowRows: Int
                var confirm: String
                var driftShare: Double
                var calibrationK: Double
                var noDrift: [DetectionSimulation.NoDriftResult]
                var shifts: [DetectionSimulation.ShiftResult]
                var seconds: Double
                enum CodingKeys: String, CodingKey {
                    case seed, baselineRows = "baseline_rows", windowRows = "window_rows", confirm
                    case driftShare = "drift_share", calibrationK = "calibration_k", noDrift = "no_drift", shifts, seconds
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let out = Output(seed: seed, baselineRows: baselineRows, windowRows: windowRows, confirm: confirm, driftShare: driftShare,
                             calibrationK: calibrationK, noDrift: noDrift, shifts: shifts.flatMap { $0 }, seconds: seconds)
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
        case .text:
            print(renderDetection(simulation: simulation, noDrift: noDrift, shifts: shifts, seconds: seconds))
        }
    }

    private func renderDetection(simulation: DetectionSimulation, noDrift: [DetectionSimulation.NoDriftResult],
                                 shifts: [[DetectionSimulation.ShiftResult]], seconds: Double) -> String {
        let o = simulation.options
        func pct(_ x: Double) -> String { fixed1(x * 100) + "%" }
        var out = "driftwatch bench detection — seed \(o.seed), baseline \(o.baselineRows) rows, windows of \(o.windowRows) rows\n"
        out += "  a window drifts when ≥ \(fixed1(o.driftShare * 100))% of the 5 features drift (KS/chi² BH-adjusted p < 0.05 and PSI ≥ threshold)\n"
        out += "  or the PCA reconstruction error leaves its band; episodes confirm at \(o.confirm.windows) of \(o.confirm.of) windows\n"
        if let band = simulation.reconstructionBand {
            out += "  reconstruction-error band [\(formatFigure(band.lower)), \(formatFigure(band.upper))] (baseline chunks, mean ± 3σ)\n"
        }
        if let c = simulation.calibration {
            let psi = c.features.keys.sorted().compactMap { name in c.features[name]?.psi.map { "\(name) \(formatFigure($0.threshold))" } }
            out += "  calibrated PSI thresholds (mean + \(formatFigure(o.calibrationK))σ on the cube-root scale; fixed 0.1): \(psi.joined(separator: ", "))\n"
        }
        out += "\nNo drift: \(o.noDriftRuns) runs × \(o.noDriftWindows) windows\n"
        var rows = [["thresholds", "windows flagged", "by features", "by multivariate", "runs with a false episode", "target ≤ 1%"]]
        for r in noDrift {
            rows.append([r.mode, pct(r.windowFlagRate), "\(r.windowsFlaggedByFeatures)", "\(r.windowsFlaggedByMultivariate)",
                         "\(pct(r.falseEpisodeRate)) (\(r.runsWithConfirmedEpisode)/\(r.runs))", r.falseEpisodeRate <= 0.01 ? "met" : "MISSED"])
        }
        out += renderColumns(rows)
        for r in noDrift {
            let flags = r.featureFlags.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            out += "  \(r.mode): windows in which a feature drifted — \(flags.isEmpty ? "none" : flags.joined(separator: ", "))\n"
        }
        out += "\nInjected shifts: \(o.shiftRuns) runs each, \(o.cleanWindows) clean windows then \(o.driftedWindows) shifted\n"
        rows = [["scenario", "shift PSI", "window PSI", "thresholds", "confirmed ≤ \(o.confirm.windows) windows", "confirmed", "median delay",
                 "false before shift", "target (PSI ≥ 0.1: ≥ 95%)"]]
        for group in shifts {
            for r in group {
                let target: String
                if let psi = r.shiftPSI, psi >= 0.1 { target = r.minimumDelayRate >= 0.95 ? "met" : "MISSED" } else { target = "-" }
                rows.append([r.scenario, r.shiftPSI.map(formatFigure) ?? "-", r.meanPSI.map(formatFigure) ?? "-", r.mode, pct(r.minimumDelayRate), pct(r.detectionRate),
                             r.medianDelay.map { formatFigure($0) } ?? "-", "\(r.confirmedBeforeShift)", target])
            }
        }
        out += renderColumns(rows)
        out += "  shift PSI: the change's own PSI (200,000 shifted rows vs the baseline); window PSI: its mean over the shifted windows, sampling noise included\n"
        out += "\n\(fixed1(seconds)) s"
        return out
    }
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
