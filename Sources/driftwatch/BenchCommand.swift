import DriftSimulation
import ArgumentParser
import DriftCore
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures (run a release build).",
        subcommands: [BenchStatsCommand.self, BenchIngestCommand.self, BenchStoreCommand.self, BenchDetectionCommand.self]
    )
}

struct BenchStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Time baseline preparation and one window's evaluation on seeded synthetic data.",
        discussion: """
            Numeric features of mixed shapes (normal, lognormal, uniform, exponential); in the window \
            every fifth feature is shifted by 0.25σ and every seventh scaled by 1.3. Evaluation = KS, \
            PSI, JS, Wasserstein, percentiles and data quality for all features, features spread over \
            all cores. bench/stats.sh runs this next to scipy/numpy on the same data.
            """
    )

    @Option(name: .customLong("baseline-rows")) var baselineRows: Int = 1_000_000
    @Option(name: .customLong("window-rows")) var windowRows: Int = 100_000
    @Option var features: Int = 30
    @Option var seed: UInt64 = 20_251_129
    @Option(help: "Evaluations to time; the median is reported.") var `repeat`: Int = 7
    @Option(help: "Write DIR/baseline.csv and DIR/current.csv and exit.") var export: String?
    @Option(help: "text or json.") var format: BenchFormat = .text

    func validate() throws {
        guard baselineRows >= 1, windowRows >= 1, features >= 1, `repeat` >= 1 else {
            throw ValidationError("rows, features and repeat must be ≥ 1")
        }
    }

    func run() throws {
        let dataSet = SyntheticDataSet(featureCount: features)
        let clock = ContinuousClock()
        let genStart = clock.now
        let baselineTable = dataSet.table(rows: baselineRows, seed: seed, drifted: false, source: "synthetic baseline")
        let windowTable = dataSet.table(rows: windowRows, seed: seed &+ 1, drifted: true, source: "synthetic window")
        let generation = clock.now - genStart

        if let export {
            try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
            try writeCSV(baselineTable, to: export + "/baseline.csv")
            try writeCSV(windowTable, to: export + "/current.csv")
            FileHandle.standardError.write(Data("wrote \(export)/baseline.csv and \(export)/current.csv\n".utf8))
            return
        }

        let config = DetectorConfig()
        let prepStart = clock.now
        let profile = BaselineProfile(table: baselineTable, config: config)
        let prepare = clock.now - prepStart
        let window = WindowData(table: windowTable)

        var times: [Duration] = []
        var report: DriftReport?
        for _ in 0..<`repeat` {
            let t0 = clock.now
            report = evaluateWindow(baseline: profile, window: window, config: config)
            times.append(clock.now - t0)
        }
        times.sort()
        let median = times[times.count / 2]
        let ms = { (d: Duration) in Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
        let evaluateMs = ms(median)
        let rowsPerSecond = Double(windowRows) / (evaluateMs / 1000)
        let drifted = report?.summary.drifted ?? 0
        let cores = ProcessInfo.processInfo.activeProcessorCount

        switch format {
        case .json:
            let object = StatsBenchResult(
                features: features, baselineRows: baselineRows, windowRows: windowRows,
                prepareMs: ms(prepare), evaluateMs: evaluateMs, evaluateMinMs: ms(times[0]),
                evaluateRowsPerS: rowsPerSecond, repeat: `repeat`, cores: cores,
                driftedFeatures: drifted, generationMs: ms(generation))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(object)
            print(String(decoding: data, as: UTF8.self))
        case .text:
            print("driftwatch bench stats — \(features) numeric features, baseline \(baselineRows) rows, window \(windowRows) rows, \(cores) cores")
            print("  prepare baseline (once):   \(fixed1(ms(prepare))) ms")
            print("  evaluate one window:       \(fixed1(evaluateMs)) ms median of \(`repeat`) (min \(fixed1(ms(times[0]))) ms)  = \(Int(rowsPerSecond)) rows/s")
            print("  (KS + PSI + JS + Wasserstein + percentiles + quality; \(drifted) features drifted)")
        }
    }
}

enum BenchFormat: String, ExpressibleByArgument {
    case text, json
}

func fixed1(_ x: Double) -> String {
    String((x * 10).rounded() / 10)
}

func fixed2(_ x: Double) -> String {
    String((x * 100).rounded() / 100)
}

/// Writes a numeric table as CSV (missing = empty field), buffered.
func writeCSV(_ table: Table, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil),
          let handle = FileHandle(forWritingAtPath: path) else {
        throw UserFacingError(message: "\(path): cannot create file")
    }
    defer { try? handle.close() }
    let columns: [[Double]] = table.columns.map { column in
        if case .numeric(let c) = column { return c.values }
        return []
    }
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20)
    buffer.append(contentsOf: table.columns.map(\.name).joined(separator: ",").utf8)
    buffer.append(0x0A)
    for r in 0..<table.rows {
        for (i, column) in columns.enumerated() {
            if i > 0 { buffer.append(0x2C) }
            let v = column[r]
            if !v.isNaN { buffer.append(contentsOf: v.description.utf8) }
        }
        buffer.append(0x0A)
        if buffer.count > 1 << 20 {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
    try handle.write(contentsOf: buffer)
}

/// `driftwatch bench stats --format json`.
struct StatsBenchResult: Encodable {
    var features: Int
    var baselineRows: Int
    var windowRows: Int
    var prepareMs: Double
    var evaluateMs: Double
    var evaluateMinMs: Double
    var evaluateRowsPerS: Double
    var `repeat`: Int
    var cores: Int
    var driftedFeatures: Int
    var generationMs: Double
    enum CodingKeys: String, CodingKey {
        case features, baselineRows = "baseline_rows", windowRows = "window_rows", prepareMs = "prepare_ms", evaluateMs = "evaluate_ms"
        case evaluateMinMs = "evaluate_min_ms", evaluateRowsPerS = "evaluate_rows_per_s", `repeat`, cores
        case driftedFeatures = "drifted_features", generationMs = "generation_ms"
    }
}
