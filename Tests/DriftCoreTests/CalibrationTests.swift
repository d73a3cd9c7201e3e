import DriftSimulation
import DriftCore
import DriftStats
import Foundation
import XCTest

/// Thresholds calibrated on baseline chunks (`detector.calibration: baseline_chunks`) and the
/// detection simulation behind `driftwatch bench detection`.
final class CalibrationTests: XCTestCase {
    func normalTable(_ name: String, rows: Int, seed: UInt64, shift: Double = 0) -> Table {
        var g = SeededGenerator(seed: seed)
        var q = QualityCounts()
        q.total = rows
        let values = (0..<rows).map { _ in 10 + 2 * (shift + g.normal()) }
        return Table(source: name, rows: rows, columns: [.numeric(NumericColumn(name: "x", values: values, quality: q))])
    }

    var calibrated: DetectorConfig {
        var c = DetectorConfig()
        c.calibration = .baselineChunks
        return c
    }

    /// A chunk is part of the baseline it is compared with; scaled by N/(N−m) its KS D and PSI
    /// behave like an independent window's. With m = N/4 the unscaled KS D would be 25 % low.
    func testChunkStatisticsMatchIndependentWindows() {
        let profile = BaselineProfile(table: normalTable("baseline", rows: 4000, seed: 1))
        var ks = 0.0, psi = 0.0, chunks = 0.0
        for seed in 0..<3 as Range<UInt64> {
            let c = BaselineCalibration(baseline: profile, windowRows: 1000, config: calibrated, seed: seed)
            let f = try! XCTUnwrap(c.features["x"])
            XCTAssertEqual(f.chunkValues, 1000)
            XCTAssertEqual(f.chunks, 200)
            ks += f.ksStatistic!.mean
            psi += f.psi!.mean
            chunks += 1
        }
        ks /= chunks
        psi /= chunks
        var liveKS = 0.0, livePSI = 0.0
        let windows = 300
        for w in 0..<windows {
            let report = evaluateWindow(baseline: profile, window: WindowData(table: normalTable("w", rows: 1000, seed: 1000 + UInt64(w))),
                                        config: DetectorConfig())
            liveKS += report.features[0].ks!.statistic
            livePSI += report.features[0].psi!
        }
        liveKS /= Double(windows)
        livePSI /= Double(windows)
        XCTAssertEqual(ks / liveKS, 1, accuracy: 0.08, "calibrated mean KS D \(ks) vs independent windows \(liveKS)")
        XCTAssertEqual(psi / livePSI, 1, accuracy: 0.15, "calibrated mean PSI \(psi) vs independent windows \(livePSI)")
        XCTAssertGreaterThan(abs(ks * 0.75 / liveKS - 1), 0.15, "without the overlap correction the mean would be visibly low")
    }

