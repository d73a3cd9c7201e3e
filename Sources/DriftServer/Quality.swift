import DriftCore
import DriftStats
import DriftStore
import Foundation

// Model quality from delayed labels: per window of labelled rows (by prediction time: a late
// label updates the window its prediction belongs to), per segment, against the quality of
// the labelled baseline; and, before labels arrive, the confidence-based estimate (NannyML's
// CBPE) from scores calibrated on the baseline.

/// The quality of the labelled baseline and the calibrator the estimate uses.
struct QualityBaseline: Codable, Sendable {
    var baselineVersion: Int
    var rows: Int
    var binary: BinaryQuality?
    var regression: RegressionQuality?
    var calibrator: IsotonicCalibrator?

    enum CodingKeys: String, CodingKey { case baselineVersion = "baseline_version", rows, binary, regression, calibrator }

    /// From the baseline's prediction and label columns (rows where both are numbers).
    static func make(spec: QualitySpec, version: Int, scores: [Double], labels: [Double]) -> QualityBaseline? {
        var s: [Double] = [], y: [Double] = []
        for (a, b) in zip(scores, labels) where a.isFinite && b.isFinite { s.append(a); y.append(b) }
        guard !s.isEmpty else { return nil }
        switch spec.task {
        case .binary:
            let positives = y.map { $0 >= 0.5 }
            return QualityBaseline(baselineVersion: version, rows: s.count,
                                   binary: binaryQuality(scores: s, labels: positives, threshold: spec.threshold),
                                   regression: nil, calibrator: IsotonicCalibrator(scores: s, labels: positives))
        case .regression:
            return QualityBaseline(baselineVersion: version, rows: s.count, binary: nil,
                                   regression: regressionQuality(predictions: s, targets: y), calibrator: nil)
        }
    }
}

/// A segment's value of the primary metric and its gap to the window's overall value.
struct SegmentQuality: Codable, Sendable, Equatable {
    var segment: String
    var rows: Int
    var value: Double?
    var gap: Double?
}

/// One window's quality: realized (labels), estimated (no labels needed), segments, verdict.
struct WindowQuality: Codable, Sendable {
    var seq: Int
    var labelledRows: Int
    var realizedBinary: BinaryQuality?
    var realizedRegression: RegressionQuality?
    var estimated: EstimatedBinaryQuality?
    var segments: [SegmentQuality]
    var metric: String
    var realized: Double?
    var estimatedValue: Double?
    var baseline: Double?
    /// nil until the window has `min_labelled_rows` labels.
    var degraded: Bool?

    enum CodingKeys: String, CodingKey {
        case seq, labelledRows = "labelled_rows", realizedBinary = "realized_binary", realizedRegression = "realized_regression"
        case estimated, segments, metric, realized, estimatedValue = "estimated_value", baseline, degraded
    }
}

/// The value of `metric` in a report (nil when undefined).
func qualityValue(_ metric: String, binary b: BinaryQuality?, regression r: RegressionQuality?) -> Double? {
    if let b {
        switch metric {
        case "roc_auc": return b.rocAUC
        case "average_precision": return b.averagePrecision
        case "precision": return b.precision
        case "recall": return b.recall
        case "f1": return b.f1
        case "accuracy": return b.accuracy
        case "log_loss": return b.logLoss
        case "brier": return b.brier
        case "expected_calibration_error": return b.expectedCalibrationError
        case "positive_rate": return b.positiveRate
        case "predicted_positive_rate": return b.predictedPositiveRate
        default: return nil
        }
    }
    if let r {
        switch metric {
        case "mae": return r.mae
        case "rmse": return r.rmse
        case "mape": return r.mape
        case "r2": return r.r2
        default: return nil
        }
    }
    return nil
}

func estimatedQualityValue(_ metric: String, _ e: EstimatedBinaryQuality?) -> Double? {
    guard let e else { return nil }
    switch metric {
    case "roc_auc": return e.rocAUC
    case "precision": return e.precision
    case "recall": return e.recall
    case "f1": return e.f1
    case "accuracy": return e.accuracy
    default: return nil
    }
}

extension WindowQuality {
    /// Realized quality of `labelled` rows (and segments), keeping an earlier estimate.
    static func realize(seq: Int, spec: QualitySpec, labelled: [LabelledPrediction], baseline: QualityBaseline?,
                        estimated: EstimatedBinaryQuality?) -> WindowQuality {
        func report(_ rows: [LabelledPrediction]) -> (BinaryQuality?, RegressionQuality?) {
            guard !rows.isEmpty else { return (nil, nil) }
            switch spec.task {
            case .binary: return (binaryQuality(scores: rows.map(\.score), labels: rows.map { $0.label >= 0.5 }, threshold: spec.threshold), nil)
            case .regression: return (nil, regressionQuality(predictions: rows.map(\.score), targets: rows.map(\.label)))
            }
        }
        let (b, r) = report(labelled)
        let overall = qualityValue(spec.metric, binary: b, regression: r)
        var segments: [SegmentQuality] = []
        if spec.segment != nil {
            let groups = Dictionary(grouping: labelled) { $0.segment ?? "(missing)" }
            for key in groups.keys.sorted() {
                let rows = groups[key] ?? []
                let (sb, sr) = report(rows)
                let v = qualityValue(spec.metric, binary: sb, regression: sr)
                segments.append(SegmentQuality(segment: key, rows: rows.count, value: v, gap: v.flatMap { v in overall.map { v - $0 } }))
            }
        }
        let base = qualityValue(spec.metric, binary: baseline?.binary, regression: baseline?.regression)
        var degraded: Bool?
        if labelled.count >= spec.minLabelledRows, let overall, let base {
            degraded = spec.higherIsBetter ? overall < base - spec.tolerance : overall > base + spec.tolerance
        }
        return WindowQuality(seq: seq, labelledRows: labelled.count, realizedBinary: b, realizedRegression: r, estimated: estimated,
                             segments: segments, metric: spec.metric, realized: overall,
                             estimatedValue: estimatedQualityValue(spec.metric, estimated), baseline: base, degraded: degraded)
    }
}

