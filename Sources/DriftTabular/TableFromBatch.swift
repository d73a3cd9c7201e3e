import DriftCore

/// A baseline given as JSON columnar observations, as a Table (features plus the prediction column).
public func tableFromBatch(_ batch: ObservationBatch, predictionName: String?, plan: CSVColumnPlan) -> Table {
    var columns: [Column] = []
    var all = batch.features.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    if let p = batch.predictions { all.append((predictionName ?? "prediction", p)) }
    for (name, column) in all where !plan.ignore.contains(name) {
        var q = QualityCounts()
        q.total = batch.count
        let forcedCategorical = plan.categorical.contains(name) || plan.fixedKinds[name] == .categorical
        var anyText = false
        for r in 0..<batch.count { if case .text = column.cell(at: r) { anyText = true; break } }
        if forcedCategorical || (anyText && plan.fixedKinds[name] != .numeric) {
            var dict: [String] = []
            var index: [String: Int32] = [:]
            var codes: [Int32] = []
            for r in 0..<batch.count {
                let label: String
                switch column.cell(at: r) {
                case .missing: q.missing += 1; codes.append(-1); continue
                case .text(let s): label = s
                case .number(let v): label = categoryLabel(v)
                }
                if let c = index[label] { codes.append(c) } else {
                    index[label] = Int32(dict.count)
                    codes.append(Int32(dict.count))
                    dict.append(label)
                }
            }
            columns.append(.categorical(CategoricalColumn(name: name, codes: codes, dictionary: dict, quality: q)))
        } else {
            var values: [Double] = []
            values.reserveCapacity(batch.count)
            for r in 0..<batch.count {
                switch column.cell(at: r) {
                case .missing: q.missing += 1; values.append(.nan)
                case .text: q.wrongType += 1; values.append(.nan)
                case .number(let v):
                    if v.isNaN { q.nan += 1 } else if v == .infinity { q.positiveInfinity += 1 } else if v == -.infinity { q.negativeInfinity += 1 }
                    values.append(v)
                }
            }
            columns.append(.numeric(NumericColumn(name: name, values: values, quality: q)))
        }
    }
    return Table(source: "baseline", rows: batch.count, columns: columns)
}
