import DriftCore

// JSON columnar: one array per field,
//   {"ids":[…],"ts":[…],"features":{"amount":[…],"country":[…]},"predictions":[…],"endpoint":"canary"}
// Keys may come in any order, so every array is read into its own builder and the lengths are
// checked at the end. A bad value (a nested array, an unparseable ts, an unknown endpoint)
// rejects its row across all columns, like a bad row of the rows format.

private struct ColumnarState {
    var columnNames: [String] = []
    var columns: [ColumnBuilder] = []
    var predictions: ColumnBuilder? = nil
    var ids: [String?]? = nil
    var timestamps: [Double?]? = nil
    var endpoints: [Endpoint]? = nil
    var endpoint: Endpoint
    /// Rows whose "endpoints" entry was null: they take "endpoint", known only at the end.
    var nullEndpointRows: [Int] = []
    /// (field, length) in the order read, for the length check's message.
    var lengths: [(String, Int)] = []
    /// Row → first reason.
    var reasons: [Int: String] = [:]
    let maxRows: Int

    mutating func reject(_ row: Int, _ reason: String) {
        if reasons[row] == nil { reasons[row] = reason }
    }
}

func decodeJSONColumnar(_ body: [UInt8], defaultEndpoint: Endpoint, maxRows: Int) throws(IngestDecodingError) -> DecodedBatch {
    let parsed: Result<ColumnarStateBox, IngestDecodingError>
    do {
        parsed = try withBodyPointer(body) { base, count throws(JSONSyntaxError) -> Result<ColumnarStateBox, IngestDecodingError> in
            var s = JSONScanner(base: base, start: 0, end: count)
            switch s.peek() {
            case 0:
                return .failure(IngestDecodingError("the request body is empty; expected {\"features\": {\"name\": [...]}, \"ids\": [...]}"))
            case UInt8(ascii: "{"):
                break
            default:
                return .failure(IngestDecodingError("expected a JSON object {\"features\": {\"name\": [...]}}, found \(s.describeValue()) at byte \(s.i)"))
            }
            s.i += 1
            var st = ColumnarState(endpoint: defaultEndpoint, maxRows: maxRows)
            var seen = Set<String>()
            if s.peek() == UInt8(ascii: "}") {
                s.i += 1
            } else {
                repeat {
                    let key = try s.readKey()
                    let name = s.string(key)
                    let known = ["features", "ids", "ts", "predictions", "endpoint", "endpoints"].contains(name)
                    if known {
                        if seen.contains(name) {
                            return .failure(IngestDecodingError("\(quoted(name)) appears twice in the top-level object (byte \(key.start))"))
                        }
                        seen.insert(name)
                    }
                    let r: Result<Void, IngestDecodingError>
                    switch name {
                    case "features": r = try readFeatures(&s, &st)
                    case "ids": r = try readIDs(&s, &st)
                    case "ts": r = try readTimestamps(&s, &st)
                    case "predictions": r = try readPredictions(&s, &st)
                    case "endpoints": r = try readEndpoints(&s, &st)
                    case "endpoint":
                        let v = try s.readScalar()
                        switch readEndpoint(v, s, default: defaultEndpoint) {
                        case .success(let e): st.endpoint = e; r = .success(())
                        case .failure(let f): r = .failure(IngestDecodingError(f.message))
                        }
                    default:
                        try s.skipValue()
                        r = .success(())
                    }
                    if case .failure(let e) = r { return .failure(e) }
                } while try s.nextMember(close: UInt8(ascii: "}"), "in the top-level object")
            }
            try s.expectEnd()
            if !seen.contains("features") && !seen.contains("ids") && !seen.contains("predictions") {
                return .failure(IngestDecodingError(
                    "the JSON object has no \"features\" object; columnar bodies look like {\"ids\": [\"p1\"], \"features\": {\"amount\": [12.5]}} (row bodies use \"observations\": [...])"))
            }
            return .success(ColumnarStateBox(st))
        }
    } catch let e as JSONSyntaxError {
        throw IngestDecodingError(e.description)
    } catch {
        throw IngestDecodingError("\(error)")
    }
    var st = try parsed.get().state
    return try assemble(&st)
}

/// Carries the state out of the pointer closure (it is not Sendable and need not be).
private struct ColumnarStateBox {
    var state: ColumnarState
    init(_ s: ColumnarState) { state = s }
}

