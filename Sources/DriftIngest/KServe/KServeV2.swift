import DriftCore

// MARK: v2 tensors

/// One v2 tensor as rows × columns of leaves (`rows * columns` is the leaf count, so every
/// `cell(row:column:)` with row < rows and column < columns is in range).
struct Tensor {
    enum Leaves {
        /// Numeric data, unboxed (the usual FP32/FP64/INT tensor).
        case numbers([Double])
        /// Anything else: BYTES, BOOL, mixed.
        case values([JSONValue])

        var count: Int {
            switch self {
            case .numbers(let x): x.count
            case .values(let v): v.count
            }
        }
    }

    var name: String
    var rows: Int
    var columns: Int
    var leaves: Leaves

    func cell(row: Int, column: Int) -> JSONValue {
        let k = row * columns + column
        switch leaves {
        case .numbers(let x): return .number(x[k])
        case .values(let v): return v[k]
        }
    }
}

func tensorName(_ v: JSONValue, index: Int, field: String) -> String {
    if case .string(let s)? = v.member("name") { return s }
    return "\(field)-\(index)"
}

/// A tensor's `data` as leaves, and its number of rows when nested (`[[…], […]]`).
func tensorLeaves(_ data: JSONValue, label: String) throws(KServeDecodingError) -> (Tensor.Leaves, nestedRows: Int?) {
    switch data {
    case .numbers(let x):
        return (.numbers(x), nil)  // flat numbers (the usual form): the array itself, no copy
    case .array(let outer) where outer.allSatisfy(isScalar):
        return (.values(outer), nil)
    case .array(let outer):
        let nested: Bool
        switch outer.first {
        case .array?, .numbers?: nested = true
        default: nested = false
        }
        guard nested else {
            var leaves: [JSONValue] = []
            flatten(data, into: &leaves)
            return (.values(leaves), nil)
        }
        // Nested rows must all be as wide, or row-major order would shift values between rows.
        var width: Int? = nil
        for row in outer {
            let w = leafCount(row)
            if let width, width != w {
                throw malformed("\(label): nested rows of different lengths (\(width) and \(w))")
            }
            width = w
        }
        if outer.allSatisfy({ if case .numbers = $0 { true } else { false } }) {
            var numbers: [Double] = []
            numbers.reserveCapacity(leafCount(data))
            for case .numbers(let x) in outer { numbers.append(contentsOf: x) }
            return (.numbers(numbers), outer.count)
        }
        var leaves: [JSONValue] = []
        flatten(data, into: &leaves)
        return (.values(leaves), outer.count)
    default:
        return (.values([data]), nil)
    }
}

func readTensor(_ v: JSONValue, index: Int, field: String, limits: KServeLimits) throws(KServeDecodingError) -> Tensor {
    guard case .object = v else { throw malformed("\(field)[\(index)] must be an object {name, shape, datatype, data}, found \(v.kindName)") }
    let name = tensorName(v, index: index, field: field)
    let label = "\(field)[\(index)] (\(quoted(name)))"
    guard let data = v.member("data") else {
        throw malformed("\(label) has no \"data\"; binary tensor data is not supported: send the tensor as JSON data")
    }
    // `datatype` needs no reading: numbers, strings (BYTES) and booleans (BOOL, as 1/0) are
    // told apart by their JSON type.
    let (leaves, nestedRows) = try tensorLeaves(data, label: label)
    let count = leaves.count

    var shape: [Int] = []
    if let dims = v.member("shape") {
        guard let list = elements(dims) else { throw malformed("\(label): shape must be an array of non-negative integers, found \(dims.kindName)") }
        for d in list {
            guard case .number(let x) = d, let n = Int(exactly: x), n >= 0 else {
                throw malformed("\(label): shape must list non-negative integers, found \(shapeEntry(d))")
            }
            shape.append(n)
        }
    }
    let rows: Int
    let columns: Int
    if shape.isEmpty {
        // No shape: nested data gives it ([[…], […]] = rows × columns); flat data is one column.
        rows = nestedRows ?? count
        columns = rows == 0 ? 1 : count / rows
        guard rows == 0 || columns * rows == count else {
            throw malformed("\(label): \(count) values do not split into \(rows) equal rows")
        }
    } else {
        // The first dimension is the batch (rows); the rest flatten into columns. Checked
        // products: a shape such as [0, 999999999999, 999999999999] is refused, not a trap.
        rows = shape[0]
        var width = 1
        for d in shape.dropFirst() {
            let (p, overflow) = width.multipliedReportingOverflow(by: d)
            guard !overflow else { throw malformed("\(label): shape \(shape) is too large (its size overflows); send the tensor's real shape") }
            width = p
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: width)
        guard !overflow else { throw malformed("\(label): shape \(shape) is too large (its size overflows); send the tensor's real shape") }
        guard total == count else {
            throw malformed("\(label): shape \(shape) holds \(total) values but data has \(count)")
        }
        columns = width
    }
    guard rows <= limits.maxRows else { throw rowLimitError(label, rows: rows, limits) }
    if rows > 0 && columns == 0 {
        throw malformed("\(label): shape \(shape) has rows but no values")
    }
    return Tensor(name: name, rows: rows, columns: Swift.max(columns, 1), leaves: leaves)
}

