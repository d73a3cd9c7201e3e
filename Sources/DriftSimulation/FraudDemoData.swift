import DriftCore
#if canImport(Glibc)
import Glibc
#endif

/// Fraud-model-like observations for `driftwatch demo` and tests: card transactions with a
/// model score. `drift` moves amounts up, shifts the merchant mix, adds a country the
/// model never saw, and raises the scores — what a new market or a fraud ring looks like.
public struct FraudDemoData: Sendable {
    public static let numeric = ["amount", "account_age_days", "tx_last_24h", "distance_km"]
    public static let categorical = ["merchant_category", "country"]
    public static let prediction = "score"

    /// One synthetic card transaction: its features and the model's score.
    public struct Row: Sendable {
        public var id: String
        public var amount, accountAgeDays, txLast24h, distanceKm: Double
        public var merchantCategory, country: String
        public var score: Double
    }

    private var g: SeededGenerator
    private var counter = 0
    private let prefix: String

    public init(seed: UInt64, idPrefix: String = "tx") {
        g = SeededGenerator(seed: seed)
        prefix = idPrefix
    }

    private mutating func pick(_ options: [String], _ weights: [Double]) -> String {
        var u = g.uniform() * weights.reduce(0, +)
        for (o, w) in zip(options, weights) {
            if u < w { return o }
            u -= w
        }
        return options[options.count - 1]
    }

    private mutating func poisson(_ lambda: Double) -> Double {
        let l = exp(-lambda)
        var k = 0.0
        var p = 1.0
        repeat { k += 1; p *= g.uniform() } while p > l
        return k - 1
    }

    public mutating func next(drift: Bool) -> Row {
        counter += 1
        let amount = ((exp(3.6 + (drift ? 0.5 : 0) + 0.9 * g.normal())) * 100).rounded() / 100
        let age = (-300 * log(g.uniform()) - 300 * log(g.uniform())).rounded()
        let tx = poisson(drift ? 3.4 : 2.0)
        let distance = ((-12 * log(g.uniform())) * 10).rounded() / 10
        let merchant = pick(["grocery", "fuel", "travel", "electronics", "restaurants", "online"],
                            drift ? [0.2, 0.1, 0.05, 0.15, 0.15, 0.35] : [0.3, 0.15, 0.05, 0.1, 0.2, 0.2])
        var country = pick(["DE", "FR", "NL", "US", "GB"], [0.4, 0.2, 0.15, 0.15, 0.1])
        if drift && g.uniform() < 0.1 { country = "BR" }
        let logit = -4 + 0.15 * log(amount) + 0.3 * tx - 0.001 * age + (drift ? 0.8 : 0) + 0.5 * g.normal()
        let score = ((1 / (1 + exp(-logit))) * 10_000).rounded() / 10_000
        return Row(id: "\(prefix)-\(counter)", amount: amount, accountAgeDays: age, txLast24h: tx, distanceKm: distance,
                   merchantCategory: merchant, country: country, score: score)
    }

    public static let csvHeader = "amount,account_age_days,tx_last_24h,distance_km,merchant_category,country,score"

    public static func csvLine(_ r: Row) -> String {
        "\(r.amount),\(r.accountAgeDays),\(r.txLast24h),\(r.distanceKm),\(r.merchantCategory),\(r.country),\(r.score)"
    }

    /// One observation in the JSON-rows ingest shape.
    public static func jsonRow(_ r: Row, ts: Double) -> String {
        "{\"id\":\"\(r.id)\",\"ts\":\(ts),\"features\":{\"amount\":\(r.amount),\"account_age_days\":\(r.accountAgeDays),"
            + "\"tx_last_24h\":\(r.txLast24h),\"distance_km\":\(r.distanceKm),\"merchant_category\":\"\(r.merchantCategory)\","
            + "\"country\":\"\(r.country)\"},\"prediction\":\(r.score),\"endpoint\":\"production\"}"
    }
}
