import DriftStats
import Foundation

/// Production and shadow (candidate) predictions of the same requests, joined by prediction
/// id, and what they say about the candidate. Rows without an id cannot be joined and are
/// only counted.
public struct ShadowJoin: Sendable {
    /// Predictions waiting for their partner, by id (bounded: the oldest are dropped).
    private var production: [String: Double] = [:]
    private var shadow: [String: Double] = [:]
    private var order: [(id: String, shadow: Bool)] = []
    /// Joined pairs since the candidate arrived.
    public private(set) var pairs: [(production: Double, shadow: Double)] = []
    /// The prediction id of each pair (labels join them later: quality of both on the same rows).
    public private(set) var pairIDs: [String] = []
    public private(set) var shadowRows = 0
    public private(set) var unjoinable = 0
    public let capacity: Int

    public init(capacity: Int = 200_000) { self.capacity = capacity }

    /// Adds one batch's predictions: production rows on one side; shadow rows, and canary
    /// rows (KServe's `ce-endpoint: canary`), on the candidate's side.
    public mutating func add(_ batch: ObservationBatch) {
        guard let predictions = batch.predictions else { return }
        for r in 0..<batch.count {
            let endpoint = r < batch.endpoints.count ? batch.endpoints[r] : .production
            let candidateSide = endpoint == .shadow || endpoint == .canary
            guard case .number(let score) = predictions.cell(at: r), score.isFinite else { continue }
            if candidateSide { shadowRows += 1 }
            guard r < batch.ids.count, let id = batch.ids[r] else {
                if candidateSide { unjoinable += 1 }
                continue
            }
            if candidateSide {
                if let p = production.removeValue(forKey: id) { pairs.append((p, score)); pairIDs.append(id) } else { remember(id, score, shadow: true) }
            } else {
                if let s = shadow.removeValue(forKey: id) { pairs.append((score, s)); pairIDs.append(id) } else { remember(id, score, shadow: false) }
            }
        }
    }

    private mutating func remember(_ id: String, _ score: Double, shadow isShadow: Bool) {
        if isShadow { shadow[id] = score } else { production[id] = score }
        order.append((id, isShadow))
        // Amortised trim: drop the oldest half of the remembered ids once over capacity.
        if order.count > 2 * capacity {
            for (oldID, wasShadow) in order.prefix(order.count - capacity) {
                if wasShadow { shadow[oldID] = nil } else { production[oldID] = nil }
            }
            order.removeFirst(order.count - capacity)
        }
    }

    /// The comparison over every pair joined so far (the gate judges the candidate on all of
    /// its shadow traffic, not one window).
    public func comparison(threshold: Double) -> ShadowComparison {
        ShadowComparison(pairs: pairs, threshold: threshold, shadowRows: shadowRows, unjoinable: unjoinable)
    }
}

/// Shadow against production on the same requests, for one window.
public struct ShadowComparison: Sendable, Codable, Equatable {
    public var joinedRows: Int
    public var shadowRows: Int
    public var unjoinableShadowRows: Int
    /// Share of joined rows where both sides fall on the same side of the decision threshold.
    public var agreement: Double?
    /// Pearson correlation of the two scores.
    public var correlation: Double?
    /// Two-sample KS between the two score distributions (as scipy.stats.ks_2samp).
    public var ksStatistic: Double?
    public var ksPvalue: Double?
    /// PSI of shadow scores against production scores, 10 production-quantile bins.
    public var psi: Double?
    public var meanProduction: Double?
    public var meanShadow: Double?
    public var threshold: Double

    enum CodingKeys: String, CodingKey {
        case joinedRows = "joined_rows", shadowRows = "shadow_rows", unjoinableShadowRows = "unjoinable_shadow_rows"
        case agreement, correlation, ksStatistic = "ks_statistic", ksPvalue = "ks_pvalue", psi
        case meanProduction = "mean_production", meanShadow = "mean_shadow", threshold
    }

    public init(pairs: [(production: Double, shadow: Double)], threshold: Double, shadowRows: Int, unjoinable: Int) {
        joinedRows = pairs.count
        self.shadowRows = shadowRows
        unjoinableShadowRows = unjoinable
        self.threshold = threshold
        guard !pairs.isEmpty else { return }
        let n = Double(pairs.count)
        let p = pairs.map(\.production), s = pairs.map(\.shadow)
        agreement = Double(pairs.filter { ($0.production >= threshold) == ($0.shadow >= threshold) }.count) / n
        let mp = p.reduce(0, +) / n, ms = s.reduce(0, +) / n
        meanProduction = mp
        meanShadow = ms
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in pairs {
            sxy += (a - mp) * (b - ms)
            sxx += (a - mp) * (a - mp)
            syy += (b - ms) * (b - ms)
        }
        // Undefined for a constant side (checked exactly: the centred sums of a constant
        // column are rounding noise, not zero).
        let constant = p.min() == p.max() || s.min() == s.max()
        correlation = constant ? nil : sxy / (sxx * syy).squareRoot()
        let ks = ks2Samp(p, s)
        ksStatistic = ks.statistic
        ksPvalue = ks.pvalue
        // PSI over deciles of the production scores (the reference side).
        let sortedP = p.sorted()
        var cuts: [Double] = []
        for k in 1..<10 {
            let c = sortedP[min(sortedP.count - 1, Int(Double(k) * n / 10))]
            if cuts.last != c { cuts.append(c) }
        }
        func shares(_ values: [Double]) -> [Double] {
            var counts = [Int](repeating: 0, count: cuts.count + 1)
            cuts.withUnsafeBufferPointer { c in
                for v in values { counts[upperBound(c, v)] += 1 }
            }
            return counts.map { Double($0) / n }
        }
        psi = populationStabilityIndex(reference: shares(p), current: shares(s))
    }
}

