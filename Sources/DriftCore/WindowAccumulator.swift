import DriftStats

/// Data-quality checks counted at ingest, per feature.
public enum QualityCheck: String, Sendable, CaseIterable, Codable {
    case missing, nan, infinite
    case wrongType = "wrong_type"
    case outOfRange = "out_of_range"
    case unseenCategory = "unseen_category"
    case unknownFeature = "unknown_feature"
}

/// What one batch added to the window, for counters: production rows, and quality
/// violations by (feature, check).
public struct IngestTally: Sendable, Equatable {
    public var rowsByEndpoint: [Endpoint: Int] = [:]
    public var violations: [String: [QualityCheck: Int]] = [:]
    /// Production prediction values that are numbers (for the prediction histogram).
    public var predictionValues: [Double] = []

    public init() {}

    mutating func add(_ feature: String, _ check: QualityCheck, _ n: Int = 1) {
        guard n > 0 else { return }
        violations[feature, default: [:]][check, default: 0] += n
    }
}

/// The limits a window's values are checked against at ingest: the baseline's range and categories.
public struct IngestLimits: Sendable {
    public var ranges: [String: ClosedRange<Double>] = [:]
    public var categories: [String: Set<String>] = [:]

    public init() {}

    public init(baseline: BaselineProfile) {
        for f in baseline.features {
            if let n = f.numeric, let lo = n.min, let hi = n.max { ranges[f.name] = lo...hi }
            if let c = f.categorical { categories[f.name] = Set(c.counts.keys) }
        }
    }
}

/// The open window of one model: production observations gathered column by column
/// (finite numbers contiguous, category counts), with their quality counts. Rebuilt after
/// a restart by replaying the stored batches the last closed window did not cover.
public struct WindowAccumulator: Sendable {
    public let features: [ModelSettings.FeatureSpec]
    public let prediction: ModelSettings.FeatureSpec?
    public private(set) var rows = 0
    public private(set) var firstBatchID: Int64?
    public private(set) var lastBatchID: Int64?
    /// Event-time bounds of the window's rows (Unix seconds).
    public private(set) var startedAt: Double?
    public private(set) var endedAt: Double?
    /// When the window opened (receipt time of its first batch), for time-based windows.
    public private(set) var openedAt: Double?

    private var numbers: [[Double]]
    private var counts: [[String: Int]]
    private var quality: [QualityCounts]

    public init(settings: ModelSettings) {
        features = settings.features
        prediction = settings.prediction
        let n = settings.features.count + (settings.prediction == nil ? 0 : 1)
        numbers = Array(repeating: [], count: n)
        counts = Array(repeating: [:], count: n)
        quality = Array(repeating: QualityCounts(), count: n)
    }

    private var allSpecs: [ModelSettings.FeatureSpec] { features + (prediction.map { [$0] } ?? []) }

