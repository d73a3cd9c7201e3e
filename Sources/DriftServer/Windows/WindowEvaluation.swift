import DriftCore
import DriftStats
import DriftStore
import Foundation

/// What the background evaluation of one closed window needs, copied off the model actor so
/// that ingest never waits for the statistics.
struct WindowEvaluationJob: Sendable {
    var model: String
    var seq: Int
    var window: WindowAccumulator
    var baseline: ModelBaseline
    var settings: ModelSettings
    /// The multivariate reference, when the settings turn multivariate drift on.
    var multivariate: MultivariateBaseline?
    /// Thresholds calibrated for an earlier window (reused when the size is within 10 %).
    var cachedCalibration: BaselineCalibration?
    var now: Date
}

/// A window's statistics before they are recorded.
struct WindowEvaluation: Sendable {
    var features: DriftReport
    var prediction: FeatureResult?
    var calibration: BaselineCalibration?
    var seconds: Double
}

extension WindowEvaluationJob {
    /// Evaluates the window: calibration (`baseline_chunks`), every feature and the
    /// prediction, the PCA reconstruction error read back from the window's batches.
    func run(store: any Store) throws -> WindowEvaluation {
        let started = ContinuousClock.now
        var calibration: BaselineCalibration?
        if settings.detector.calibration == .baselineChunks {
            // Row windows are always the same size; time windows recalibrate when their size moves > 10 %.
            if let cachedCalibration, abs(Double(cachedCalibration.windowRows - window.rows)) <= 0.1 * Double(cachedCalibration.windowRows) {
                calibration = cachedCalibration
            } else {
                calibration = baseline.calibration(windowRows: window.rows, config: settings.detector)
            }
        }
        var result = evaluate(window: window, baseline: baseline, config: settings.detector, model: model, seq: seq,
                              now: now.timeIntervalSince1970, calibration: calibration)
        if let multivariate, let first = window.firstBatchID, let last = window.lastBatchID {
            let sigmas = settings.detector.calibration == .baselineChunks ? settings.detector.calibrationK : 3
            result.features.attach(multivariate: try multivariate.compare(store: store, model: model, batches: first...last, sigmas: sigmas))
        }
        let elapsed = ContinuousClock.now - started
        return WindowEvaluation(
            features: result.features, prediction: result.prediction, calibration: calibration,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}
