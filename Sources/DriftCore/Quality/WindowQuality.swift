import DriftStats
import Foundation

/// A segment's value of the primary metric and its gap to the window's overall value.
public struct SegmentQuality: Codable, Sendable, Equatable {
    public var segment: String
    public var rows: Int
    public var value: Double?
    public var gap: Double?

    public init(segment: String, rows: Int, value: Double?, gap: Double?) {
        self.segment = segment
        self.rows = rows
        self.value = value
        self.gap = gap
    }
}

/// One window's quality: realized (labels), estimated (no labels needed), segments, verdict.
public struct WindowQuality: Codable, Sendable {
    public var seq: Int
    public var labelledRows: Int
    public var realizedBinary: BinaryQuality?
    public var realizedRegression: RegressionQuality?
    public var estimated: EstimatedBinaryQuality?
    public var segments: [SegmentQuality]
    public var metric: String
    public var realized: Double?
    public var estimatedValue: Double?
    public var baseline: Double?
    /// nil until the window has `min_labelled_rows` labels.
    public var degraded: Bool?

    enum CodingKeys: String, CodingKey {
        case seq, labelledRows = "labelled_rows", realizedBinary = "realized_binary", realizedRegression = "realized_regression"
        case estimated, segments, metric, realized, estimatedValue = "estimated_value", baseline, degraded
    }

    public init(seq: Int, labelledRows: Int, realizedBinary: BinaryQuality?, realizedRegression: RegressionQuality?,
                estimated: EstimatedBinaryQuality?, segments: [SegmentQuality], metric: String, realized: Double?,
                estimatedValue: Double?, baseline: Double?, degraded: Bool?) {
        self.seq = seq
        self.labelledRows = labelledRows
        self.realizedBinary = realizedBinary
        self.realizedRegression = realizedRegression
        self.estimated = estimated
        self.segments = segments
        self.metric = metric
        self.realized = realized
        self.estimatedValue = estimatedValue
        self.baseline = baseline
        self.degraded = degraded
    }
}

extension WindowQuality {
    /// Realized quality of `labelled` rows (and segments), keeping an earlier estimate.
    public static func realize(seq: Int, spec: QualitySpec, labelled: [LabelledPrediction], baseline: QualityBaseline?,
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
