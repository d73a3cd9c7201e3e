import DriftCore

/// What one KServe inference payload (as the payload logger's CloudEvents carry it) says,
/// row by row. A request gives feature values, a response gives predictions; the server joins
/// the two halves by the CloudEvent id.
public struct KServePayload: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// v1 `instances` / v2 `inputs`.
        case request
        /// v1 `predictions` / v2 `outputs`.
        case response
    }

    public enum ProtocolVersion: Sendable, Equatable {
        /// `{"instances": …}` / `{"predictions": …}`
        case v1
        /// Open Inference Protocol: `{"inputs": [{"name","shape","datatype","data"}]}` /
        /// `{"outputs": [...]}`
        case v2
    }

    public var kind: Kind
    public var protocolVersion: ProtocolVersion
    /// Number of rows (instances, or the first dimension of the tensors).
    public var rowCount: Int
    /// Requests: feature name → one cell per row. Every name of `featureNames` is present
    /// (missing where the payload had fewer positions). Empty for responses.
    public var features: [String: [Cell]]
    /// Responses: one cell per row. Empty for requests.
    public var predictions: [Cell]
    /// The v2 payload's `id`, when it has one.
    public var id: String?

    public init(kind: Kind, protocolVersion: ProtocolVersion, rowCount: Int, features: [String: [Cell]],
                predictions: [Cell], id: String?) {
        self.kind = kind
        self.protocolVersion = protocolVersion
        self.rowCount = rowCount
        self.features = features
        self.predictions = predictions
        self.id = id
    }
}

/// Decodes a KServe v1 or v2 (Open Inference Protocol) request or response body.
///
/// Requests:
/// - v1 `{"instances": [[1.0, "DE"], …]}`: positional; position k is named `featureNames[k]`,
///   positions past the end of `featureNames` are named `f<k>`, names without a position are
///   missing. `{"instances": [{"amount": 1.0}, …]}`: named by the keys. A scalar instance is a
///   single positional feature. TensorFlow's `{"inputs": [[…]]}` / `{"inputs": {"name": […]}}`
///   are read the same way.
/// - v2 `{"inputs": [{"name", "shape", "datatype", "data"}]}`: `data` flat (row-major, checked
///   against `shape`) or nested. One input → its columns are positional as above (a tensor of
///   more than two dimensions is flattened per row). Several inputs (one tensor per feature,
///   as MLServer's pandas codec sends) → each input is a feature named by its `name`, and an
///   input with k > 1 columns gives `<name>.0` … `<name>.<k-1>`. `BYTES` data become text,
///   `BOOL` 1/0.
///
/// Responses:
/// - v1 `{"predictions": [0.93, …]}` (or class labels), v2 `{"outputs": [...]}` — the output
///   named `outputName` when given, else the first.
/// - A 2-D prediction per row, such as class probabilities `[[p0, p1], …]` or a v2 output of
///   shape `[rows, 2]`, is reduced to its **last column**, taken as the positive-class score
///   (for a binary classifier, P(class 1)). Multi-class models whose positive class is not the
///   last should log a 1-D score instead.
///
/// - Throws: `IngestDecodingError` for anything that is not one of these shapes.
public func decodeKServeInference(_ body: [UInt8], featureNames: [String], outputName: String? = nil) throws -> KServePayload {
    let root = try JSONValue.parse(body)
    guard case .object = root else {
        throw IngestDecodingError("a KServe payload must be a JSON object, found \(root.kindName)")
    }
    var id: String? = nil
    if case .string(let s)? = root.member("id") { id = s }

    var payload: KServePayload
    if let instances = root.member("instances") {
        payload = try decodeV1Instances(instances, field: "instances", featureNames: featureNames)
    } else if let inputs = root.member("inputs") {
        payload = isV2TensorList(inputs)
            ? try decodeV2Inputs(inputs, featureNames: featureNames)
            : try decodeV1Instances(inputs, field: "inputs", featureNames: featureNames)
    } else if let predictions = root.member("predictions") {
        payload = try decodeV1Predictions(predictions, field: "predictions")
    } else if let outputs = root.member("outputs") {
        payload = isV2TensorList(outputs)
            ? try decodeV2Outputs(outputs, outputName: outputName)
            : try decodeV1Predictions(outputs, field: "outputs")
    } else {
        throw IngestDecodingError(
            "not a KServe inference payload: expected \"instances\" or \"inputs\" (request), \"predictions\" or \"outputs\" (response)")
    }
    payload.id = id
    return payload
}

