import DriftCore
import DriftStats
import Foundation
import XCTest

/// The window verdict (README, "How driftwatch decides"): the drifted share, a drifted feature
/// with a major effect, the prediction, the multivariate error — and the settings behind it.
final class WindowVerdictTests: XCTestCase {
    private func column(_ name: String, rows: Int, generator g: inout SeededGenerator, shift: Double = 0) -> Column {
        var q = QualityCounts()
        q.total = rows
        return .numeric(NumericColumn(name: name, values: (0..<rows).map { _ in shift + g.normal() }, quality: q))
    }

    /// `count` standard-normal features f0, f1, …, feature `f0` shifted by `shift`σ, and a score
    /// column shifted by `scoreShift`σ.
    private func table(rows: Int, count: Int, seed: UInt64, shift: Double = 0, scoreShift: Double = 0) -> Table {
        var g = SeededGenerator(seed: seed)
        var columns = (0..<count).map { column("f\($0)", rows: rows, generator: &g, shift: $0 == 0 ? shift : 0) }
        columns.append(column("score", rows: rows, generator: &g, shift: scoreShift))
        return Table(source: "t\(seed)", rows: rows, columns: columns)
    }

    /// Features and score of a table evaluated as the service does: the score on its own.
    private func evaluate(baseline: Table, window: Table, config: DetectorConfig) -> DriftReport {
        let all = BaselineProfile(table: baseline, config: config)
        var features = all
        features.features = all.features.filter { $0.name != "score" }
        var data = WindowData(table: window)
        let score = data.features["score"]
        data.features["score"] = nil
        let prediction = all.features.first { $0.name == "score" }.map { (baseline: $0, window: score) }
        return evaluateWindow(baseline: features, window: data, config: config, prediction: prediction)
    }

    private func feature(_ report: DriftReport, _ name: String) throws -> FeatureResult {
        try XCTUnwrap(report.features.first { $0.name == name }, "no feature \(name)")
    }

    /// One feature of 36 moving 1σ (PSI ≈ 0.9): 1/36 is far under drift_share 0.5, yet the window
    /// drifts by the major-effect rule, and the summary says so.
    func testOneFeatureWithAMajorEffectDriftsTheWindow() throws {
        let config = DetectorConfig()
        let report = evaluate(baseline: table(rows: 20_000, count: 36, seed: 1), window: table(rows: 1000, count: 36, seed: 2, shift: 1),
                              config: config)
        let f0 = try feature(report, "f0")
        XCTAssertTrue(f0.drifted)
        XCTAssertEqual(f0.effect, .major)
        XCTAssertGreaterThan(f0.psi ?? 0, 0.25)
        XCTAssertTrue(f0.reasons.contains { $0.contains("major") }, "\(f0.reasons)")
        XCTAssertEqual(report.summary.drifted, 1)
        XCTAssertFalse(report.summary.datasetDrifted, "1 of 36 < 0.5: the share rule alone would miss it")
        let verdict = try XCTUnwrap(report.summary.verdict)
        XCTAssertTrue(verdict.drifted)
        XCTAssertEqual(verdict.by, [.majorFeature])
        XCTAssertEqual(verdict.majorFeatures, ["f0"])
        XCTAssertNil(verdict.prediction)
        XCTAssertTrue(report.summary.windowDrifted)
        XCTAssertTrue(report.verdictExplanation.contains("major_feature: f0 (PSI"), report.verdictExplanation)

        // The rule off (null) or raised above the effect: the window is not drifted.
        var off = config
        off.majorPSI = nil
        let quiet = evaluate(baseline: table(rows: 20_000, count: 36, seed: 1), window: table(rows: 1000, count: 36, seed: 2, shift: 1),
                             config: off)
        XCTAssertEqual(try feature(quiet, "f0").effect, .moderate, "no major band: at most moderate")
        XCTAssertFalse(quiet.summary.windowDrifted)
        XCTAssertEqual(quiet.summary.verdict?.by, [])
    }