    /// Adds the production rows of a stored batch. Other endpoints (canary, shadow) are
    /// counted but stay out of the drift window.
    @discardableResult
    public mutating func add(_ batch: ObservationBatch, batchID: Int64, receivedAt: Double, limits: IngestLimits) -> IngestTally {
        var tally = IngestTally()
        var production: [Int] = []
        production.reserveCapacity(batch.count)
        for r in 0..<batch.count {
            let e = r < batch.endpoints.count ? batch.endpoints[r] : .production
            tally.rowsByEndpoint[e, default: 0] += 1
            if e == .production { production.append(r) }
        }
        if firstBatchID == nil { firstBatchID = batchID }
        lastBatchID = batchID
        if openedAt == nil { openedAt = receivedAt }
        guard !production.isEmpty else { return tally }
        let allProduction = production.count == batch.count
        // A prediction-only batch (KServe's response half) adds predictions, not rows: the
        // request half with the same id already counted the row.
        let predictionOnly = batch.features.isEmpty && batch.predictions != nil
        if !predictionOnly { rows += production.count }
        for r in production {
            let t = (r < batch.timestamps.count ? batch.timestamps[r] : nil) ?? receivedAt
            if startedAt.map({ t < $0 }) ?? true { startedAt = t }
            if endedAt.map({ t > $0 }) ?? true { endedAt = t }
        }

        let specs = allSpecs
        for (k, spec) in specs.enumerated() {
            let isPrediction = prediction != nil && k == specs.count - 1
            let column = isPrediction ? batch.predictions : batch.features[spec.name]
            var q = QualityCounts()
            q.total = production.count
            guard let column else {
                q.missing = production.count
                quality[k] = quality[k] + q
                tally.add(spec.name, .missing, production.count)
                continue
            }
            switch spec.kind {
            case .numeric:
                let range = limits.ranges[spec.name]
                var outOfRange = 0
                /// A number the sender sent: finite values feed the statistics, the rest is counted.
                func take(_ v: Double) {
                    if v.isFinite {
                        numbers[k].append(v)
                        if let range, !range.contains(v) { outOfRange += 1 }
                        if isPrediction { tally.predictionValues.append(v) }
                    } else if v.isNaN { q.nan += 1 } else if v > 0 { q.positiveInfinity += 1 } else { q.negativeInfinity += 1 }
                }
                if case .numbers(let values, let missingRows) = column, missingRows.isEmpty, allProduction {
                    // Fast path: a dense numeric column. (No reserveCapacity here: reserving the
                    // exact size on every batch defeats geometric growth and copies the whole
                    // column each time — it was 11 % of ingest CPU.)
                    for v in values { take(v) }
                } else {
                    for r in production {
                        switch column.cell(at: r) {
                        case .missing: q.missing += 1
                        case .number(let v): take(v)
                        case .text(let s):
                            // JSON cannot carry NaN/Inf; senders spell them as strings.
                            switch s.lowercased() {
                            case "nan": q.nan += 1
                            case "inf", "+inf", "infinity", "+infinity": q.positiveInfinity += 1
                            case "-inf", "-infinity": q.negativeInfinity += 1
                            default: q.wrongType += 1
                            }
                        }
                    }
                }
                tally.add(spec.name, .outOfRange, outOfRange)
            case .categorical:
                let known = limits.categories[spec.name]
                var unseen = 0
                for r in production {
                    let label: String
                    switch column.cell(at: r) {
                    case .missing:
                        q.missing += 1
                        continue
                    case .text(let s): label = s
                    case .number(let v): label = categoryLabel(v)
                    }
                    counts[k][label, default: 0] += 1
                    if let known, !known.contains(label) { unseen += 1 }
                }
                tally.add(spec.name, .unseenCategory, unseen)
            }
            quality[k] = quality[k] + q
            tally.add(spec.name, .missing, q.missing)
            tally.add(spec.name, .nan, q.nan)
            tally.add(spec.name, .infinite, q.infinite)
            tally.add(spec.name, .wrongType, q.wrongType)
        }
        // Columns the schema does not know are counted, not silently dropped.
        let known = Set(specs.map(\.name))
        for (name, column) in batch.features where !known.contains(name) {
            var present = 0
            for r in production { if column.cell(at: r) != .missing { present += 1 } }
            tally.add(name, .unknownFeature, present)
        }
        return tally
    }

    /// The window's features (schema order) for `evaluateWindow`, and the prediction column.
    public func windowData(source: String) -> (features: WindowData, prediction: FeatureWindow?) {
        var out: [String: FeatureWindow] = [:]
        for (k, spec) in features.enumerated() { out[spec.name] = featureWindow(k, spec.kind) }
        let p = prediction.map { featureWindow(features.count, $0.kind) }
        return (WindowData(source: source, rows: rows, features: out), p)
    }

    private func featureWindow(_ k: Int, _ kind: FeatureKind) -> FeatureWindow {
        kind == .numeric ? .numeric(values: numbers[k], quality: quality[k]) : .categorical(counts: counts[k], quality: quality[k])
    }

    /// Quality counts so far, by feature name (for `GET /v1/models/{model}`).
    public var qualityByFeature: [String: QualityCounts] {
        Dictionary(uniqueKeysWithValues: zip(allSpecs.map(\.name), quality))
    }
}

/// Category label of a number: integral values without ".0" ("13", as CSV baselines spell them).
public func categoryLabel(_ v: Double) -> String {
    if v.isFinite && v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return v.description
}
