import DriftCore
import DriftIngest
import DriftStats
import DriftStore
import Foundation

/// The model's multivariate reference: how rows are encoded and the PCA fitted on the baseline
/// (DriftStats' ReconstructionModel), stored with the baseline version.
struct MultivariateBaseline: Codable, Sendable {
    var baselineVersion: Int
    var encoding: MultivariateEncoding
    var model: ReconstructionModel

    enum CodingKeys: String, CodingKey { case baselineVersion = "baseline_version", encoding, model }

    /// Fitted on the baseline's feature columns (not the prediction); chunks of the window's
    /// size give the error band (time windows: `min_rows`, at least 500 rows).
    static func fit(baseline: Table, settings: ModelSettings, version: Int) -> MultivariateBaseline? {
        guard let spec = settings.multivariate else { return nil }
        let names = settings.features.map(\.name).filter { baseline.column(named: $0) != nil }
        guard names.count >= 2 else { return nil }
        let encoding = MultivariateEncoding(baseline: baseline, columns: names)
        let chunk = settings.window.rows ?? max(settings.minRows, 500)
        guard let columns = encoding.encode(baseline),
              let model = ReconstructionModel(featureNames: names, columns: columns, varianceShare: spec.varianceShare, chunkSize: chunk)
        else { return nil }
        return MultivariateBaseline(baselineVersion: version, encoding: encoding, model: model)
    }

    /// The window's production rows, row-aligned, read back from its stored batches (the
    /// window accumulator keeps per-feature columns without row alignment), then compared.
    func compare(store: DriftStore, model name: String, batches: ClosedRange<Int64>, sigmas: Double = 3) throws -> MultivariateResult? {
        let names = encoding.names
        var columns = [[Double]](repeating: [], count: names.count)
        var after = batches.lowerBound - 1
        pages: while after < batches.upperBound {
            let page = try store.batches(model: name, afterBatchID: after, limit: 100)
            guard !page.isEmpty else { break }
            for record in page {
                if record.id > batches.upperBound { break pages }
                after = record.id
                let batch = try decodeStoredBatch(Array(record.payload))
                // A prediction-only half (KServe response) carries no features.
                guard !batch.features.isEmpty else { continue }
                for r in 0..<batch.count where (r < batch.endpoints.count ? batch.endpoints[r] : .production) == .production {
                    for (j, feature) in names.enumerated() {
                        var number: Double?, text: String?
                        switch batch.features[feature]?.cell(at: r) {
                        case .number(let v)?: number = v
                        case .text(let t)?: text = t
                        case .missing?, nil: break
                        }
                        columns[j].append(encoding.encode(feature, number: number, text: text))
                    }
                }
            }
        }
        guard let rows = columns.first?.count, rows > 0 else { return nil }
        return compareMultivariate(model, columns: columns, sigmas: sigmas)
    }
}