private func checkArray(_ s: inout JSONScanner, field: String) throws(JSONSyntaxError) -> IngestDecodingError? {
    guard s.peek() == UInt8(ascii: "[") else {
        return IngestDecodingError("\(quoted(field)) must be an array with one value per row, found \(s.describeValue()) at byte \(s.i)")
    }
    s.i += 1
    return nil
}

/// Reads one column array into `b`. Returns the row count, or an error when over maxRows.
private func readColumn(_ s: inout JSONScanner, _ st: inout ColumnarState, field: String, into b: inout ColumnBuilder) throws(JSONSyntaxError) -> Result<Int, IngestDecodingError> {
    if let e = try checkArray(&s, field: field) { return .failure(e) }
    if s.peek() == UInt8(ascii: "]") { s.i += 1; return .success(0) }
    var row = 0
    repeat {
        if row >= st.maxRows { return .failure(tooManyRowsError(st.maxRows)) }
        let first = s.peek()
        if first == UInt8(ascii: "-") || first &- 0x30 < 10 {
            b.append(number: try s.readNumber().value)
        } else {
            switch try s.readScalar() {
            case .number(let n): b.append(number: n.value)
            case .string(let t): b.append(text: s.string(t))
            case .bool(let v): b.append(number: v ? 1 : 0)
            case .null: b.appendMissing()
            case .nested(let what):
                b.appendMissing()
                st.reject(row, "\(field) is \(what) in this row; expected a number, a string, a boolean or null")
            }
        }
        row += 1
    } while try s.nextMember(close: UInt8(ascii: "]"), "in the \(field) array")
    return .success(row)
}

private func readFeatures(_ s: inout JSONScanner, _ st: inout ColumnarState) throws(JSONSyntaxError) -> Result<Void, IngestDecodingError> {
    guard s.peek() == UInt8(ascii: "{") else {
        return .failure(IngestDecodingError("\"features\" must be an object of arrays ({\"amount\": [...]}), found \(s.describeValue()) at byte \(s.i)"))
    }
    s.i += 1
    if s.peek() == UInt8(ascii: "}") { s.i += 1; return .success(()) }
    var names = Set<String>()
    repeat {
        let key = try s.readKey()
        let name = s.string(key)
        if name.isEmpty {
            return .failure(IngestDecodingError("a feature in \"features\" has an empty name (byte \(key.start))"))
        }
        if names.contains(name) {
            return .failure(IngestDecodingError("feature \(quoted(name)) appears twice in \"features\" (byte \(key.start))"))
        }
        names.insert(name)
        let field = "feature " + quoted(name)
        var b = ColumnBuilder(reserve: st.lengths.first?.1 ?? 0)
        switch try readColumn(&s, &st, field: field, into: &b) {
        case .failure(let e): return .failure(e)
        case .success(let n):
            st.lengths.append(("features." + name, n))
            st.columnNames.append(name)
            st.columns.append(b)
        }
    } while try s.nextMember(close: UInt8(ascii: "}"), "in \"features\"")
    return .success(())
}

private func readPredictions(_ s: inout JSONScanner, _ st: inout ColumnarState) throws(JSONSyntaxError) -> Result<Void, IngestDecodingError> {
    var b = ColumnBuilder(reserve: st.lengths.first?.1 ?? 0)
    switch try readColumn(&s, &st, field: "\"predictions\"", into: &b) {
    case .failure(let e): return .failure(e)
    case .success(let n):
        st.lengths.append(("predictions", n))
        st.predictions = b
        return .success(())
    }
}

private func readIDs(_ s: inout JSONScanner, _ st: inout ColumnarState) throws(JSONSyntaxError) -> Result<Void, IngestDecodingError> {
    if let e = try checkArray(&s, field: "ids") { return .failure(e) }
    var ids = [String?]()
    ids.reserveCapacity(st.lengths.first?.1 ?? 0)
    if s.peek() == UInt8(ascii: "]") {
        s.i += 1
    } else {
        repeat {
            if ids.count >= st.maxRows { return .failure(tooManyRowsError(st.maxRows)) }
            let v = try s.readScalar()
            switch v {
            case .string(let t): ids.append(s.string(t))
            case .number(let n) where n.isInteger:
                ids.append(String(decoding: UnsafeBufferPointer(start: s.base + n.start, count: n.count), as: UTF8.self))
            case .null: ids.append(nil)
            default:
                st.reject(ids.count, "\"ids\" entry must be a string or an integer, found \(describe(v, s))")
                ids.append(nil)
            }
        } while try s.nextMember(close: UInt8(ascii: "]"), "in the \"ids\" array")
    }
    st.lengths.append(("ids", ids.count))
    st.ids = ids
    return .success(())
}

