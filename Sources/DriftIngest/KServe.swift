import DriftCore

/// What one KServe inference payload (as the payload logger's CloudEvents carry it) says,
/// row by row. A request gives feature values, a response gives predictions; the server joins
/// the two halves by the CloudEvent id.
public struct KServePayload: Sendable, Equatable {
    /// Which half of an inference the payload is.
    public enum Kind: Sendable, Equatable {
        /// v1 `instances` / v2 `inputs`.
        case request
        /// v1 `predictions` / v2 `outputs`.
        case response
    }

    /// The inference protocol the payload speaks.
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
    /// Requests: feature name → one value per row; numeric columns stay unboxed (`.numbers`,
    /// NaN in missing rows). Every name of `featureNames` is present (missing where the payload
    /// had fewer positions). Empty for responses.
    public var columns: [String: IngestColumn]
    /// Responses: one cell per row. Empty for requests.
    public var predictions: [Cell]
    /// The v2 payload's `id`, when it has one.
    public var id: String?
    /// Responses: the output (v2) or key (v1 prediction objects) the predictions were taken
    /// from, when the payload named one.
    public var output: String?

    /// `columns` cell by cell.
    public var features: [String: [Cell]] {
        columns.mapValues { column in (0..<column.count).map { column.cell(at: $0) } }
    }

    public init(kind: Kind, protocolVersion: ProtocolVersion, rowCount: Int, columns: [String: IngestColumn],
                predictions: [Cell], id: String?, output: String? = nil) {
        self.kind = kind
        self.protocolVersion = protocolVersion
        self.rowCount = rowCount
        self.columns = columns
        self.predictions = predictions
        self.id = id
        self.output = output
    }
}

/// How much one KServe event may carry. The payload logger sends each inference request and
/// response whole, one event each, so these bound what one inference call may hold; they
/// bound the memory one event costs driftwatch while it is decoded (measured: README, KServe).
public struct KServeLimits: Sendable, Equatable {
    /// Rows: v1 instances or predictions, or a v2 tensor's first dimension.
    public var maxRows: Int
    /// Values: the cells of the decoded payload (rows × columns over all tensors), and, with
    /// one more per row and a little room for the envelope, the JSON values of the body.
    public var maxValues: Int

    public init(maxRows: Int = 100_000, maxValues: Int = 2_000_000) {
        self.maxRows = maxRows
        self.maxValues = maxValues
    }

    /// 100,000 rows and 2,000,000 values per event.
    public static let standard = KServeLimits()

    /// JSON values the body may hold: every cell, an array per row, and the envelope.
    var maxJSONValues: Int {
        let (withRows, o1) = maxValues.addingReportingOverflow(maxRows)
        let (total, o2) = withRows.addingReportingOverflow(1024)
        return o1 || o2 ? Int.max : total
    }

    /// The sentence a 413 answer ends with: what the sender can change.
    var advice: String {
        "a KServe event may carry at most \(maxRows) rows and \(maxValues) values (rows × columns); send smaller inference batches to the model (the payload logger forwards each request and response whole)"
    }
}