    /// A significant but moderate shift (PSI ≈ 0.12) in one of 36 features: a per-feature flag
    /// (drifted), not a drifted window.
    func testOneModerateFeatureAmong36IsNotAWindowDrift() throws {
        let report = evaluate(baseline: table(rows: 20_000, count: 36, seed: 3), window: table(rows: 1000, count: 36, seed: 4, shift: 0.36),
                              config: DetectorConfig())
        let f0 = try feature(report, "f0")
        XCTAssertTrue(f0.drifted, "\(f0.reasons)")
        XCTAssertEqual(try XCTUnwrap(f0.psi), 0.12, accuracy: 0.05)
        XCTAssertEqual(f0.effect, .moderate)
        XCTAssertFalse(report.summary.datasetDrifted)
        XCTAssertEqual(report.summary.verdict?.drifted, false)
        XCTAssertFalse(report.summary.windowDrifted)
        XCTAssertTrue(report.verdictExplanation.hasPrefix("window not drifted"), report.verdictExplanation)
    }

    /// The prediction is judged on its own (outside the share) and, by default, its drift alone
    /// drifts the window; `prediction_rule` says otherwise.
    func testPredictionDriftCountsAsConfigured() throws {
        let baseline = table(rows: 20_000, count: 35, seed: 5)
        let window = table(rows: 1000, count: 35, seed: 6, scoreShift: 0.4)  // score PSI ≈ 0.15: moderate
        let report = evaluate(baseline: baseline, window: window, config: DetectorConfig())
        let score = try XCTUnwrap(report.prediction)
        XCTAssertEqual(score.name, "score")
        XCTAssertTrue(score.drifted, "\(score.reasons)")
        XCTAssertEqual(score.effect, .moderate)
        XCTAssertEqual(report.summary.features, 35, "the prediction is not one of the features")
        XCTAssertEqual(report.summary.drifted, 0)
        XCTAssertEqual(report.summary.verdict?.by, [.prediction])
        XCTAssertEqual(report.summary.verdict?.prediction, "score")
        XCTAssertTrue(report.summary.windowDrifted)
        XCTAssertEqual(score.ks?.pvalueAdjusted, score.ks?.pvalue, "one test: nothing to correct")

        var major = DetectorConfig()
        major.predictionRule = .major
        XCTAssertFalse(evaluate(baseline: baseline, window: window, config: major).summary.windowDrifted, "PSI 0.15 < major 0.25")
        let big = evaluate(baseline: baseline, window: table(rows: 1000, count: 35, seed: 6, scoreShift: 1), config: major)
        XCTAssertEqual(big.summary.verdict?.by, [.prediction])
        var ignored = DetectorConfig()
        ignored.predictionRule = .ignored
        let reported = evaluate(baseline: baseline, window: window, config: ignored)
        XCTAssertEqual(reported.prediction?.drifted, true, "still reported")
        XCTAssertFalse(reported.summary.windowDrifted)
    }

    /// With calibration the major band is major_psi plus the PSI a window of that size shows by
    /// chance (the chunks' mean): a feature just over major_psi is major with fixed thresholds and
    /// not with calibrated ones.
    func testCalibratedMajorThresholdAddsTheNoiseFloor() throws {
        let baseline = table(rows: 20_000, count: 3, seed: 7)
        let window = table(rows: 300, count: 3, seed: 8, shift: 1)
        var fixed = DetectorConfig()
        let observed = try XCTUnwrap(try feature(evaluate(baseline: baseline, window: window, config: fixed), "f0").psi)
        var calibrated = fixed
        calibrated.calibration = .baselineChunks
        let first = try feature(evaluate(baseline: baseline, window: window, config: calibrated), "f0")
        let thresholds = try XCTUnwrap(first.thresholds)
        XCTAssertTrue(thresholds.isCalibrated)
        let noise = try XCTUnwrap(thresholds.metrics.first { $0.metric == "psi" }?.baselineMean)
        XCTAssertEqual(noise, 9.0 / 300, accuracy: 0.015, "PSI noise ≈ (bins − 1)/n")
        XCTAssertEqual(try XCTUnwrap(thresholds.majorPSI), 0.25 + noise, accuracy: 1e-12)
        XCTAssertEqual(first.effect, .major, "PSI \(observed) is far over 0.25 + \(noise)")

        // major_psi set between observed − noise and observed.
        fixed.majorPSI = observed - noise / 2
        calibrated.majorPSI = fixed.majorPSI
        let byFixed = try feature(evaluate(baseline: baseline, window: window, config: fixed), "f0")
        let byCalibrated = try feature(evaluate(baseline: baseline, window: window, config: calibrated), "f0")
        XCTAssertTrue(byFixed.drifted && byCalibrated.drifted)
        XCTAssertEqual(byFixed.effect, .major)
        XCTAssertEqual(byCalibrated.effect, .moderate, "observed \(observed) < \(observed - noise / 2) + noise \(noise)")
        XCTAssertNil(byFixed.thresholds)
    }