private func readTimestamps(_ s: inout JSONScanner, _ st: inout ColumnarState) throws(JSONSyntaxError) -> Result<Void, IngestDecodingError> {
    if let e = try checkArray(&s, field: "ts") { return .failure(e) }
    var ts = [Double?]()
    ts.reserveCapacity(st.lengths.first?.1 ?? 0)
    if s.peek() == UInt8(ascii: "]") {
        s.i += 1
    } else {
        repeat {
            if ts.count >= st.maxRows { return .failure(tooManyRowsError(st.maxRows)) }
            let v = try s.readScalar()
            switch readTimestamp(v, s) {
            case .success(let t): ts.append(t)
            case .failure(let f):
                st.reject(ts.count, f.message)
                ts.append(nil)
            }
        } while try s.nextMember(close: UInt8(ascii: "]"), "in the \"ts\" array")
    }
    st.lengths.append(("ts", ts.count))
    st.timestamps = ts
    return .success(())
}

private func readEndpoints(_ s: inout JSONScanner, _ st: inout ColumnarState) throws(JSONSyntaxError) -> Result<Void, IngestDecodingError> {
    if let e = try checkArray(&s, field: "endpoints") { return .failure(e) }
    // nil entries (null) take the batch's "endpoint", which may come later in the object.
    var raw = [Endpoint?]()
    if s.peek() == UInt8(ascii: "]") {
        s.i += 1
    } else {
        repeat {
            if raw.count >= st.maxRows { return .failure(tooManyRowsError(st.maxRows)) }
            let v = try s.readScalar()
            if case .null = v {
                raw.append(nil)
                continue
            }
            switch readEndpoint(v, s, default: .production) {
            case .success(let e): raw.append(e)
            case .failure(let f):
                st.reject(raw.count, f.message)
                raw.append(nil)
            }
        } while try s.nextMember(close: UInt8(ascii: "]"), "in the \"endpoints\" array")
    }
    st.lengths.append(("endpoints", raw.count))
    st.endpoints = raw.map { $0 ?? .production }
    st.nullEndpointRows = raw.indices.filter { raw[$0] == nil }
    return .success(())
}

private func assemble(_ st: inout ColumnarState) throws(IngestDecodingError) -> DecodedBatch {
    // Every array must have the same length; name the first that differs.
    let n = st.lengths.first?.1 ?? 0
    if let (field, len) = st.lengths.first(where: { $0.1 != n }), let first = st.lengths.first {
        throw IngestDecodingError(
            "columnar arrays must all have one value per row: \(quoted(field)) has \(len) values but \(quoted(first.0)) has \(first.1)")
    }
    var endpoints = st.endpoints ?? [Endpoint](repeating: st.endpoint, count: n)
    for r in st.nullEndpointRows { endpoints[r] = st.endpoint }
    var ids = st.ids ?? [String?](repeating: nil, count: n)
    var timestamps = st.timestamps ?? [Double?](repeating: nil, count: n)
    var rejected: [RejectedRow] = []
    var count = n
    if !st.reasons.isEmpty {
        rejected = st.reasons.sorted { $0.key < $1.key }.map { RejectedRow(row: $0.key, reason: $0.value) }
        var keep = [Bool](repeating: true, count: n)
        for r in st.reasons.keys where r < n { keep[r] = false }
        for c in st.columns.indices { st.columns[c].filter(keep: keep) }
        st.predictions?.filter(keep: keep)
        ids = ids.indices.filter { keep[$0] }.map { ids[$0] }
        timestamps = timestamps.indices.filter { keep[$0] }.map { timestamps[$0] }
        endpoints = endpoints.indices.filter { keep[$0] }.map { endpoints[$0] }
        count = n - rejected.count
    }
    var features: [String: IngestColumn] = [:]
    features.reserveCapacity(st.columns.count)
    for c in st.columns.indices {
        features[st.columnNames[c]] = st.columns[c].finish(rows: count)
    }
    let predictions = st.predictions.map { b -> IngestColumn in
        var b = b
        return b.finish(rows: count)
    }
    let batch = ObservationBatch(count: count, ids: ids, timestamps: timestamps, endpoints: endpoints,
                                 features: features, predictions: predictions)
    return DecodedBatch(batch: batch, rejected: rejected)
}