/// Why a KServe body was not read.
public struct KServeDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of answer the error deserves.
    public enum Kind: Sendable, Equatable {
        /// Not JSON, or not a KServe v1/v2 payload driftwatch reads (HTTP 400).
        case malformed
        /// Over `KServeLimits` (HTTP 413).
        case tooLarge
        /// A response with several outputs and nothing that says which one is the prediction
        /// (HTTP 422: the model settings' `kserve.output` decides).
        case ambiguousOutput
    }

    public var kind: Kind
    /// One sentence that says what is wrong and what to change.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
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
///   against `shape`) or nested. One input (KServe's `input-0` of shape [n, k]) → its columns
///   are positional as above, whatever the input's name (a tensor of more than two dimensions
///   is flattened per row), except that a one-column input named like one of `featureNames`
///   is that feature. Several inputs (one tensor per feature, as MLServer's pandas codec
///   sends) → each input is a feature named by its `name`, and an input with k > 1 columns
///   gives `<name>.0` … `<name>.<k-1>`. `BYTES` data become text, `BOOL` 1/0.
///
/// Responses:
/// - The prediction is the only output, whatever its name (KServe's `output-0`, MLServer's
///   `predict`). With several outputs (v2 `outputs`, the keys of v1 prediction objects, or
///   TensorFlow's `{"outputs": {"name": […]}}`): the one named `outputName` (the model
///   settings' `kserve.output`), else the one named `predictionName` (the model's prediction
///   column), else `KServeDecodingError.Kind.ambiguousOutput` listing the outputs present.
/// - v1 `{"predictions": [0.93, …]}` (or class labels). `BYTES` outputs (class labels) become
///   text, `BOOL` 1/0.
/// - A 2-D prediction per row, such as class probabilities `[[p0, p1], …]` or a v2 output of
///   shape `[rows, 2]`, is reduced to its **last column**, taken as the positive-class score
///   (for a binary classifier, P(class 1)). Multi-class models whose positive class is not the
///   last should log a 1-D score instead.
///
/// Every count and shape from the body is checked (no arithmetic on them can overflow) and
/// bounded by `limits`: more rows or values than it allows is `.tooLarge`, found before the
/// payload's columns are built (the JSON tree itself stops growing at the limit).
///
/// - Throws: `KServeDecodingError` for anything that is not one of these shapes.
public func decodeKServeInference(_ body: [UInt8], featureNames: [String], outputName: String? = nil,
                                  predictionName: String? = nil,
                                  limits: KServeLimits = .standard) throws(KServeDecodingError) -> KServePayload {
    let root: JSONValue
    do {
        root = try JSONValue.parse(body, maxValues: limits.maxJSONValues)
    } catch {
        switch error {
        case .syntax(let message): throw KServeDecodingError(.malformed, message)
        case .tooManyValues:
            throw KServeDecodingError(.tooLarge, "the body holds more than \(limits.maxJSONValues) JSON values; \(limits.advice)")
        }
    }
    guard case .object = root else {
        throw KServeDecodingError(.malformed, "a KServe payload must be a JSON object, found \(root.kindName)")
    }
    var id: String? = nil
    if case .string(let s)? = root.member("id") { id = s }

    let choice = OutputChoice(outputName: outputName, predictionName: predictionName)
    var payload: KServePayload
    if let instances = root.member("instances") {
        payload = try decodeV1Instances(instances, field: "instances", featureNames: featureNames, limits: limits)
    } else if let inputs = root.member("inputs") {
        payload = isV2TensorList(inputs)
            ? try decodeV2Inputs(inputs, featureNames: featureNames, limits: limits)
            : try decodeV1Instances(inputs, field: "inputs", featureNames: featureNames, limits: limits)
    } else if let predictions = root.member("predictions") {
        payload = try decodeV1Predictions(predictions, field: "predictions", choice: choice, limits: limits)
    } else if let outputs = root.member("outputs") {
        payload = isV2TensorList(outputs)
            ? try decodeV2Outputs(outputs, choice: choice, limits: limits)
            : try decodeV1Predictions(outputs, field: "outputs", choice: choice, limits: limits)
    } else {
        throw malformed(
            "not a KServe inference payload: expected \"instances\" or \"inputs\" (request), \"predictions\" or \"outputs\" (response)")
    }
    payload.id = id
    return payload
}

// MARK: Helpers

private func malformed(_ message: String) -> KServeDecodingError { KServeDecodingError(.malformed, message) }

/// A scalar as a cell; nil for arrays and objects.
private func scalarCell(_ v: JSONValue) -> Cell? {
    switch v {
    case .null: .missing
    case .bool(let b): .number(b ? 1 : 0)
    case .number(let x): .number(x)
    case .string(let s): .text(s)
    case .array, .numbers, .object: nil
    }
}

private func isScalar(_ v: JSONValue) -> Bool {
    switch v {
    case .array, .numbers, .object: false
    default: true
    }
}

/// The elements of an array (a numeric one boxed again), nil for anything else.
private func elements(_ v: JSONValue) -> [JSONValue]? {
    switch v {
    case .array(let a): a
    case .numbers(let x): x.map { .number($0) }
    default: nil
    }
}