    /// Calibrated, a large window's gate is tiny (its noise is), so a 0.15σ score shift (PSI ≈ 0.02) on 10,000 rows
    /// drifts — with a small effect, below the moderate band (0.1 + noise): reported, not an episode.
    func testCalibratedScoreRuleKeepsTheModerateBand() throws {
        var calibrated = DetectorConfig()
        calibrated.calibration = .baselineChunks
        let baseline = table(rows: 40_000, count: 1, seed: 14)
        let report = evaluate(baseline: baseline, window: table(rows: 10_000, count: 1, seed: 15, scoreShift: 0.15), config: calibrated)
        let score = try XCTUnwrap(report.prediction)
        XCTAssertTrue(score.drifted, "\(score.reasons)")
        XCTAssertEqual(score.effect, .small)
        XCTAssertTrue(score.thresholds?.isCalibrated == true, "the prediction is calibrated with the features")
        XCTAssertEqual(try XCTUnwrap(score.thresholds?.moderatePSI), 0.1, accuracy: 0.01)
        XCTAssertFalse(report.summary.windowDrifted, report.verdictExplanation)
        XCTAssertTrue(report.verdictExplanation.contains("prediction score drifted with a small effect only"), report.verdictExplanation)
        let moved = evaluate(baseline: baseline, window: table(rows: 10_000, count: 1, seed: 15, scoreShift: 0.45), config: calibrated)
        XCTAssertEqual(moved.prediction?.effect, .moderate)
        XCTAssertEqual(moved.summary.verdict?.by, [.prediction])
    }

    /// The multivariate error and the share still count, and are named.
    func testShareAndMultivariateAreNamedRules() throws {
        let config = DetectorConfig()
        var report = evaluate(baseline: table(rows: 20_000, count: 3, seed: 9), window: table(rows: 1000, count: 3, seed: 10), config: config)
        XCTAssertEqual(report.summary.verdict?.by, [])
        report.attach(multivariate: MultivariateResult(reconstructionError: 2, lowerThreshold: 0.5, upperThreshold: 1, drifted: true,
                                                        components: 2, explainedVarianceShare: 0.7, rows: 1000))
        XCTAssertEqual(report.summary.verdict?.by, [.multivariate])
        XCTAssertTrue(report.summary.windowDrifted)
        XCTAssertTrue(report.verdictExplanation.contains("multivariate: PCA reconstruction error 2 outside [0.5, 1]"), report.verdictExplanation)

        let all = evaluate(baseline: table(rows: 20_000, count: 3, seed: 9), window: table(rows: 1000, count: 3, seed: 11, shift: 1),
                           config: { var c = config; c.driftShare = 0.3; return c }())
        XCTAssertEqual(all.summary.verdict?.by, [.share, .majorFeature], "1 of 3 ≥ 0.3, and f0 is major: rules in their fixed order")
    }

