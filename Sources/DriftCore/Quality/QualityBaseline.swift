import DriftStats
import Foundation

// Model quality from delayed labels: per window of labelled rows (by prediction time: a late
// label updates the window its prediction belongs to), per segment, against the quality of
// the labelled baseline; and, before labels arrive, the confidence-based estimate (NannyML's
// CBPE) from scores calibrated on the baseline.

/// The quality of the labelled baseline and the calibrator the estimate uses.
public struct QualityBaseline: Codable, Sendable {
    public var baselineVersion: Int
    public var rows: Int
    public var binary: BinaryQuality?
    public var regression: RegressionQuality?
    public var calibrator: IsotonicCalibrator?

    enum CodingKeys: String, CodingKey { case baselineVersion = "baseline_version", rows, binary, regression, calibrator }

    public init(baselineVersion: Int, rows: Int, binary: BinaryQuality?, regression: RegressionQuality?, calibrator: IsotonicCalibrator?) {
        self.baselineVersion = baselineVersion
        self.rows = rows
        self.binary = binary
        self.regression = regression
        self.calibrator = calibrator
    }

    /// From the baseline's prediction and label columns (rows where both are numbers).
    public static func make(spec: QualitySpec, version: Int, scores: [Double], labels: [Double]) -> QualityBaseline? {
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