// MARK: Helpers

/// A scalar as a cell; nil for arrays and objects.
private func scalarCell(_ v: JSONValue) -> Cell? {
    switch v {
    case .null: .missing
    case .bool(let b): .number(b ? 1 : 0)
    case .number(let x): .number(x)
    case .string(let s): .text(s)
    case .array, .object: nil
    }
}

/// Row-major leaves of a nested array.
private func flatten(_ v: JSONValue, into out: inout [JSONValue]) {
    if case .array(let a) = v {
        for e in a { flatten(e, into: &out) }
    } else {
        out.append(v)
    }
}

private func isV2TensorList(_ v: JSONValue) -> Bool {
    guard case .array(let a) = v, let first = a.first, case .object = first else { return false }
    return first.member("data") != nil || first.member("datatype") != nil || first.member("shape") != nil
}

/// Names positional columns: `featureNames[k]`, else `f<k>`.
private func positionalName(_ k: Int, _ featureNames: [String]) -> String {
    k < featureNames.count ? featureNames[k] : "f\(k)"
}

/// Column-by-column storage while reading rows, with every named feature present.
private struct FeatureColumns {
    var columns: [String: [Cell]] = [:]
    var order: [String] = []
    var rows = 0

    init(featureNames: [String]) {
        for name in featureNames where columns[name] == nil {
            columns[name] = []
            order.append(name)
        }
    }

    mutating func set(_ name: String, _ cell: Cell, row: Int) {
        if columns[name] == nil {
            columns[name] = [Cell](repeating: .missing, count: row)
            order.append(name)
        }
        if let n = columns[name]?.count, n > row {
            columns[name]?[row] = cell  // the same name twice in one row: the last value wins
        } else {
            columns[name, default: []].append(cell)
        }
    }

    /// Ends row `row` (0-based): pads columns the row did not mention.
    mutating func endRow() {
        rows += 1
        for name in order where (columns[name]?.count ?? 0) < rows {
            columns[name, default: []].append(.missing)
        }
    }
}

// MARK: v1 and TensorFlow-style requests

private func decodeV1Instances(_ v: JSONValue, field: String, featureNames: [String]) throws(IngestDecodingError) -> KServePayload {
    var cols = FeatureColumns(featureNames: featureNames)
    switch v {
    case .array(let instances):
        for (r, instance) in instances.enumerated() {
            switch instance {
            case .object(let members):
                for (name, value) in members {
                    if name.isEmpty { throw IngestDecodingError("\(field)[\(r)]: a feature has an empty name") }
                    guard let cell = scalarCell(value) else {
                        throw IngestDecodingError("\(field)[\(r)]: feature \(quoted(name)) is \(value.kindName); expected a number, a string, a boolean or null")
                    }
                    cols.set(name, cell, row: r)
                }
            case .array:
                var leaves: [JSONValue] = []
                flatten(instance, into: &leaves)
                for (k, leaf) in leaves.enumerated() {
                    guard let cell = scalarCell(leaf) else {
                        throw IngestDecodingError("\(field)[\(r)]: position \(k) is \(leaf.kindName); expected a number, a string, a boolean or null")
                    }
                    cols.set(positionalName(k, featureNames), cell, row: r)
                }
            default:
                // A model with one input feature: each instance is that feature's value.
                if let cell = scalarCell(instance) { cols.set(positionalName(0, featureNames), cell, row: r) }
            }
            cols.endRow()
        }
    case .object(let members):
        // TensorFlow's columnar form: {"inputs": {"amount": [...], "country": [...]}}.
        var n: Int? = nil
        for (name, value) in members {
            guard case .array(let values) = value else {
                throw IngestDecodingError("\(field).\(name) must be an array with one value per row, found \(value.kindName)")
            }
            if let n, n != values.count {
                throw IngestDecodingError("\(field): \(quoted(name)) has \(values.count) values but the first input has \(n)")
            }
            n = values.count
        }
        for r in 0..<(n ?? 0) {
            for (name, value) in members {
                guard case .array(let values) = value else { continue }
                guard let cell = scalarCell(values[r]) else {
                    throw IngestDecodingError("\(field).\(name)[\(r)] is \(values[r].kindName); expected a number, a string, a boolean or null")
                }
                cols.set(name, cell, row: r)
            }
            cols.endRow()
        }
    default:
        throw IngestDecodingError("\"\(field)\" must be an array of instances, found \(v.kindName)")
    }
    return KServePayload(kind: .request, protocolVersion: .v1, rowCount: cols.rows, features: cols.columns, predictions: [], id: nil)
}

