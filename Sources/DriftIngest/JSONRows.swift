import DriftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// JSON rows and NDJSON: one object per observation,
//   {"id":"p1","ts":1732870000.5,"features":{"amount":12.5,"country":"DE"},"prediction":0.93,"endpoint":"canary"}
// Feature values go straight into per-feature column builders as they are read; a row that
// fails validation half-way is cut back out of them (rare, so the common path pays nothing).

/// The scalar fields of one row, committed with its features only when the row is valid.
struct PendingRow {
    var id: String?
    var timestamp: Double?
    var endpoint: Endpoint
    /// nil = the row has no "prediction" key.
    var prediction: Cell?
}

enum RowOutcome {
    case accepted(PendingRow)
    case rejected(String)
}

struct RowsBatchBuilder {
    var keys = KeyTable()
    var columns: [ColumnBuilder] = []
    /// Columns first created by a row that was then rejected; dropped at the end unless a
    /// later accepted row uses them (a typo in one bad row should not add an empty feature).
    var deadColumns: Set<Int> = []
    var predictions = ColumnBuilder()
    var sawPrediction = false
    var ids: [String?] = []
    var timestamps: [Double?] = []
    var endpoints: [Endpoint] = []
    /// Accepted rows so far = the row index the next accepted row gets.
    var accepted = 0
    var rejected: [RejectedRow] = []
    let defaultEndpoint: Endpoint
    /// Expected rows, to size new columns once.
    var reserve = 16

    init(defaultEndpoint: Endpoint) {
        self.defaultEndpoint = defaultEndpoint
    }

    /// Sizes every column for `rows` rows. Called once the first row's length tells how many
    /// rows the body holds, so that columns neither grow by doubling nor over-allocate.
    mutating func reserve(rows: Int) {
        reserve = rows
        ids.reserveCapacity(rows)
        timestamps.reserveCapacity(rows)
        endpoints.reserveCapacity(rows)
        for c in columns.indices { columns[c].numbers.reserveCapacity(rows) }
        if sawPrediction || predictions.count > 0 { predictions.numbers.reserveCapacity(rows) }
    }

    // MARK: One row

    /// Parses the row value at the scanner. Syntax errors throw (the caller decides whether
    /// that kills the request or only the row); semantic problems reject the row.
    mutating func parseRow(_ s: inout JSONScanner) throws(JSONSyntaxError) -> RowOutcome {
        let columnsAtStart = columns.count
        guard s.peek() == UInt8(ascii: "{") else {
            let what = s.describeValue()
            try s.skipValue()
            return .rejected("observation is \(what); expected an object with \"features\"")
        }
        s.i += 1
        let row = accepted
        var pending = PendingRow(id: nil, timestamp: nil, endpoint: defaultEndpoint, prediction: nil)
        // The first problem found; parsing goes on to the row's end to stay in sync.
        var reason: String? = nil
        var sawFeatures = false

        if s.peek() == UInt8(ascii: "}") {
            s.i += 1
        } else {
            repeat {
                let key = try s.readKey()
                switch key.count {
                case 8 where s.equals(key, "features"):
                    sawFeatures = true
                    try parseFeatures(&s, row: row, reason: &reason)
                case 2 where s.equals(key, "id"):
                    let v = try s.readScalar()
                    switch v {
                    case .string(let t): pending.id = s.string(t)
                    case .number(let n) where n.isInteger:
                        pending.id = String(decoding: UnsafeBufferPointer(start: s.base + n.start, count: n.count), as: UTF8.self)
                    case .null: pending.id = nil
                    default: if reason == nil { reason = "\"id\" must be a string or an integer, found \(describe(v, s))" }
                    }
                case 2 where s.equals(key, "ts"):
                    let v = try s.readScalar()
                    switch readTimestamp(v, s) {
                    case .success(let t): pending.timestamp = t
                    case .failure(let f): if reason == nil { reason = f.message }
                    }
                case 10 where s.equals(key, "prediction"):
                    let v = try s.readScalar()
                    switch v {
                    case .number(let n): pending.prediction = .number(n.value)
                    case .string(let t): pending.prediction = .text(s.string(t))
                    case .bool(let b): pending.prediction = .number(b ? 1 : 0)
                    case .null: pending.prediction = .missing
                    case .nested(let what):
                        if reason == nil { reason = "\"prediction\" must be a number, a string or null, found \(what)" }
                    }
                case 8 where s.equals(key, "endpoint"):
                    let v = try s.readScalar()
                    switch readEndpoint(v, s, default: defaultEndpoint) {
                    case .success(let e): pending.endpoint = e
                    case .failure(let f): if reason == nil { reason = f.message }
                    }
                default:
                    // Unknown keys (labels, model names, …) are ignored for forward compatibility.
                    try s.skipValue()
                }
            } while try s.nextMember(close: UInt8(ascii: "}"), "in an observation")
        }
        // A row without "features" is almost always a misspelt key, not a deliberate empty row
        // ({"features": {}} says that).
        if !sawFeatures && reason == nil { reason = "observation has no \"features\" object" }
        if let reason {
            rollback(columnsAtStart: columnsAtStart)
            return .rejected(reason)
        }
        return .accepted(pending)
    }