/// A JSON value for messages: numbers as written, others by kind.
func shapeEntry(_ v: JSONValue) -> String {
    if case .number(let x) = v { return x.isFinite && x == x.rounded() && abs(x) < 1e18 ? String(Int64(x)) : String(x) }
    return v.kindName
}

func decodeV2Inputs(_ v: JSONValue, featureNames: [String], limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
    guard case .array(let inputs) = v else { throw malformed("\"inputs\" must be an array") }
    var tensors: [Tensor] = []
    for (k, input) in inputs.enumerated() { tensors.append(try readTensor(input, index: k, field: "inputs", limits: limits)) }
    let rows = tensors.first?.rows ?? 0
    if let bad = tensors.first(where: { $0.rows != rows }) {
        throw malformed("inputs: \(quoted(bad.name)) has \(bad.rows) rows but \(quoted(tensors[0].name)) has \(rows)")
    }
    var cols = try FeatureColumns(featureNames: featureNames, expectedRows: rows, field: "inputs", limits: limits)
    // Each tensor column's feature, found once.
    var targets: [[Int]] = []
    for t in tensors {
        var columnTargets: [Int] = []
        for c in 0..<t.columns {
            let name: String
            if tensors.count == 1 {
                // One input (KServe's input-0 of shape [n, k]): positional, whatever its name —
                // unless it is a single column named like one of the model's features.
                name = t.columns == 1 && featureNames.contains(t.name) ? t.name : positionalName(c, featureNames)
            } else {
                name = t.columns == 1 ? t.name : "\(t.name).\(c)"
            }
            columnTargets.append(try cols.column(name))
        }
        targets.append(columnTargets)
    }
    for r in 0..<rows {
        for (k, t) in tensors.enumerated() {
            for c in 0..<t.columns {
                let leaf = t.cell(row: r, column: c)
                guard let cell = scalarCell(leaf) else {
                    throw malformed("inputs: \(quoted(t.name)) row \(r) holds \(leaf.kindName)")
                }
                cols.set(targets[k][c], cell)
            }
        }
        cols.endRow()
    }
    return KServePayload(kind: .request, protocolVersion: .v2, rowCount: rows, columns: cols.dictionary, predictions: [], id: nil)
}

func decodeV2Outputs(_ v: JSONValue, choice: OutputChoice, limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
    guard case .array(let outputs) = v, !outputs.isEmpty else { throw malformed("\"outputs\" must be a non-empty array of tensors") }
    let names = outputs.enumerated().map { tensorName($0.element, index: $0.offset, field: "outputs") }
    let k = try choice.pick(names, field: "outputs")
    let t = try readTensor(outputs[k], index: k, field: "outputs", limits: limits)
    var predictions: [Cell] = []
    predictions.reserveCapacity(t.rows)
    for r in 0..<t.rows {
        // Several columns per row (class probabilities): the last is the positive-class score.
        let leaf = t.cell(row: r, column: t.columns - 1)
        guard let cell = scalarCell(leaf) else {
            throw malformed("outputs: \(quoted(t.name)) row \(r) holds \(leaf.kindName)")
        }
        predictions.append(cell)
    }
    return KServePayload(kind: .response, protocolVersion: .v2, rowCount: t.rows, columns: [:], predictions: predictions,
                         id: nil, output: t.name)
}