// MARK: v1 responses

private func decodeV1Predictions(_ v: JSONValue, field: String) throws(IngestDecodingError) -> KServePayload {
    guard case .array(let rows) = v else {
        throw IngestDecodingError("\"\(field)\" must be an array with one prediction per instance, found \(v.kindName)")
    }
    var predictions: [Cell] = []
    predictions.reserveCapacity(rows.count)
    for (r, row) in rows.enumerated() {
        if let cell = scalarCell(row) {
            predictions.append(cell)
            continue
        }
        // [p0, p1, …]: the last column is the positive-class score (see the doc comment).
        var leaves: [JSONValue] = []
        flatten(row, into: &leaves)
        guard case .array = row, let last = leaves.last, let cell = scalarCell(last) else {
            throw IngestDecodingError("\(field)[\(r)] is \(row.kindName); expected a number, a string or an array of class scores")
        }
        predictions.append(cell)
    }
    return KServePayload(kind: .response, protocolVersion: .v1, rowCount: rows.count, features: [:], predictions: predictions, id: nil)
}

// MARK: v2 tensors

/// One v2 tensor as rows × columns of leaves.
private struct Tensor {
    var name: String
    var rows: Int
    var columns: Int
    var leaves: [JSONValue]

    func cell(row: Int, column: Int) -> JSONValue { leaves[row * columns + column] }
}

private func readTensor(_ v: JSONValue, index: Int, field: String) throws(IngestDecodingError) -> Tensor {
    guard case .object = v else { throw IngestDecodingError("\(field)[\(index)] must be an object {name, shape, datatype, data}, found \(v.kindName)") }
    let name: String
    if case .string(let s)? = v.member("name") { name = s } else { name = "\(field)-\(index)" }
    guard let data = v.member("data") else {
        throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))) has no \"data\"; binary tensor extensions are not supported")
    }
    // `datatype` needs no reading: numbers, strings (BYTES) and booleans (BOOL, as 1/0) are
    // told apart by their JSON type.
    var leaves: [JSONValue] = []
    flatten(data, into: &leaves)
    // Nested rows must all be as wide, or row-major order would shift values between rows.
    if case .array(let outer) = data, let first = outer.first, case .array = first {
        var width: Int? = nil
        for row in outer {
            var rowLeaves: [JSONValue] = []
            flatten(row, into: &rowLeaves)
            if let width, width != rowLeaves.count {
                throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): nested rows of different lengths (\(width) and \(rowLeaves.count))")
            }
            width = rowLeaves.count
        }
    }

    var shape: [Int] = []
    if case .array(let dims)? = v.member("shape") {
        for d in dims {
            guard case .number(let x) = d, x >= 0, x == x.rounded(), x < 1e12 else {
                throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): shape must list non-negative integers")
            }
            shape.append(Int(x))
        }
    }
    let rows: Int
    let columns: Int
    if shape.isEmpty {
        // No shape: nested data gives it ([[…], […]] = rows × columns); flat data is one column.
        if case .array(let outer) = data, let first = outer.first, case .array = first {
            rows = outer.count
        } else {
            rows = leaves.count
        }
        columns = rows == 0 ? 1 : leaves.count / rows
        guard rows == 0 || columns * rows == leaves.count else {
            throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): \(leaves.count) values do not split into \(rows) equal rows")
        }
    } else {
        var total = 1
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else { throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): shape \(shape) is too large") }
            total = p
        }
        guard total == leaves.count else {
            throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): shape \(shape) holds \(total) values but data has \(leaves.count)")
        }
        // The first dimension is the batch (rows); the rest flatten into columns.
        rows = shape[0]
        columns = shape.dropFirst().reduce(1, *)
    }
    if rows > 0 && columns == 0 {
        throw IngestDecodingError("\(field)[\(index)] (\(quoted(name))): shape \(shape) has rows but no values")
    }
    return Tensor(name: name, rows: rows, columns: Swift.max(columns, 1), leaves: leaves)
}