/// Row-major leaves of a nested array.
private func flatten(_ v: JSONValue, into out: inout [JSONValue]) {
    switch v {
    case .array(let a): for e in a { flatten(e, into: &out) }
    case .numbers(let x): for e in x { out.append(.number(e)) }
    default: out.append(v)
    }
}

/// The leaves of a nested array, without copying them (bounded by the body's value count, so
/// the sum cannot overflow).
private func leafCount(_ v: JSONValue) -> Int {
    switch v {
    case .array(let a): a.reduce(0) { $0 + leafCount($1) }
    case .numbers(let x): x.count
    default: 1
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

/// At most `limit` names, quoted, for one-line messages.
private func nameList(_ names: [String], limit: Int = 10) -> String {
    let shown = names.prefix(limit).map(quoted).joined(separator: ", ")
    return names.count > limit ? shown + " and \(names.count - limit) more" : shown
}

private func rowLimitError(_ field: String, rows: Int, _ limits: KServeLimits) -> KServeDecodingError {
    KServeDecodingError(.tooLarge, "\(field): \(rows) rows is over the limit of \(limits.maxRows) rows per event; \(limits.advice)")
}

/// Which of several outputs is the prediction (the rule of `decodeKServeInference`).
private struct OutputChoice {
    var outputName: String?
    var predictionName: String?

    /// The index of the prediction among `names`.
    func pick(_ names: [String], field: String) throws(KServeDecodingError) -> Int {
        if names.count == 1 { return 0 }
        if names.isEmpty { throw malformed("\(field) holds no output") }
        if let outputName {
            if let k = names.firstIndex(of: outputName) { return k }
            throw KServeDecodingError(.ambiguousOutput,
                "\(field): no output named \(quoted(outputName)) (kserve.output in the model settings); the response has \(nameList(names)): set kserve.output to one of them")
        }
        if let predictionName, let k = names.firstIndex(of: predictionName) { return k }
        let unnamedPrediction = predictionName.map { " and none is named like the prediction \(quoted($0))" } ?? ""
        throw KServeDecodingError(.ambiguousOutput,
            "\(field): the response has \(names.count) outputs (\(nameList(names)))\(unnamedPrediction); set \"kserve\": {\"output\": \"NAME\"} in the model settings to say which one is the prediction")
    }
}

/// One feature's values while rows are read: unboxed numbers (NaN where missing) until a text
/// value arrives, then cells.
private struct ColumnBuffer {
    var numbers: [Double] = []
    /// Rows missing in `numbers`, ascending.
    var missing: [Int] = []
    /// Every row as a cell, once the column has held text.
    var cells: [Cell]? = nil

    var count: Int { cells?.count ?? numbers.count }

    init(capacity: Int, missingRows: Int) {
        numbers.reserveCapacity(capacity)
        numbers.append(contentsOf: repeatElement(.nan, count: missingRows))
        missing.append(contentsOf: 0..<missingRows)
    }

    /// Sets row `row`, which is the last row or the one after it (a repeated name in a row:
    /// the last value wins).
    mutating func set(_ row: Int, _ cell: Cell) {
        let overwrite = row < count
        if cells == nil {
            switch cell {
            case .number(let x):
                if overwrite {
                    numbers[row] = x
                    if missing.last == row { missing.removeLast() }
                } else {
                    numbers.append(x)
                }
                return
            case .missing:
                if overwrite {
                    numbers[row] = .nan
                    if missing.last != row { missing.append(row) }
                } else {
                    numbers.append(.nan)
                    missing.append(row)
                }
                return
            case .text:
                var all: [Cell] = []
                all.reserveCapacity(numbers.capacity)
                var next = 0  // index into missing
                for (r, x) in numbers.enumerated() {
                    if next < missing.count && missing[next] == r {
                        all.append(.missing)
                        next += 1
                    } else {
                        all.append(.number(x))
                    }
                }
                numbers = []
                missing = []
                cells = all
            }
        }
        if overwrite { cells?[row] = cell } else { cells?.append(cell) }
    }

    var column: IngestColumn { cells.map { .cells($0) } ?? .numbers(numbers, missingRows: missing) }
}

/// Column-by-column storage while reading rows, with every named feature present. Columns are
/// created with room for every row, and their number is bounded so that rows × columns stays
/// within the value limit.
private struct FeatureColumns {
    private(set) var names: [String] = []
    private var buffers: [ColumnBuffer] = []
    private var index: [String: Int] = [:]
    /// Rows ended so far; the row being filled is `rows`.
    private(set) var rows = 0
    private let expectedRows: Int
    private let maxColumns: Int
    private let field: String
    private let limits: KServeLimits

    /// Refuses, before allocating anything, rows × the model's features over the value limit:
    /// every feature of the schema gets a column, sent or not.
    init(featureNames: [String], expectedRows: Int, field: String, limits: KServeLimits) throws(KServeDecodingError) {
        self.expectedRows = expectedRows
        self.field = field
        self.limits = limits
        let (cells, overflow) = featureNames.count.multipliedReportingOverflow(by: expectedRows)
        guard !overflow, cells <= limits.maxValues else {
            throw KServeDecodingError(.tooLarge,
                "\(field): \(expectedRows) rows × the model's \(featureNames.count) features is over the limit of \(limits.maxValues) values per event; \(limits.advice)")
        }
        maxColumns = limits.maxValues / Swift.max(expectedRows, 1)
        for name in featureNames where index[name] == nil { addColumn(name) }
    }

    private mutating func addColumn(_ name: String) {
        index[name] = names.count
        names.append(name)
        buffers.append(ColumnBuffer(capacity: expectedRows, missingRows: rows))
    }

    /// The column of `name`, created (missing in earlier rows) when new.
    mutating func column(_ name: String) throws(KServeDecodingError) -> Int {
        if let c = index[name] { return c }
        guard names.count < maxColumns else {
            throw KServeDecodingError(.tooLarge,
                "\(field): more than \(maxColumns) distinct features over \(expectedRows) rows; \(limits.advice)")
        }
        addColumn(name)
        return names.count - 1
    }

    /// Sets column `c` in the current row (the same name twice in one row: the last value wins).
    mutating func set(_ c: Int, _ cell: Cell) { buffers[c].set(rows, cell) }

    /// Ends the current row: pads the columns it did not mention.
    mutating func endRow() {
        for c in buffers.indices where buffers[c].count == rows { buffers[c].set(rows, .missing) }
        rows += 1
    }

    var dictionary: [String: IngestColumn] {
        var out: [String: IngestColumn] = [:]
        out.reserveCapacity(names.count)
        for (c, name) in names.enumerated() { out[name] = buffers[c].column }
        return out
    }
}

// MARK: v1 and TensorFlow-style requests

private func decodeV1Instances(_ v: JSONValue, field: String, featureNames: [String],
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
private func namedColumns(_ members: [(String, JSONValue)], field: String,
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
private func predictionCell(_ value: JSONValue, _ leaves: inout [JSONValue], what: () -> String) throws(KServeDecodingError) -> Cell {
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

private func decodeV1Predictions(_ v: JSONValue, field: String, choice: OutputChoice,
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

// MARK: v2 tensors

/// One v2 tensor as rows × columns of leaves (`rows * columns` is the leaf count, so every
/// `cell(row:column:)` with row < rows and column < columns is in range).
private struct Tensor {
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

private func tensorName(_ v: JSONValue, index: Int, field: String) -> String {
    if case .string(let s)? = v.member("name") { return s }
    return "\(field)-\(index)"
}

/// A tensor's `data` as leaves, and its number of rows when nested (`[[…], […]]`).
private func tensorLeaves(_ data: JSONValue, label: String) throws(KServeDecodingError) -> (Tensor.Leaves, nestedRows: Int?) {
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

private func readTensor(_ v: JSONValue, index: Int, field: String, limits: KServeLimits) throws(KServeDecodingError) -> Tensor {
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
private func shapeEntry(_ v: JSONValue) -> String {
    if case .number(let x) = v { return x.isFinite && x == x.rounded() && abs(x) < 1e18 ? String(Int64(x)) : String(x) }
    return v.kindName
}

private func decodeV2Inputs(_ v: JSONValue, featureNames: [String], limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
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

private func decodeV2Outputs(_ v: JSONValue, choice: OutputChoice, limits: KServeLimits) throws(KServeDecodingError) -> KServePayload {
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