    @inline(__always)
    private mutating func parseFeatures(_ s: inout JSONScanner, row: Int, reason: inout String?) throws(JSONSyntaxError) {
        guard s.peek() == UInt8(ascii: "{") else {
            let what = s.describeValue()
            try s.skipValue()
            if reason == nil { reason = "\"features\" must be an object, found \(what)" }
            return
        }
        s.i += 1
        if s.peek() == UInt8(ascii: "}") { s.i += 1; return }
        var hint = 0
        repeat {
            let key = try s.readKey()
            if key.count == 0 {
                try s.skipValue()
                if reason == nil { reason = "a feature has an empty name" }
                continue
            }
            let c = column(for: key, s, hint: hint)
            hint = c + 1
            let first = s.peek()
            // Numbers first: they are nearly every value.
            if first == UInt8(ascii: "-") || first &- 0x30 < 10 {
                let n = try s.readNumber()
                columns[c].set(number: n.value, row: row)
                continue
            }
            switch try s.readScalar() {
            case .number(let n): columns[c].set(number: n.value, row: row)
            case .string(let t): columns[c].set(.text(s.string(t)), row: row)
            case .bool(let b): columns[c].set(number: b ? 1 : 0, row: row)
            case .null: columns[c].set(.missing, row: row)
            case .nested(let what):
                if reason == nil {
                    reason = "feature \(quoted(keys.names[c])) is \(what); expected a number, a string, a boolean or null"
                }
            }
        } while try s.nextMember(close: UInt8(ascii: "}"), "in \"features\"")
    }

    @inline(__always)
    private mutating func column(for key: StringToken, _ s: JSONScanner, hint: Int) -> Int {
        let found = s.withBytes(key) { keys.find($0, hint: hint) }
        if let found { return found }
        let index = s.withBytes(key) { keys.add($0) }
        columns.append(ColumnBuilder(reserve: reserve))
        return index
    }

    /// Cuts the current row out of every column after it was rejected.
    mutating func rollback(columnsAtStart: Int) {
        for c in columns.indices where columns[c].count > accepted {
            columns[c].truncate(to: accepted)
        }
        for c in columnsAtStart..<columns.count { deadColumns.insert(c) }
    }

    mutating func commit(_ p: PendingRow) {
        let row = accepted
        if !deadColumns.isEmpty {
            for c in deadColumns where columns[c].count > row { deadColumns.remove(c) }
        }
        ids.append(p.id)
        timestamps.append(p.timestamp)
        endpoints.append(p.endpoint)
        if let prediction = p.prediction {
            sawPrediction = true
            predictions.set(prediction, row: row)
        }
        accepted += 1
    }