private func decodeV2Inputs(_ v: JSONValue, featureNames: [String]) throws(IngestDecodingError) -> KServePayload {
    guard case .array(let inputs) = v else { throw IngestDecodingError("\"inputs\" must be an array") }
    var tensors: [Tensor] = []
    for (k, input) in inputs.enumerated() { tensors.append(try readTensor(input, index: k, field: "inputs")) }
    let rows = tensors.first?.rows ?? 0
    if let bad = tensors.first(where: { $0.rows != rows }) {
        throw IngestDecodingError("inputs: \(quoted(bad.name)) has \(bad.rows) rows but \(quoted(tensors[0].name)) has \(rows)")
    }
    var cols = FeatureColumns(featureNames: featureNames)
    for r in 0..<rows {
        for t in tensors {
            for c in 0..<t.columns {
                let name: String
                if tensors.count == 1 {
                    name = positionalName(c, featureNames)
                } else {
                    name = t.columns == 1 ? t.name : "\(t.name).\(c)"
                }
                let leaf = t.cell(row: r, column: c)
                guard let cell = scalarCell(leaf) else {
                    throw IngestDecodingError("inputs: \(quoted(t.name)) row \(r) holds \(leaf.kindName)")
                }
                cols.set(name, cell, row: r)
            }
        }
        cols.endRow()
    }
    return KServePayload(kind: .request, protocolVersion: .v2, rowCount: rows, features: cols.columns, predictions: [], id: nil)
}

private func decodeV2Outputs(_ v: JSONValue, outputName: String?) throws(IngestDecodingError) -> KServePayload {
    guard case .array(let outputs) = v, !outputs.isEmpty else { throw IngestDecodingError("\"outputs\" must be a non-empty array of tensors") }
    var chosen = outputs[0]
    var chosenIndex = 0
    if let outputName {
        guard let k = outputs.firstIndex(where: { $0.member("name") == .string(outputName) }) else {
            throw IngestDecodingError("outputs: no output named \(quoted(outputName))")
        }
        chosen = outputs[k]
        chosenIndex = k
    }
    let t = try readTensor(chosen, index: chosenIndex, field: "outputs")
    var predictions: [Cell] = []
    predictions.reserveCapacity(t.rows)
    for r in 0..<t.rows {
        // Several columns per row (class probabilities): the last is the positive-class score.
        let leaf = t.cell(row: r, column: t.columns - 1)
        guard let cell = scalarCell(leaf) else {
            throw IngestDecodingError("outputs: \(quoted(t.name)) row \(r) holds \(leaf.kindName)")
        }
        predictions.append(cell)
    }
    return KServePayload(kind: .response, protocolVersion: .v2, rowCount: t.rows, features: [:], predictions: predictions, id: nil)
}