    func testSameBaselineAndWindowSizeGiveTheSameThresholds() {
        let profile = BaselineProfile(table: normalTable("baseline", rows: 20_000, seed: 2))
        let a = BaselineCalibration(baseline: profile, windowRows: 500, config: calibrated)
        let b = BaselineCalibration(baseline: profile, windowRows: 500, config: calibrated)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.features["x"]?.chunks, 200)
        XCTAssertEqual(BaselineCalibration(baseline: profile, windowRows: 10_000, config: calibrated).features["x"]?.chunks, 200)
        let large = BaselineProfile(table: normalTable("baseline", rows: 250_000, seed: 2))
        XCTAssertEqual(BaselineCalibration(baseline: large, windowRows: 100_000, config: calibrated).features["x"]?.chunks, 50,
                       "at most 5M values per feature")
        let psi = try! XCTUnwrap(a.features["x"]?.psi)
        XCTAssertGreaterThan(psi.threshold, psi.mean + 3 * psi.std, "the cube-root scale puts a right-skewed metric's 3σ further out")
        XCTAssertLessThan(psi.threshold, psi.mean + 5 * psi.std)
    }

    /// Large windows: 0.2σ moves PSI to ~0.04, under the fixed 0.1 but far over a 20k-row window's noise.
    func testCalibratedGateCatchesASmallShiftTheFixedOneSleepsOn() throws {
        let profile = BaselineProfile(table: normalTable("baseline", rows: 200_000, seed: 3))
        let shifted = WindowData(table: normalTable("shifted", rows: 20_000, seed: 4, shift: 0.2))
        let fixed = evaluateWindow(baseline: profile, window: shifted, config: DetectorConfig())
        XCTAssertFalse(fixed.features[0].drifted, "\(fixed.features[0].reasons)")
        XCTAssertNil(fixed.features[0].thresholds)
        let report = evaluateWindow(baseline: profile, window: shifted, config: calibrated)
        let f = report.features[0]
        XCTAssertTrue(f.drifted, "\(f.reasons)")
        let t = try XCTUnwrap(f.thresholds)
        XCTAssertEqual(t.decision, "calibrated")
        XCTAssertEqual(t.windowRows, 20_000)
        XCTAssertEqual(t.metrics.map(\.metric), ["psi", "ks_statistic", "js", "wasserstein_normed"])
        let psi = try XCTUnwrap(t.metrics.first)
        XCTAssertEqual(psi.fixed, 0.1)
        XCTAssertLessThan(try XCTUnwrap(psi.calibrated), 0.01)
        XCTAssertTrue(f.reasons.contains { $0.contains("calibrated on baseline chunks; fixed 0.1") }, "\(f.reasons)")
        XCTAssertNil(t.metrics[1].fixed, "KS D has no fixed threshold (the fixed rule uses its p-value)")

        let clean = evaluateWindow(baseline: profile, window: WindowData(table: normalTable("clean", rows: 20_000, seed: 5)), config: calibrated)
        XCTAssertFalse(clean.features[0].drifted, "\(clean.features[0].reasons)")
    }

    func testBaselineSmallerThanTwoWindowsKeepsTheFixedThreshold() throws {
        let profile = BaselineProfile(table: normalTable("baseline", rows: 1500, seed: 6))
        let report = evaluateWindow(baseline: profile, window: WindowData(table: normalTable("w", rows: 1000, seed: 7, shift: 1)), config: calibrated)
        let t = try XCTUnwrap(report.features[0].thresholds)
        XCTAssertEqual(t.decision, "fixed")
        XCTAssertEqual(t.chunks, 0)
        XCTAssertTrue(t.note?.contains("fewer than twice a window's 1000") == true, t.note ?? "nil")
        XCTAssertTrue(report.features[0].drifted)
        XCTAssertTrue(report.features[0].reasons.contains("PSI \(formatFigure(report.features[0].psi!)) ≥ 0.1"), "\(report.features[0].reasons)")
    }

    func testCategoricalFeaturesAreCalibratedToo() throws {
        var g = SeededGenerator(seed: 8)
        func column(_ rows: Int, extra: Double) -> Table {
            var q = QualityCounts()
            q.total = rows
            let codes = (0..<rows).map { _ -> Int32 in g.uniform() < extra ? 3 : Int32(Int(g.uniform() * 3)) }
            return Table(source: "c", rows: rows, columns: [.categorical(CategoricalColumn(name: "c", codes: codes, dictionary: ["a", "b", "c", "new"], quality: q))])
        }
        let profile = BaselineProfile(table: column(30_000, extra: 0))
        let report = evaluateWindow(baseline: profile, window: WindowData(table: column(1000, extra: 0.02)), config: calibrated)
        let t = try XCTUnwrap(report.features[0].thresholds)
        XCTAssertEqual(t.decision, "calibrated")
        XCTAssertEqual(t.metrics.map(\.metric), ["psi", "js"])
        XCTAssertTrue(report.features[0].drifted, "2 % of a category the baseline never had: \(report.features[0].reasons)")
    }

    func testDetectorSettingsDecodeAndReject() throws {
        let d = try JSONDecoder().decode(DetectorConfig.self, from: Data(#"{"calibration":"baseline_chunks","calibration_k":2.5}"#.utf8))
        XCTAssertEqual(d.calibration, .baselineChunks)
        XCTAssertEqual(d.calibrationK, 2.5)
        XCTAssertEqual(try JSONDecoder().decode(DetectorConfig.self, from: Data("{}".utf8)).calibration, .fixed)
        XCTAssertThrowsError(try JSONDecoder().decode(DetectorConfig.self, from: Data(#"{"calibration_k":0}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("calibration_k must be in (0, 10]"), "\($0)")
        }
        XCTAssertThrowsError(try JSONDecoder().decode(DetectorConfig.self, from: Data(#"{"calibration":"chunks"}"#.utf8)))
    }

    /// calibration_k also sets the PCA band: mean ± k·σ of the baseline chunks' errors.
    func testReconstructionBandFollowsK() throws {
        var g = SeededGenerator(seed: 12)
        let n = 20_000
        var x = [Double](), y = [Double](), z = [Double]()
        for _ in 0..<n {
            let a = g.normal()
            x.append(a)
            y.append(0.8 * a + 0.6 * g.normal())
            z.append(g.normal())
        }
        let model = try XCTUnwrap(ReconstructionModel(featureNames: ["x", "y", "z"], columns: [x, y, z], chunkSize: 1000))
        let window = [Array(x.prefix(1000)), Array(y.prefix(1000)), Array(z.prefix(1000))]
        let three = compareMultivariate(model, columns: window)
        XCTAssertEqual(three.upperThreshold, model.upperThreshold)
        let two = compareMultivariate(model, columns: window, sigmas: 2)
        XCTAssertEqual(two.upperThreshold, model.chunkErrorMean + 2 * model.chunkErrorStd, accuracy: 1e-15)
        XCTAssertEqual(two.lowerThreshold, max(0, model.chunkErrorMean - 2 * model.chunkErrorStd), accuracy: 1e-15)
        XCTAssertLessThan(two.upperThreshold, three.upperThreshold)
        XCTAssertEqual(two.reconstructionError, three.reconstructionError)
    }

    func testReservedEvidenceNameIsRejectedAsAFeature() {
        let settings = ModelSettings(features: [.init(name: multivariateEvidenceName, kind: .numeric)])
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue("\($0)".contains("reserved"), "\($0)") }
    }

    /// The simulation's machinery on a small run (the rates themselves come from the bench), with
    /// the original per-feature setting (one drifted feature of five drifts the window, the score
    /// not counted): a 0.5σ shift is confirmed at the policy's minimum, a correlation flip by the
    /// PCA error only, and clean streams stay quiet.
    func testDetectionSimulationSeparatesCleanAndShiftedStreams() throws {
        var options = DetectionSimulation.Options()
        options.baselineRows = 20_000
        options.noDriftRuns = 10
        options.noDriftWindows = 12
        options.shiftRuns = 10
        options.detector.driftShare = 0.2
        options.detector.majorPSI = nil
        options.detector.predictionRule = .ignored
        let simulation = DetectionSimulation(options: options)
        for r in simulation.runNoDrift() {
            XCTAssertEqual(r.windows, 120)
            XCTAssertLessThanOrEqual(r.runsWithConfirmedEpisode, 1, "\(r)")
            XCTAssertEqual(r.flaggedBy.majorFeature + r.flaggedBy.prediction, 0, "rules off")
        }
        let scenarios = simulation.model.changeTypes
        for r in simulation.runShift(scenarios[2]) {
            XCTAssertGreaterThan(r.meanPSI ?? 0, 0.15)
            XCTAssertEqual(r.shiftPSI.first?.name, "account_age")
            XCTAssertEqual(r.shiftPSI.first?.psi ?? 0, 0.25, accuracy: 0.03, "PSI of a 0.5σ normal shift ≈ δ² = 0.25")
            XCTAssertEqual(r.expectedBy, [.share])
            XCTAssertGreaterThanOrEqual(r.detectedWithinPolicyMinimum, 9, "\(r)")
        }
        for r in simulation.runShift(scenarios[5]) {
            XCTAssertNil(r.meanPSI)
            XCTAssertTrue(r.shiftPSI.isEmpty)
            XCTAssertGreaterThanOrEqual(r.detected, 9, "\(r)")
            XCTAssertGreaterThan(r.shiftedBy.multivariate, 0)
        }
        let fixedSmall = try XCTUnwrap(simulation.runShift(scenarios[0]).first)
        XCTAssertEqual(fixedSmall.detected, 0, "0.1σ (PSI ~0.01) never passes the fixed 0.1 on 1000-row windows")
    }

    /// The bench's evidence for rare false episodes: the Wilson bound of the runs, and the episode rate
    /// that the window flag rate implies, exactly, under "k of the last n windows".
    func testFalseEpisodeBoundsAndImpliedRate() throws {
        XCTAssertEqual(DetectionSimulation.wilsonUpper(0, of: 500), 0.00762, accuracy: 1e-5, "0 of 500: ≤ 0.76 % at 95 %")
        XCTAssertEqual(DetectionSimulation.wilsonUpper(10, of: 100), 0.1744, accuracy: 1e-4)
        let policy = ModelSettings.ConfirmSpec(windows: 2, of: 3)
        let q = 0.1
        XCTAssertEqual(try XCTUnwrap(DetectionSimulation.confirmationProbability(windowRate: q, windows: 2, confirm: policy)), q * q, accuracy: 1e-15)
        // By the third window: 2 of 3 flagged, = q²(3 − 2q).
        XCTAssertEqual(try XCTUnwrap(DetectionSimulation.confirmationProbability(windowRate: q, windows: 3, confirm: policy)),
                       q * q * (3 - 2 * q), accuracy: 1e-15)
        XCTAssertEqual(DetectionSimulation.confirmationProbability(windowRate: 1, windows: 24, confirm: policy), 1)
        XCTAssertEqual(DetectionSimulation.confirmationProbability(windowRate: 0, windows: 24, confirm: policy), 0)
        // 1 of 1: the first flagged window confirms.
        XCTAssertEqual(try XCTUnwrap(DetectionSimulation.confirmationProbability(windowRate: q, windows: 5, confirm: .init(windows: 1, of: 1))),
                       1 - pow(1 - q, 5), accuracy: 1e-15)
        XCTAssertNil(DetectionSimulation.confirmationProbability(windowRate: q, windows: 5, confirm: .init(windows: 2, of: 30)))
    }

    /// With the default window rule (drift_share 0.5, major_psi 0.25, the score counting), the
    /// fraud case of issue 14 on the 36-feature model — 5 of 36 features drifting, 3 of them with
    /// PSI ≥ 0.3, the score moderately — is confirmed at the policy's minimum; the share rule alone
    /// never confirms it.
    func testDefaultVerdictConfirmsTheFraudCaseTheShareAloneMisses() throws {
        var options = DetectionSimulation.Options()
        options.baselineRows = 20_000
        options.noDriftRuns = 6
        options.noDriftWindows = 12
        options.shiftRuns = 6
        let simulation = DetectionSimulation(model: .features36, options: options)
        XCTAssertEqual(simulation.model.featureKinds.filter { $0 == .numeric }.count, 31)
        XCTAssertEqual(simulation.model.featureKinds.filter { $0 == .categorical }.count, 5)
        for r in simulation.runNoDrift() { XCTAssertEqual(r.runsWithConfirmedEpisode, 0, "\(r)") }
        let fraud = try XCTUnwrap(simulation.model.minority.first { $0.name.hasPrefix("fraud case") })
        for r in simulation.runShift(fraud) {
            XCTAssertEqual(r.shiftPSI.count, 5)
            XCTAssertGreaterThanOrEqual(r.shiftPSI.filter { $0.psi >= 0.25 }.count, 3, "\(r.shiftPSI)")
            XCTAssertTrue(r.expectedBy.contains(.majorFeature))
            XCTAssertEqual(r.detectedWithinPolicyMinimum, r.runs, "\(r)")
            XCTAssertEqual(r.shiftedBy.share, 0, "5 of 36 never reaches drift_share 0.5")
            XCTAssertEqual(r.shiftedBy.majorFeature, r.shiftedWindows)
        }
    }
}
