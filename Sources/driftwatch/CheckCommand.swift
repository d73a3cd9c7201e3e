import DriftTabular
import ArgumentParser
import DriftCore
import DriftStats
import Foundation

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare a baseline CSV with a current CSV; exit 1 when the data drifted.",
        discussion: """
            A feature drifts when its Benjamini–Hochberg adjusted p-value (KS for numeric, chi² for \
            categorical) is below --alpha AND its PSI reaches --psi-threshold (with --calibration \
            baseline_chunks: its PSI threshold calibrated on baseline chunks of the current file's size). \
            The data drifts when the drifted share reaches --drift-share, OR a drifted feature's PSI \
            reaches --major-psi (0.25, the "major shift" band; calibrated: plus the PSI noise of a \
            window of that size), OR the --prediction column drifts (--prediction-rule), OR the \
            multivariate reconstruction error leaves its band; the footer says which. Exit codes: \
            0 no drift, 1 drift, 2 bad usage or unreadable input.
            """
    )

    @Option(help: "Baseline (training) CSV with a header row.") var baseline: String
    @Option(help: "Current (live) CSV with a header row.") var current: String
    @Option(help: "Comma-separated columns to treat as categorical.") var categorical: String?
    @Option(help: "Comma-separated columns to skip.") var ignore: String?
    @Option(help: "Output: table or json.") var format: OutputFormat = .table
    @Option(help: "Significance level for adjusted p-values.") var alpha: Double = 0.05
    @Option(name: .customLong("psi-threshold"), help: "PSI a feature must reach to drift.") var psiThreshold: Double = 0.1
    @Option(name: .customLong("drift-share"), help: "Share of drifted features for dataset drift.") var driftShare: Double = 0.5
    @Option(help: "Binning preset: quantile, evidently or nannyml.") var binning: BinningPreset = .quantile
    @Option(help: "Quantile bins (quantile preset).") var bins: Int = 10
    @Option(name: .customLong("ks-method"), help: "KS p-value method: auto, exact or asymp.") var ksMethod: KSMethod = .auto
    @Option(help: "Chi² test for categoricals: contingency or goodness-of-fit.") var chi2: ChiSquareKind = .contingency
    @Option(help: "P-value correction across features: bh, by, bonferroni or none.") var correction: PValueCorrection = .bh
    @Option(name: .customLong("min-values"), help: "Fewer usable current values give 'insufficient data'.") var minValues: Int = 30
    @Option(name: .customLong("variance-share"), help: "Multivariate drift: PCA components kept to explain this share of variance (0 turns it off).")
    var varianceShare: Double = 0.65
    @Option(help: "PSI threshold: fixed (--psi-threshold) or baseline_chunks (mean + k·σ over baseline chunks of the current size).")
    var calibration: ThresholdCalibration = .fixed
    @Option(name: .customLong("calibration-k"), help: "k of the calibrated thresholds.") var calibrationK: Double = 3
    @Option(name: .customLong("major-psi"),
            help: "A drifted feature with PSI ≥ this drifts the data by itself; 'off' turns the rule off (default \(DetectorConfig().majorPSI.map { formatFigure($0) } ?? "off")).")
    var majorPSI: MajorPSIArgument?
    @Option(help: "The model's prediction (score) column: evaluated on its own, outside the features' correction and share.")
    var prediction: String?
    @Option(name: .customLong("prediction-rule"),
            help: "How the prediction's drift counts: moderate (PSI ≥ --psi-threshold), major (≥ --major-psi) or ignored (default \(DetectorConfig().predictionRule.rawValue)).")
    var predictionRule: PredictionRule?

    func run() throws {
        var config = DetectorConfig()
        config.alpha = alpha
        config.psiThreshold = psiThreshold
        config.driftShare = driftShare
        config.binning = binning
        config.bins = bins
        config.ksMethod = ksMethod
        config.chiSquare = chi2
        config.correction = correction
        config.minCurrentValues = minValues
        config.calibration = calibration
        config.calibrationK = calibrationK
        if let majorPSI { config.majorPSI = majorPSI.value }
        if let predictionRule { config.predictionRule = predictionRule }
        do { try config.validate() } catch { throw UserFacingError(message: "\(error)") }
        guard varianceShare >= 0 && varianceShare <= 1 else { throw UserFacingError(message: "--variance-share must be in [0, 1], got \(varianceShare)") }

        let categoricalColumns = Set(splitList(categorical))
        let ignored = Set(splitList(ignore))
        let baselineTable: Table
        let currentTable: Table
        do {
            baselineTable = try readCSVTable(path: baseline, plan: CSVColumnPlan(categorical: categoricalColumns, ignore: ignored))
            for name in categoricalColumns.union(ignored) where !baselineTable.columnNames.contains(name) && !ignored.contains(name) {
                throw InputError(source: baseline, message: "--categorical names column \"\(name)\", which the header does not have")
            }
            if let prediction, !baselineTable.columnNames.contains(prediction) {
                throw InputError(source: baseline, message: "--prediction names column \"\(prediction)\", which the header does not have")
            }
            guard baselineTable.columns.contains(where: { $0.name != prediction }) else {
                throw InputError(source: baseline, message: "no columns left to compare")
            }
            let profile = BaselineProfile(table: baselineTable, config: config)
            currentTable = try readCSVTable(path: current, plan: CSVColumnPlan(ignore: ignored, fixedKinds: profile.kinds))
            let missing = baselineTable.columnNames.filter { !currentTable.columnNames.contains($0) }
            if !missing.isEmpty {
                throw InputError(source: current, line: 1, message: "missing baseline column(s): \(missing.joined(separator: ", "))")
            }
            // The prediction column is judged on its own, as the service does; the features are the rest.
            var features = profile
            features.features = profile.features.filter { $0.name != prediction }
            var window = WindowData(table: currentTable)
            let predictionInput = prediction.flatMap { name in
                profile.features.first { $0.name == name }.map { (baseline: $0, window: window.features[name]) }
            }
            if let prediction { window.features[prediction] = nil }
            var report = evaluateWindow(baseline: features, window: window, config: config, prediction: predictionInput)
            if varianceShare > 0 {
                report.attach(multivariate: multivariateDrift(baseline: baselineTable.without(prediction), current: currentTable.without(prediction),
                                                              varianceShare: varianceShare, sigmas: calibration == .baselineChunks ? calibrationK : 3))
            }
            try emit(report)
            if report.summary.windowDrifted { throw ExitCode(1) }
        } catch let error as InputError {
            throw UserFacingError(message: error.description)
        }
    }

    private func emit(_ report: DriftReport) throws {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            var data = try encoder.encode(report)
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
        case .table:
            let color = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(renderTable(report, color: color), terminator: "")
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// `--major-psi 0.25`, or `off`.
struct MajorPSIArgument: ExpressibleByArgument {
    var value: Double?
    init?(argument: String) {
        if argument == "off" || argument == "none" {
            value = nil
        } else if let v = Double(argument) {
            value = v
        } else {
            return nil
        }
    }
}

extension BinningPreset: ExpressibleByArgument {}
extension PredictionRule: ExpressibleByArgument {}
extension KSMethod: ExpressibleByArgument {}
extension ChiSquareKind: ExpressibleByArgument {}
extension PValueCorrection: ExpressibleByArgument {}
extension ThresholdCalibration: ExpressibleByArgument {}

func splitList(_ s: String?) -> [String] {
    guard let s else { return [] }
    return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

extension Table {
    var columnNames: [String] { columns.map(\.name) }

    /// The table without the named column (itself when nil).
    func without(_ name: String?) -> Table {
        guard let name else { return self }
        return Table(source: source, rows: rows, columns: columns.filter { $0.name != name })
    }
}