    func testDetectorConfigRejectsUnknownKeysNamingThem() throws {
        let decoder = JSONDecoder()
        XCTAssertThrowsError(try decoder.decode(DetectorConfig.self, from: Data(#"{"alpha":0.05,"major_ps":0.3}"#.utf8))) { error in
            XCTAssertEqual((error as? DecodingError).map(describeConfigurationError), #"major_ps: unknown key; did you mean "major_psi"?"#)
        }
        // Inside a model's settings, with the path to the key.
        let settings = #"{"features":[{"name":"a","kind":"numeric"}],"detector":{"drift_shares":0.3}}"#
        XCTAssertThrowsError(try decoder.decode(ModelSettings.self, from: Data(settings.utf8))) { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["detector", "drift_shares"])
            XCTAssertEqual(context.debugDescription, #"unknown key; did you mean "drift_share"?"#)
        }
        // Every key this version writes reads back.
        var config = DetectorConfig()
        config.calibration = .baselineChunks
        config.predictionRule = .major
        config.jsBase = 2
        XCTAssertEqual(try decoder.decode(DetectorConfig.self, from: try JSONEncoder().encode(config)), config)
    }

    func testMajorPSIDefaultsNullAndValidation() throws {
        let decoder = JSONDecoder()
        XCTAssertEqual(try decoder.decode(DetectorConfig.self, from: Data("{}".utf8)).majorPSI, 0.25)
        XCTAssertEqual(try decoder.decode(DetectorConfig.self, from: Data(#"{"major_psi":0.4}"#.utf8)).majorPSI, 0.4)
        let off = try decoder.decode(DetectorConfig.self, from: Data(#"{"major_psi":null}"#.utf8))
        XCTAssertNil(off.majorPSI)
        let json = String(decoding: try JSONEncoder().encode(off), as: UTF8.self)
        XCTAssertTrue(json.contains(#""major_psi":null"#), "off is written as null, not left out (which reads as the default): \(json)")
        XCTAssertNil(try decoder.decode(DetectorConfig.self, from: Data(json.utf8)).majorPSI)
        XCTAssertEqual(try decoder.decode(DetectorConfig.self, from: Data(#"{"prediction_rule":"ignored"}"#.utf8)).predictionRule, .ignored)
        XCTAssertThrowsError(try decoder.decode(DetectorConfig.self, from: Data(#"{"major_psi":-1}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("major_psi must be ≥ 0"), "\(error)")
        }
        XCTAssertThrowsError(try decoder.decode(DetectorConfig.self, from: Data(#"{"prediction_rule":"sometimes"}"#.utf8)))
    }

    /// The summary's JSON: `dataset_drifted` keeps its meaning (the share), the verdict says why.
    func testSummaryJSONCarriesTheVerdictAndOldReportsStillRead() throws {
        let report = evaluate(baseline: table(rows: 20_000, count: 36, seed: 12), window: table(rows: 1000, count: 36, seed: 13, shift: 1, scoreShift: 0.5),
                              config: DetectorConfig())
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any])
        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        XCTAssertEqual(summary["dataset_drifted"] as? Bool, false)
        let verdict = try XCTUnwrap(summary["verdict"] as? [String: Any])
        XCTAssertEqual(verdict["drifted"] as? Bool, true)
        XCTAssertEqual(verdict["by"] as? [String], ["major_feature", "prediction"])
        XCTAssertEqual(verdict["major_features"] as? [String], ["f0"])
        XCTAssertEqual(verdict["prediction"] as? String, "score")
        let features = try XCTUnwrap(object["features"] as? [[String: Any]])
        XCTAssertEqual(features.first?["name"] as? String, "f0")
        XCTAssertEqual(features.first?["effect"] as? String, "major")
        XCTAssertEqual((object["prediction"] as? [String: Any])?["drifted"] as? Bool, true)
        XCTAssertEqual((object["detector"] as? [String: Any])?["major_psi"] as? Double, 0.25)
        XCTAssertEqual(try JSONDecoder().decode(DriftReport.self, from: try JSONEncoder().encode(report)), report)

        // A summary stored before the verdict existed: the window verdict is the share or the multivariate error.
        let old = #"{"features":9,"evaluated":9,"insufficient":0,"drifted":1,"drifted_share":0.11,"drift_share_threshold":0.5,"dataset_drifted":false,"extra_columns":[],"multivariate_drifted":true}"#
        let decoded = try JSONDecoder().decode(DriftSummary.self, from: Data(old.utf8))
        XCTAssertNil(decoded.verdict)
        XCTAssertTrue(decoded.windowDrifted)
    }
}
