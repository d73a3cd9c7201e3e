import DriftCore

// MARK: v1 and TensorFlow-style requests

func decodeV1Instances(_ v: JSONValue, field: String, featureNames: [String],
                               limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
    switch v {
    case .numbers(let values):
        // A model with one input feature: each instance is that feature's value.
        guard values.count <= limits.maxRows else { throw rowLimitError(field, rows: values.count, limits) }
        var cols = try FeatureColumns(featureNames: featureNames, expectedRows: values.count, field: field, limits: limits)
        let c = try cols.column(positionalName(0, featureNames))
        for x in values {
            cols.set(c, .number(x))
            cols.endRow()
        }
        return KServePayload(kind: .request, protocolVersion: .v1, rowCount: cols.rows, columns: cols.dictionary, predictions: [], id: nil)
    case .array(let instances):
        guard instances.count <= limits.maxRows else { throw rowLimitError(field, rows: instances.count, limits) }
        var cols = try FeatureColumns(featureNames: featureNames, expectedRows: instances.count, field: field, limits: limits)
        var positions: [Int] = []  // position k → its column
        func position(_ k: Int) throws(KServeDecodingError) -> Int {
            if k == positions.count { positions.append(try cols.column(positionalName(k, featureNames))) }
            return positions[k]
        }
        var leaves: [JSONValue] = []
        for (r, instance) in instances.enumerated() {
            switch instance {
            case .object(let members):
                for (name, value) in members {
                    if name.isEmpty { throw malformed("\(field)[\(r)]: a feature has an empty name") }
                    guard let cell = scalarCell(value) else {
                        throw malformed("\(field)[\(r)]: feature \(quoted(name)) is \(value.kindName); expected a number, a string, a boolean or null")
                    }
                    let c = try cols.column(name)
                    cols.set(c, cell)
                }
            case .numbers(let values):
                // The usual row: numbers only, by position.
                for (k, x) in values.enumerated() {
                    let c = try position(k)
                    cols.set(c, .number(x))
                }
            case .array(let a):
                leaves.removeAll(keepingCapacity: true)
                if a.allSatisfy(isScalar) { leaves = a } else { flatten(instance, into: &leaves) }
                for (k, leaf) in leaves.enumerated() {
                    guard let cell = scalarCell(leaf) else {
                        throw malformed("\(field)[\(r)]: position \(k) is \(leaf.kindName); expected a number, a string, a boolean or null")
                    }
                    let c = try position(k)
                    cols.set(c, cell)
                }
            default:
                // A model with one input feature: each instance is that feature's value.
                if let cell = scalarCell(instance) {
                    let c = try position(0)
                    cols.set(c, cell)
                }
            }
            cols.endRow()
        }
        return KServePayload(kind: .request, protocolVersion: .v1, rowCount: cols.rows, columns: cols.dictionary, predictions: [], id: nil)
    case .object(let members):
        // TensorFlow's columnar form: {"inputs": {"amount": [...], "country": [...]}}.
        let columns = try namedColumns(members, field: field, limits: limits)
        var cols = try FeatureColumns(featureNames: featureNames, expectedRows: columns.rows, field: field, limits: limits)
        var targets: [Int] = []
        for (name, _) in columns.values { targets.append(try cols.column(name)) }
        for r in 0..<columns.rows {
            for (k, (name, values)) in columns.values.enumerated() {
                guard let cell = scalarCell(values[r]) else {
                    throw malformed("\(field).\(name)[\(r)] is \(values[r].kindName); expected a number, a string, a boolean or null")
                }
                cols.set(targets[k], cell)
            }
            cols.endRow()
        }
        return KServePayload(kind: .request, protocolVersion: .v1, rowCount: cols.rows, columns: cols.dictionary, predictions: [], id: nil)
    default:
        throw malformed("\"\(field)\" must be an array of instances, found \(v.kindName)")
    }
}

/// `{"name": [one value per row], …}`: every member an array, all of one length.
func namedColumns(_ members: [(String, JSONValue)], field: String,
                          limits: KServeLimits) throws(KServeDecodingError) -> (rows: Int, values: [(String, [JSONValue])]) {
    var n: Int? = nil
    var values: [(String, [JSONValue])] = []
    for (name, value) in members {
        guard let a = elements(value) else {
            throw malformed("\(field).\(name) must be an array with one value per row, found \(value.kindName)")
        }
        if let n, n != a.count {
            throw malformed("\(field): \(quoted(name)) has \(a.count) values but the first one has \(n)")
        }
        guard a.count <= limits.maxRows else { throw rowLimitError(field, rows: a.count, limits) }
        n = a.count
        values.append((name, a))
    }
    return (n ?? 0, values)
}

// MARK: v1 responses

/// One row's prediction: a scalar, or the last of a row of class scores.
func predictionCell(_ value: JSONValue, _ leaves: inout [JSONValue], what: () -> String) throws(KServeDecodingError) -> Cell {
    if let cell = scalarCell(value) { return cell }
    if case .numbers(let x) = value, let last = x.last { return .number(last) }
    // [p0, p1, …]: the last column is the positive-class score (see the doc comment).
    leaves.removeAll(keepingCapacity: true)
    flatten(value, into: &leaves)
    guard case .array = value, let last = leaves.last, let cell = scalarCell(last) else {
        throw malformed("\(what()) is \(value.kindName); expected a number, a string or an array of class scores")
    }
    return cell
}

func decodeV1Predictions(_ v: JSONValue, field: String, choice: OutputChoice,
                                 limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
    switch v {
    case .numbers(let values):
        guard values.count <= limits.maxRows else { throw rowLimitError(field, rows: values.count, limits) }
        return KServePayload(kind: .response, protocolVersion: .v1, rowCount: values.count, columns: [:],
                             predictions: values.map { .number($0) }, id: nil)
    case .array(let rows):
        guard rows.count <= limits.maxRows else { throw rowLimitError(field, rows: rows.count, limits) }
        var predictions: [Cell] = []
        predictions.reserveCapacity(rows.count)
        var output: String? = nil
        var leaves: [JSONValue] = []
        for (r, row) in rows.enumerated() {
            var value = row
            if case .object(let members) = row {
                // A data frame's row ({"label": …, "proba": …}): its keys are the outputs.
                let k = try choice.pick(members.map(\.0), field: "\(field)[\(r)]")
                value = members[k].1
                output = members[k].0
            }
            predictions.append(try predictionCell(value, &leaves) { "\(field)[\(r)]" })
        }
        return KServePayload(kind: .response, protocolVersion: .v1, rowCount: rows.count, columns: [:],
                             predictions: predictions, id: nil, output: output)
    case .object(let members):
        // TensorFlow's columnar outputs: {"outputs": {"scores": [...], "classes": [...]}}.
        let k = try choice.pick(members.map(\.0), field: field)
        let columns = try namedColumns([members[k]], field: field, limits: limits)
        let (name, values) = columns.values[0]
        var predictions: [Cell] = []
        predictions.reserveCapacity(values.count)
        var leaves: [JSONValue] = []
        for (r, value) in values.enumerated() {
            predictions.append(try predictionCell(value, &leaves) { "\(field).\(name)[\(r)]" })
        }
        return KServePayload(kind: .response, protocolVersion: .v1, rowCount: values.count, columns: [:],
                             predictions: predictions, id: nil, output: name)
    default:
        throw malformed("\"\(field)\" must be an array with one prediction per instance, found \(v.kindName)")
    }
}
