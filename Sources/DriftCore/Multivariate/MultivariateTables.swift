import DriftStats
import Foundation

/// The row-aligned numeric matrix multivariate drift works on, built the same way for the
/// baseline and for a window: numeric columns as they are (missing, NaN and ±Inf become NaN,
/// which the reconstruction model imputes with the baseline mean); a categorical column is
/// frequency-encoded with DriftStats' `FrequencyEncoding` — each row gets its category's share
/// in the *baseline*, an unseen category 0, a missing value the most frequent category's share —
/// as NannyML's data-reconstruction calculator does (`CountEncoder(normalize=True)`), which keeps
/// one dimension per feature.
public struct MultivariateEncoding: Sendable, Equatable, Codable {
    public var names: [String]
    public var encodings: [String: FrequencyEncoding]

    public init(baseline: Table, columns: [String]) {
        names = columns
        var e: [String: FrequencyEncoding] = [:]
        for name in columns {
            if case .categorical(let c)? = baseline.column(named: name) { e[name] = FrequencyEncoding(baseline: Self.strings(c)) }
        }
        encodings = e
    }

    static func strings(_ c: CategoricalColumn) -> [String?] {
        c.codes.map { $0 >= 0 && Int($0) < c.dictionary.count ? c.dictionary[Int($0)] : nil }
    }

    /// One value of a column as the model sees it (ingested cells: numbers, text, missing).
    public func encode(_ name: String, number: Double?, text: String?) -> Double {
        if let encoding = encodings[name] {
            guard let text = text ?? number.map(categoryLabel) else {
                return encoding.mostFrequent.flatMap { encoding.shares[$0] } ?? .nan
            }
            return encoding.shares[text] ?? 0
        }
        if let number { return number.isFinite ? number : .nan }
        if let text, let v = Double(text), v.isFinite { return v }
        return .nan
    }

    /// The table's encoded columns, in `names` order (nil when a column is absent).
    public func encode(_ table: Table) -> [[Double]]? {
        var out: [[Double]] = []
        out.reserveCapacity(names.count)
        for name in names {
            switch table.column(named: name) {
            case .numeric(let c)?:
                out.append(c.values.map { $0.isFinite ? $0 : .nan })
            case .categorical(let c)?:
                guard let encoding = encodings[name] else { return nil }
                out.append(encoding.encode(Self.strings(c)))
            case nil:
                return nil
            }
        }
        return out
    }
}

/// Multivariate drift of `current` against `baseline` over their common columns: PCA fitted on
/// the baseline, its reconstruction-error band from baseline chunks of the current table's
/// size. nil when fewer than two columns or too few rows.
public func multivariateDrift(baseline: Table, current: Table, varianceShare: Double = 0.65, sigmas: Double = 3) -> MultivariateResult? {
    let names = baseline.columns.map(\.name).filter { current.column(named: $0) != nil }
    guard names.count >= 2, current.rows > 0 else { return nil }
    let encoding = MultivariateEncoding(baseline: baseline, columns: names)
    guard let base = encoding.encode(baseline), let cur = encoding.encode(current),
          let model = ReconstructionModel(featureNames: names, columns: base, varianceShare: varianceShare, chunkSize: current.rows)
    else { return nil }
    return compareMultivariate(model, columns: cur, sigmas: sigmas)
}
