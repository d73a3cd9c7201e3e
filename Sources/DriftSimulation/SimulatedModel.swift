import DriftCore
import DriftStats
import Foundation

/// The simulated fraud models of `driftwatch bench detection`. Every feature is a transform of a
/// latent standard normal (independent, or correlated in pairs): normal, lognormal (amounts,
/// ages, distances), integer counts (floor of a lognormal: many ties), an hour of day (24 values)
/// and a [0, 1] risk score; categorical features draw their categories from fixed shares, each
/// category with a risk. The score (the prediction) is sigmoid(−3 + Σ weight·latent + Σ
/// weight·risk): a deterministic function of the features, no extra draws, with a few features
/// carrying most of its weight (as a gradient-boosted model's importances do) and the rest
/// little. A change to a heavily weighted feature moves the score; one to a lightly weighted
/// feature does not.
///
/// - `features5`: the original five — `amount` (lognormal), `account_age` (normal),
///   `txn_velocity` and `distance_km` (correlation +0.8), `merchant_category` (6 categories).
///   Its feature columns are drawn exactly as before issue 14 (same draws, same order).
/// - `features36`: fraud-like, 31 numeric + 5 categorical: amount, account_age_days,
///   distance_from_home_km, txn_hour, velocity and count pairs, `v1`…`v21` (PCA-like
///   components, as in the public credit-card fraud data), with correlated pairs; device_type,
///   merchant_category, country, channel, card_type.
/// - `features100`: the 36 plus `v22`…`v75` and ten more categoricals (85 numeric + 15
///   categorical), the additions lightly weighted.
public struct SimulatedModel: Sendable {
    /// The model sizes of the bench.
    public enum Preset: Int, Sendable, Codable, CaseIterable {
        case features5 = 5
        case features36 = 36
        case features100 = 100
    }

    enum Marginal: Sendable {
        case normal(mean: Double, sd: Double)
        case lognormal(mu: Double, sigma: Double)
        /// ⌊exp(mu + sigma·z)⌋: a count with many ties at small values.
        case count(mu: Double, sigma: Double)
        /// ⌊24·Φ(z)⌋: the hour of day.
        case hour
        /// Φ(z): a score in (0, 1).
        case unit

        func value(_ z: Double) -> Double {
            switch self {
            case .normal(let mean, let sd): mean + sd * z
            case .lognormal(let mu, let sigma): exp(mu + sigma * z)
            case .count(let mu, let sigma): floor(exp(mu + sigma * z))
            case .hour: Swift.min(23, floor(24 * standardNormalCDF(z)))
            case .unit: standardNormalCDF(z)
            }
        }
    }

    struct Categories: Sendable {
        var names: [String]
        var shares: [Double]
        var risk: [Double]
        var newCategory: String
        var newRisk: Double
    }

    enum Kind: Sendable {
        case numeric(Marginal)
        case categorical(Categories)
    }

    struct Column: Sendable {
        var name: String
        var kind: Kind
        /// Weight in the score's logit.
        var weight: Double
    }

    /// Two numeric features whose latent normals are correlated.
    struct Pair: Sendable {
        var first: Int
        var second: Int
        var rho: Double
    }

    public static let predictionName = "score"
    public let preset: Preset
    let columns: [Column]
    let pairs: [Pair]
    let intercept = -3.0

    public var featureNames: [String] { columns.map(\.name) }
    public var featureKinds: [FeatureKind] {
        columns.map { c in
            switch c.kind {
            case .numeric: .numeric
            case .categorical: .categorical
            }
        }
    }