    mutating func finish() -> DecodedBatch {
        var features: [String: IngestColumn] = [:]
        features.reserveCapacity(columns.count)
        for c in columns.indices where !deadColumns.contains(c) {
            features[keys.names[c]] = columns[c].finish(rows: accepted)
        }
        let batch = ObservationBatch(
            count: accepted, ids: ids, timestamps: timestamps, endpoints: endpoints,
            features: features, predictions: sawPrediction ? predictions.finish(rows: accepted) : nil)
        return DecodedBatch(batch: batch, rejected: rejected)
    }
}

// MARK: Field readers shared by rows, NDJSON and columnar

func describe(_ v: JSONScanner.Scalar, _ s: JSONScanner) -> String {
    switch v {
    case .number(let n):
        return "the number " + String(decoding: UnsafeBufferPointer(start: s.base + n.start, count: Swift.min(n.count, 40)), as: UTF8.self)
    case .string(let t): return "the string " + quoted(s.string(t))
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    case .nested(let what): return what
    }
}

/// `ts`: Unix seconds or an RFC 3339 string; null = time of receipt.
func readTimestamp(_ v: JSONScanner.Scalar, _ s: JSONScanner) -> Result<Double?, FieldError> {
    switch v {
    case .number(let n):
        guard n.value.isFinite else { return .failure(FieldError("\"ts\" must be a finite number of Unix seconds, found \(describe(v, s))")) }
        return .success(n.value)
    case .string(let t):
        if let seconds = s.withBytes(t, { parseRFC3339($0) }) { return .success(seconds) }
        return .failure(FieldError("\"ts\" must be Unix seconds or an RFC 3339 time such as \"2026-11-29T12:00:00Z\", found \(describe(v, s))"))
    case .null:
        return .success(nil)
    default:
        return .failure(FieldError("\"ts\" must be Unix seconds or an RFC 3339 time string, found \(describe(v, s))"))
    }
}

/// `endpoint`: production / canary / shadow (and KServe's `default`); null = the default.
func readEndpoint(_ v: JSONScanner.Scalar, _ s: JSONScanner, default d: Endpoint) -> Result<Endpoint, FieldError> {
    switch v {
    case .string(let t):
        // The canonical spellings without making a String (this runs once per row).
        if s.equals(t, "production") { return .success(.production) }
        if s.equals(t, "canary") { return .success(.canary) }
        if s.equals(t, "shadow") { return .success(.shadow) }
        let text = s.string(t)
        if let e = Endpoint(sidecarValue: text) { return .success(e) }
        return .failure(FieldError("unknown endpoint \(quoted(text)); expected \"production\", \"canary\" or \"shadow\""))
    case .null:
        return .success(d)
    default:
        return .failure(FieldError("\"endpoint\" must be a string (\"production\", \"canary\" or \"shadow\"), found \(describe(v, s))"))
    }
}

/// A per-row problem's reason, as a Result failure.
struct FieldError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

// MARK: Entry points