/// The validation gate's thresholds (config `remediation.gate`).
public struct GatePolicy: Sendable, Codable, Equatable {
    /// Joined rows needed before any verdict other than `pending`.
    public var minJoinedRows: Int = 1000
    /// Decision threshold on the score (agreement is measured there).
    public var decisionThreshold: Double = 0.5
    public var minAgreement: Double = 0.9
    public var minCorrelation: Double = 0.8
    /// Largest PSI between shadow and production scores.
    public var maxScorePSI: Double = 0.25
    /// Candidate quality may be at most this much below production (once labels are joined).
    public var maxQualityDrop: Double = 0.01

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minJoinedRows = "min_joined_rows", decisionThreshold = "decision_threshold", minAgreement = "min_agreement"
        case minCorrelation = "min_correlation", maxScorePSI = "max_score_psi", maxQualityDrop = "max_quality_drop"
    }

    /// `remediation.gate` in the config file: absent keys take the defaults above; unknown keys are errors.
    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = GatePolicy()
        minJoinedRows = try c.value(.minJoinedRows, or: d.minJoinedRows)
        decisionThreshold = try c.value(.decisionThreshold, or: d.decisionThreshold)
        minAgreement = try c.value(.minAgreement, or: d.minAgreement)
        minCorrelation = try c.value(.minCorrelation, or: d.minCorrelation)
        maxScorePSI = try c.value(.maxScorePSI, or: d.maxScorePSI)
        maxQualityDrop = try c.value(.maxQualityDrop, or: d.maxQualityDrop)
    }

    public func validate() throws {
        guard minJoinedRows >= 1 else { throw ConfigError(message: "remediation.gate.min_joined_rows must be ≥ 1") }
        for (name, v) in [("min_agreement", minAgreement), ("min_correlation", minCorrelation)] where !(v >= -1 && v <= 1) {
            throw ConfigError(message: "remediation.gate.\(name) must be in [-1, 1], got \(v)")
        }
        guard maxScorePSI > 0, maxQualityDrop >= 0 else { throw ConfigError(message: "remediation.gate.max_score_psi must be > 0 and max_quality_drop ≥ 0") }
    }
}

/// The validation gate's answer on a candidate: still collecting evidence, passed or failed.
public enum GateVerdict: String, Sendable, Codable, CaseIterable {
    case pending, pass, fail
}

/// The verdict and why, from the comparison accumulated so far (all windows since the
/// candidate's shadow started).
public struct GateDecision: Sendable, Codable, Equatable {
    public var verdict: GateVerdict
    public var reasons: [String]
    public var comparison: ShadowComparison
    /// Both models' quality on the same labelled rows, once enough labels arrived.
    public var quality: QualityComparison?

    public init(policy: GatePolicy, comparison c: ShadowComparison, quality: QualityComparison? = nil) {
        comparison = c
        self.quality = quality
        guard c.joinedRows >= policy.minJoinedRows else {
            verdict = .pending
            reasons = ["\(c.joinedRows) of \(policy.minJoinedRows) joined shadow/production rows so far"]
            return
        }
        var failures: [String] = []
        if let a = c.agreement, a < policy.minAgreement {
            failures.append("agreement \(formatFigure(a)) < \(formatFigure(policy.minAgreement)) at threshold \(formatFigure(policy.decisionThreshold))")
        }
        if let r = c.correlation, r < policy.minCorrelation {
            failures.append("score correlation \(formatFigure(r)) < \(formatFigure(policy.minCorrelation))")
        } else if c.correlation == nil {
            failures.append("score correlation undefined (a constant score)")
        }
        if let psi = c.psi, psi > policy.maxScorePSI {
            failures.append("score PSI \(formatFigure(psi)) > \(formatFigure(policy.maxScorePSI))")
        }
        if let q = quality {
            let drop = q.higherIsBetter ? q.production - q.candidate : q.candidate - q.production
            if drop > policy.maxQualityDrop {
                failures.append("\(q.metric) \(formatFigure(q.candidate)) vs production \(formatFigure(q.production)) on \(q.rows) labelled rows: worse by more than \(formatFigure(policy.maxQualityDrop))")
            }
        }
        verdict = failures.isEmpty ? .pass : .fail
        reasons = failures.isEmpty
            ? ["agreement \(formatFigure(c.agreement ?? 0)), correlation \(formatFigure(c.correlation ?? 0)), score PSI \(formatFigure(c.psi ?? 0)) on \(c.joinedRows) joined rows"]
            : failures
    }
}

/// Production and candidate quality on the same labelled rows (the model-quality metric).
public struct QualityComparison: Sendable, Codable, Equatable {
    public var metric: String
    public var higherIsBetter: Bool
    public var production: Double
    public var candidate: Double
    public var rows: Int

    public init(metric: String, higherIsBetter: Bool, production: Double, candidate: Double, rows: Int) {
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.production = production
        self.candidate = candidate
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey { case metric, higherIsBetter = "higher_is_better", production, candidate, rows }
}