    public init(_ preset: Preset) {
        self.preset = preset
        var columns: [Column] = []
        var pairs: [(String, String, Double)] = []
        func numeric(_ name: String, _ m: Marginal, _ w: Double) { columns.append(Column(name: name, kind: .numeric(m), weight: w)) }
        func categorical(_ name: String, _ names: [String], _ shares: [Double], _ risk: [Double], _ w: Double,
                         new: String = "other_new", newRisk: Double = 1.5) {
            columns.append(Column(name: name, kind: .categorical(Categories(names: names, shares: shares, risk: risk,
                                                                            newCategory: new, newRisk: newRisk)), weight: w))
        }
        switch preset {
        case .features5:
            numeric("amount", .lognormal(mu: 3.5, sigma: 0.9), 0.8)
            numeric("account_age", .normal(mean: 400, sd: 150), -0.6)
            numeric("txn_velocity", .normal(mean: 0, sd: 1), 0.6)
            numeric("distance_km", .normal(mean: 0, sd: 1), 0.4)
            categorical("merchant_category", ["grocery", "travel", "electronics", "restaurants", "fuel", "gaming"],
                        [0.30, 0.25, 0.20, 0.12, 0.08, 0.05], [-0.5, 0.3, 0.6, -0.3, -0.4, 0.8], 0.5, new: "crypto_exchange")
            pairs = [("txn_velocity", "distance_km", 0.8)]
        case .features36, .features100:
            numeric("amount", .lognormal(mu: 3.5, sigma: 0.9), 0.8)
            numeric("account_age_days", .lognormal(mu: 6.0, sigma: 0.8), -0.7)
            numeric("distance_from_home_km", .lognormal(mu: 2.0, sigma: 1.2), 0.5)
            numeric("txn_hour", .hour, 0.25)
            numeric("txn_velocity_1h", .normal(mean: 0, sd: 1), 0.6)
            numeric("txn_count_24h", .count(mu: 1.5, sigma: 0.7), 0.2)
            numeric("avg_amount_30d", .lognormal(mu: 3.6, sigma: 0.6), -0.2)
            numeric("failed_logins_24h", .count(mu: -0.5, sigma: 1.0), 0.3)
            numeric("ip_risk_score", .unit, 0.4)
            numeric("email_age_days", .lognormal(mu: 5.5, sigma: 1.0), -0.3)
            for k in 1...21 { numeric("v\(k)", .normal(mean: 0, sd: 1), 0.25 * pow(0.8, Double(k - 1))) }
            categorical("device_type", ["mobile", "desktop", "tablet", "pos"], [0.55, 0.30, 0.10, 0.05], [0, -0.3, 0.2, 1.0], 0.6)
            categorical("merchant_category", ["grocery", "restaurants", "fuel", "travel", "electronics", "fashion", "gaming", "digital_goods"],
                        [0.25, 0.15, 0.12, 0.12, 0.12, 0.10, 0.08, 0.06], [-0.5, -0.3, -0.4, 0.3, 0.6, 0.1, 0.8, 1.0], 0.5,
                        new: "crypto_exchange")
            categorical("country", ["DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "BR", "NG"],
                        [0.30, 0.15, 0.12, 0.10, 0.08, 0.08, 0.07, 0.05, 0.03, 0.02], [-0.3, -0.2, -0.1, 0.1, -0.2, 0, 0, 0.2, 0.6, 1.0], 0.4)
            categorical("channel", ["online", "in_store", "phone"], [0.6, 0.3, 0.1], [0.3, -0.5, 0.4], 0.2)
            categorical("card_type", ["debit", "credit", "prepaid", "corporate"], [0.5, 0.35, 0.1, 0.05], [-0.1, 0, 0.8, -0.2], 0.15)
            pairs = [("txn_velocity_1h", "txn_count_24h", 0.8), ("amount", "avg_amount_30d", 0.6), ("v1", "v2", 0.5),
                     ("v3", "v4", -0.4), ("v5", "v6", 0.6), ("v7", "v8", 0.3)]
            if preset == .features100 {
                for k in 22...75 { numeric("v\(k)", .normal(mean: 0, sd: 1), 0.02) }
                let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
                for (i, l) in letters.enumerated() {
                    let n = 3 + i % 4
                    let raw = (0..<n).map { 1.0 / Double($0 + 2) }
                    let total = raw.reduce(0, +)
                    categorical("segment_\(l)", (0..<n).map { "\(l)\($0)" }, raw.map { $0 / total },
                                (0..<n).map { Double($0) / Double(n) - 0.5 }, 0.05)
                }
                for k in stride(from: 22, to: 62, by: 8) { pairs.append(("v\(k)", "v\(k + 1)", 0.7)) }
            }
        }
        self.columns = columns
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })
        self.pairs = pairs.compactMap { a, b, rho in
            guard let i = index[a], let j = index[b] else { return nil }
            return Pair(first: i, second: j, rho: rho)
        }
    }

    /// The change types of the original table, on this model's features.
    public var changeTypes: [DetectionSimulation.Scenario] {
        let age = preset == .features5 ? "account_age" : "account_age_days"
        let pair = preset == .features5 ? "txn_velocity" : "txn_velocity_1h"
        return [
            .init(name: "mean shift 0.1σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.1)]),
            .init(name: "mean shift 0.25σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.25)]),
            .init(name: "mean shift 0.5σ", kind: .changeType, changes: [.meanShift(age, sigmas: 0.5)]),
            .init(name: "scale ×1.5", kind: .changeType, changes: [.scale(age, factor: 1.5)]),
            .init(name: "new category 5%", kind: .changeType, changes: [.newCategory("merchant_category", share: 0.05)]),
            .init(name: "correlation +0.8 → −0.8", kind: .changeType, changes: [.correlation(pair, rho: -0.8)]),
        ]
    }

    /// A minority of the features drifting strongly (PSI ≥ 0.3) — what the share rule alone
    /// never sees on a wide model.
    public var minority: [DetectionSimulation.Scenario] {
        switch preset {
        case .features5:
            return [
                .init(name: "1 feature strong, score unmoved", kind: .minority, changes: [.meanShift("distance_km", sigmas: 0.65)]),
                .init(name: "1 feature strong, score moves", kind: .minority, changes: [.meanShift("amount", sigmas: 0.8)]),
                .init(name: "2 strong + 1 moderate", kind: .minority, changes: [
                    .meanShift("account_age", sigmas: -0.67), .tilt("merchant_category", strength: 1.2),
                    .meanShift("distance_km", sigmas: 0.46),
                ]),
            ]
        case .features36, .features100:
            let light = preset == .features36 ? ["v21", "v20", "v19", "v18", "v17"] : ["v71", "v72", "v73", "v74", "v75"]
            return [
                .init(name: "1 feature strong, score unmoved", kind: .minority, changes: [.meanShift(light[0], sigmas: 0.65)]),
                .init(name: "1 feature strong, score moves", kind: .minority, changes: [.meanShift("amount", sigmas: 0.8)]),
                // The case of issue 14: PSI ≈ 0.48, 0.42, 0.32, 0.20, 0.12 and a moderately drifting score (younger
                // accounts and riskier devices and merchants raise it, shorter distances lower it).
                .init(name: "fraud case: 3 strong + 2 moderate", kind: .minority, changes: [
                    .tilt("device_type", strength: 1.6), .meanShift("account_age_days", sigmas: -0.67),
                    .tilt("merchant_category", strength: 1.2), .meanShift("distance_from_home_km", sigmas: -0.46),
                    .meanShift("txn_hour", sigmas: 0.36),
                ]),
                .init(name: "5 light features strong", kind: .minority, changes: light.map { .meanShift($0, sigmas: 0.57) }),
            ]
        }
    }

    /// One table of `rows` rows (features) and the score column, with the scenario's changes.
    func table(rows: Int, scenario: DetectionSimulation.Scenario?, generator g: inout SeededGenerator,
               source: String) -> (features: Table, prediction: NumericColumn) {
        let n = columns.count
        var shift = [Double](repeating: 0, count: n)
        var scale = [Double](repeating: 1, count: n)
        var newShare = [Double](repeating: 0, count: n)
        var tilt = [Double](repeating: 0, count: n)
        var rho = pairs.map(\.rho)
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })
        for change in scenario?.changes ?? [] {
            guard let i = index[change.feature] else { preconditionFailure("scenario names an unknown feature \(change.feature)") }
            switch change {
            case .meanShift(_, let s): shift[i] = s
            case .scale(_, let f): scale[i] = f
            case .newCategory(_, let s): newShare[i] = s
            case .tilt(_, let s): tilt[i] = s
            case .correlation(_, let r):
                if let p = pairs.firstIndex(where: { $0.first == i }) { rho[p] = r }
            }
        }
        // Per column: its slot among the numeric or the categorical arrays, its pair role.
        var pairOfFirst = [Int?](repeating: nil, count: n)
        var isSecond = [Bool](repeating: false, count: n)
        for (p, pair) in pairs.enumerated() {
            pairOfFirst[pair.first] = p
            isSecond[pair.second] = true
        }
        var numeric: [[Double]] = []
        var codes: [[Int32]] = []
        var slot = [Int](repeating: 0, count: n)
        var cumulative: [[Double]] = []
        var totals: [Double] = []
        var risks: [[Double]] = []
        for (i, c) in columns.enumerated() {
            switch c.kind {
            case .numeric:
                slot[i] = numeric.count
                numeric.append([Double](repeating: 0, count: rows))
            case .categorical(let cat):
                slot[i] = codes.count
                codes.append([Int32](repeating: 0, count: rows))
                var running = 0.0
                var cum: [Double] = []
                for (k, share) in cat.shares.enumerated() {
                    running += tilt[i] == 0 ? share : share * exp(tilt[i] * cat.risk[k])
                    cum.append(running)
                }
                cumulative.append(cum)
                totals.append(running)
                risks.append(cat.risk + [cat.newRisk])
            }
        }
        let rest = rho.map { (1 - $0 * $0).squareRoot() }
        var latent = [Double](repeating: 0, count: n)
        var score = [Double](repeating: 0, count: rows)
        // The 5-feature model keeps its original stream (one `normal()` per value); the wider ones use
        // both values of each polar draw.
        let paired = preset != .features5
        var spare: Double?
        func normal() -> Double {
            guard paired else { return g.normal() }
            if let s = spare {
                spare = nil
                return s
            }
            let (a, b) = g.normalPair()
            spare = b
            return a
        }
        // Flat per-column facts, so the row loop copies no Column (and its arrays) per value.
        let marginals: [Marginal?] = columns.map { c in
            if case .numeric(let m) = c.kind { return m }
            return nil
        }
        let weights = columns.map(\.weight)
        let categoryCounts: [Int] = columns.map { c in
            if case .categorical(let cat) = c.kind { return cat.names.count }
            return 0
        }
        for r in 0..<rows {
            var logit = intercept
            for i in 0..<n {
                if let marginal = marginals[i] {
                    let z: Double
                    if let p = pairOfFirst[i] {
                        let z1 = normal(), z2 = normal()
                        latent[pairs[p].second] = rho[p] * z1 + rest[p] * z2
                        z = z1
                    } else if isSecond[i] {
                        z = latent[i]
                    } else {
                        z = normal()
                    }
                    let moved = shift[i] + scale[i] * z
                    numeric[slot[i]][r] = marginal.value(moved)
                    logit += weights[i] * moved
                } else {
                    let s = slot[i]
                    let code: Int
                    if newShare[i] > 0 && g.uniform() < newShare[i] {
                        code = categoryCounts[i]
                    } else {
                        let u = g.uniform() * totals[s]
                        code = cumulative[s].firstIndex { u < $0 } ?? (categoryCounts[i] - 1)
                    }
                    codes[s][r] = Int32(code)
                    logit += weights[i] * risks[s][code]
                }
            }
            score[r] = 1 / (1 + exp(-logit))
        }
        var q = QualityCounts()
        q.total = rows
        let table = Table(source: source, rows: rows, columns: columns.enumerated().map { i, c in
            switch c.kind {
            case .numeric: return .numeric(NumericColumn(name: c.name, values: numeric[slot[i]], quality: q))
            case .categorical(let cat):
                return .categorical(CategoricalColumn(name: c.name, codes: codes[slot[i]], dictionary: cat.names + [cat.newCategory], quality: q))
            }
        })
        return (table, NumericColumn(name: Self.predictionName, values: score, quality: q))
    }
}

/// Φ(z), the standard normal CDF.
func standardNormalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

extension String {
    /// FNV-1a: a seed salt that, unlike `hashValue`, is the same in every process.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