func decodeJSONRows(_ body: [UInt8], defaultEndpoint: Endpoint, maxRows: Int) throws(IngestDecodingError) -> DecodedBatch {
    do {
        return try withBodyPointer(body) { base, count throws(JSONSyntaxError) -> Result<DecodedBatch, IngestDecodingError> in
            var s = JSONScanner(base: base, start: 0, end: count)
            switch s.peek() {
            case 0:
                return .failure(IngestDecodingError("the request body is empty; expected {\"observations\": [{\"features\": {…}}, …]}"))
            case UInt8(ascii: "{"):
                break
            default:
                return .failure(IngestDecodingError(
                    "expected a JSON object {\"observations\": [...]}, found \(s.describeValue()) at byte \(s.i)"
                    + (s.base[s.i] == UInt8(ascii: "[") ? "; to send one observation per line use Content-Type: application/x-ndjson" : "")))
            }
            s.i += 1
            var builder = RowsBatchBuilder(defaultEndpoint: defaultEndpoint)
            var sawObservations = false
            if s.peek() != UInt8(ascii: "}") {
                repeat {
                    let key = try s.readKey()
                    guard s.equals(key, "observations") else {
                        try s.skipValue()
                        continue
                    }
                    if sawObservations {
                        return .failure(IngestDecodingError("\"observations\" appears twice in the top-level object (byte \(key.start))"))
                    }
                    sawObservations = true
                    guard s.peek() == UInt8(ascii: "[") else {
                        return .failure(IngestDecodingError("\"observations\" must be an array of objects, found \(s.describeValue()) at byte \(s.i)"))
                    }
                    s.i += 1
                    if s.peek() == UInt8(ascii: "]") { s.i += 1; continue }
                    var row = 0
                    repeat {
                        if row >= maxRows { return .failure(tooManyRowsError(maxRows)) }
                        let rowStart = s.i
                        switch try builder.parseRow(&s) {
                        case .accepted(let p): builder.commit(p)
                        case .rejected(let reason): builder.rejected.append(RejectedRow(row: row, reason: reason))
                        }
                        if row == 0 { builder.reserve(rows: estimatedRows(count - rowStart, firstRow: s.i - rowStart, maxRows: maxRows)) }
                        row += 1
                    } while try s.nextMember(close: UInt8(ascii: "]"), "in \"observations\"")
                } while try s.nextMember(close: UInt8(ascii: "}"), "in the top-level object")
            } else {
                s.i += 1
            }
            try s.expectEnd()
            guard sawObservations else {
                return .failure(IngestDecodingError(
                    "the JSON object has no \"observations\" array; rows look like {\"observations\": [{\"id\": \"p1\", \"features\": {\"amount\": 12.5}}]} (columnar bodies use \"features\": {\"amount\": [...]})"))
            }
            return .success(builder.finish())
        }.get()
    } catch let e as IngestDecodingError {
        throw e
    } catch let e as JSONSyntaxError {
        throw IngestDecodingError(e.description)
    } catch {
        throw IngestDecodingError("\(error)")
    }
}

/// Rows in `remaining` bytes if they are all as long as the first (+1/8 for variation).
private func estimatedRows(_ remaining: Int, firstRow: Int, maxRows: Int) -> Int {
    let estimate = remaining / Swift.max(firstRow, 1)
    return Swift.min(maxRows, Swift.max(16, estimate + estimate / 8 + 1))
}

/// NDJSON: a malformed or invalid line rejects that row only (row = line index, counting
/// blank lines, which are otherwise ignored).
func decodeNDJSON(_ body: [UInt8], defaultEndpoint: Endpoint, maxRows: Int) throws(IngestDecodingError) -> DecodedBatch {
    let result: Result<DecodedBatch, IngestDecodingError> = withBodyPointer(body) { base, count in
        var builder = RowsBatchBuilder(defaultEndpoint: defaultEndpoint)
        var lineStart = 0
        var line = 0
        var rows = 0
        while lineStart < count {
            var lineEnd = count
            if let nl = memchr(base + lineStart, 0x0A, count - lineStart) {
                lineEnd = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            }
            var s = JSONScanner(base: base, start: lineStart, end: lineEnd)
            if s.peek() != 0 {
                rows += 1
                if rows > maxRows { return .failure(tooManyRowsError(maxRows)) }
                let columnsAtStart = builder.columns.count
                do throws(JSONSyntaxError) {
                    let outcome = try builder.parseRow(&s)
                    try s.expectEnd()
                    switch outcome {
                    case .accepted(let p): builder.commit(p)
                    case .rejected(let reason): builder.rejected.append(RejectedRow(row: line, reason: reason))
                    }
                    if rows == 1 {
                        builder.reserve(rows: estimatedRows(count - lineStart, firstRow: lineEnd + 1 - lineStart, maxRows: maxRows))
                    }
                } catch {
                    builder.rollback(columnsAtStart: columnsAtStart)
                    builder.rejected.append(RejectedRow(
                        row: line, reason: "line \(line + 1): \(error.description) (column \(error.offset - lineStart + 1))"))
                }
            }
            line += 1
            lineStart = lineEnd + 1
        }
        if rows == 0 && builder.rejected.isEmpty {
            return .failure(IngestDecodingError("the request body has no observations; NDJSON is one JSON object per line"))
        }
        return .success(builder.finish())
    }
    return try result.get()
}
