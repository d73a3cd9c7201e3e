import DriftCore
import DriftIngest
import DriftStats
import DriftStore
import Foundation

extension MultivariateBaseline {
    /// The window's production rows, row-aligned, read back from its stored batches (the
    /// window accumulator keeps per-feature columns without row alignment), then compared.
    func compare(store: any Store, model name: String, batches: ClosedRange<Int64>, sigmas: Double = 3) throws -> MultivariateResult? {
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
