import DriftCore

// MARK: Helpers

func malformed(_ message: String) -> KServeDecodingError { KServeDecodingError(.malformed, message) }

/// A scalar as a cell; nil for arrays and objects.
func scalarCell(_ v: JSONValue) -> Cell? {
    switch v {
    case .null: .missing
    case .bool(let b): .number(b ? 1 : 0)
    case .number(let x): .number(x)
    case .string(let s): .text(s)
    case .array, .numbers, .object: nil
    }
}

func isScalar(_ v: JSONValue) -> Bool {
    switch v {
    case .array, .numbers, .object: false
    default: true
    }
}

/// The elements of an array (a numeric one boxed again), nil for anything else.
func elements(_ v: JSONValue) -> [JSONValue]? {
    switch v {
    case .array(let a): a
    case .numbers(let x): x.map { .number($0) }
    default: nil
    }
}

/// Row-major leaves of a nested array.
func flatten(_ v: JSONValue, into out: inout [JSONValue]) {
    switch v {
    case .array(let a): for e in a { flatten(e, into: &out) }
    case .numbers(let x): for e in x { out.append(.number(e)) }
    default: out.append(v)
    }
}

/// The leaves of a nested array, without copying them (bounded by the body's value count, so
/// the sum cannot overflow).
func leafCount(_ v: JSONValue) -> Int {
    switch v {
    case .array(let a): a.reduce(0) { $0 + leafCount($1) }
    case .numbers(let x): x.count
    default: 1
    }
}

func isV2TensorList(_ v: JSONValue) -> Bool {
    guard case .array(let a) = v, let first = a.first, case .object = first else { return false }
    return first.member("data") != nil || first.member("datatype") != nil || first.member("shape") != nil
}

/// Names positional columns: `featureNames[k]`, else `f<k>`.
func positionalName(_ k: Int, _ featureNames: [String]) -> String {
    k < featureNames.count ? featureNames[k] : "f\(k)"
}

/// At most `limit` names, quoted, for one-line messages.
func nameList(_ names: [String], limit: Int = 10) -> String {
    let shown = names.prefix(limit).map(quoted).joined(separator: ", ")
    return names.count > limit ? shown + " and \(names.count - limit) more" : shown
}

func rowLimitError(_ field: String, rows: Int, _ limits: KServeLimits) -> KServeDecodingError {
    KServeDecodingError(.tooLarge, "\(field): \(rows) rows is over the limit of \(limits.maxRows) rows per event; \(limits.advice)")
}

/// Which of several outputs is the prediction (the rule of `decodeKServeInference`).
struct OutputChoice {
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
struct ColumnBuffer {
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
struct FeatureColumns {
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
