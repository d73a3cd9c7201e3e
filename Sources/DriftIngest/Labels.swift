import DriftCore

/// What `POST /v1/models/{model}/labels` carried: the usable labels and the rows refused,
/// each with the reason (sent back in the 202 answer).
public struct DecodedLabels: Sendable, Equatable {
    public var labels: [LabelInput]
    public var rejected: [RejectedRow]
}

/// Decodes a labels body:
/// - rows `{"labels": [{"id": "p-1", "label": 1, "ts": 1764417600}, …]}`,
/// - columnar `{"ids": [...], "labels": [...], "ts": [...]}` (`ts` optional),
/// - NDJSON (`ndjson: true`), one `{"id", "label", "ts"}` object per line.
///
/// `id` is a non-empty string of at most 256 bytes (an integer id is read as its decimal
/// text, as observation ids are); `label` a finite number or a boolean (1/0); `ts` Unix seconds
/// or absent. A bad row is refused with its reason, the rest kept.
///
/// - Throws: `IngestDecodingError` (HTTP 400) when the body is not one of these shapes — with
///   the byte offset of a syntax error, the field that has the wrong type — or holds more than
///   `maxRows` labels (HTTP 413: split it).
public func decodeLabels(_ body: [UInt8], ndjson: Bool, maxRows: Int) throws(IngestDecodingError) -> DecodedLabels {
    var out = DecodedLabels(labels: [], rejected: [])
    if ndjson {
        var index = 0
        var start = 0
        while start <= body.count {
            var end = start
            while end < body.count && body[end] != UInt8(ascii: "\n") { end += 1 }
            let line = Array(body[start..<end])
            defer {
                index += 1
                start = end + 1
            }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            guard out.labels.count + out.rejected.count < maxRows else { throw tooManyLabelsError(maxRows) }
            let value: JSONValue
            do {
                value = try JSONValue.parse(line)
            } catch {
                out.rejected.append(RejectedRow(row: index, reason: "line \(index + 1): \(error.sentence)"))
                continue
            }
            labelRow(index, value, into: &out)
        }
        return out
    }
    let top: JSONValue
    do {
        top = try JSONValue.parse(body)
    } catch {
        throw IngestDecodingError("labels: \(error.sentence)")
    }
    guard case .object = top else {
        throw IngestDecodingError("labels: expected a JSON object {\"labels\": [...]} or {\"ids\": [...], \"labels\": [...]}, found \(top.kindName)")
    }
    // Arrays of numbers come unboxed (`.numbers`): seen here as plain arrays.
    func member(_ key: String) -> JSONValue? { top.member(key).map { $0.arrayElements.map(JSONValue.array) ?? $0 } }
    switch (member("ids"), member("labels")) {
    case (nil, .array(let rows)?):
        guard rows.count <= maxRows else { throw tooManyLabelsError(maxRows) }
        for (i, row) in rows.enumerated() { labelRow(i, row, into: &out) }
    case (.array(let ids)?, .array(let values)?):
        guard ids.count == values.count else {
            throw IngestDecodingError("labels: \"ids\" has \(ids.count) entries but \"labels\" has \(values.count); give one label per id")
        }
        guard ids.count <= maxRows else { throw tooManyLabelsError(maxRows) }
        var times: [JSONValue]?
        switch member("ts") {
        case nil, .null?: times = nil
        case .array(let ts)?:
            guard ts.count == ids.count else {
                throw IngestDecodingError("labels: \"ts\" has \(ts.count) entries but \"ids\" has \(ids.count); give one time per id or leave \"ts\" out")
            }
            times = ts
        case let other?:
            throw IngestDecodingError("labels: \"ts\" must be an array of Unix seconds, found \(other.kindName)")
        }
        for i in ids.indices {
            var members: [(String, JSONValue)] = [("id", ids[i]), ("label", values[i])]
            if let times { members.append(("ts", times[i])) }
            labelRow(i, .object(members), into: &out)
        }
    case (let ids?, let labels?):
        throw IngestDecodingError("labels: \"ids\" and \"labels\" must both be arrays, found \(ids.kindName) and \(labels.kindName)")
    case (.some, nil):
        throw IngestDecodingError("labels: \"ids\" needs a \"labels\" array beside it, one label per id")
    case (nil, let labels?):
        throw IngestDecodingError("labels: \"labels\" must be an array, found \(labels.kindName)")
    case (nil, nil):
        throw IngestDecodingError("labels: expected {\"labels\": [{\"id\", \"label\", \"ts\"}, …]} or {\"ids\": [...], \"labels\": [...]}")
    }
    return out
}

private func tooManyLabelsError(_ maxRows: Int) -> IngestDecodingError {
    IngestDecodingError("too many labels in one request: the limit is \(maxRows) (max_label_rows); split them into smaller requests",
                        kind: .tooManyRows)
}

private func labelRow(_ index: Int, _ row: JSONValue, into out: inout DecodedLabels) {
    func reject(_ reason: String) { out.rejected.append(RejectedRow(row: index, reason: reason)) }
    guard case .object = row else { return reject("a label row must be an object {\"id\", \"label\", \"ts\"}, found \(row.kindName)") }
    let id: String
    switch row.member("id") {
    case .string(let s)?: id = s
    case .number(let x)? where x == x.rounded() && abs(x) < 9.007_199_254_740_992e15: id = String(Int64(x))
    default: return reject("\"id\" must be the prediction id: a non-empty string (≤ 256 bytes) or an integer")
    }
    guard !id.isEmpty, id.utf8.count <= 256 else {
        return reject("\"id\" must be the prediction id: a non-empty string (≤ 256 bytes) or an integer")
    }
    let label: Double
    switch row.member("label") {
    case .number(let x)? where x.isFinite: label = x
    case .bool(let b)?: label = b ? 1 : 0
    default: return reject("\"label\" must be a finite number or a boolean")
    }
    var time: Double?
    switch row.member("ts") {
    case nil, .null?: time = nil
    case .number(let t)? where t.isFinite: time = t
    default: return reject("\"ts\" must be Unix seconds (a finite number) or absent")
    }
    out.labels.append(LabelInput(predictionID: id, label: label, labelTime: time))
}

/// Checks that a body is one well-formed JSON document, so that settings and candidates —
/// decoded into their types by Foundation, whose syntax errors give no position — are refused
/// with the byte offset of the mistake.
public func checkJSONSyntax(_ body: [UInt8]) throws(IngestDecodingError) {
    do {
        _ = try JSONValue.parse(body)
    } catch {
        throw IngestDecodingError(error.sentence)
    }
}

extension JSONValue.ParseFailure {
    /// What a person reads in the 400 answer.
    var sentence: String {
        switch self {
        case .syntax(let s): s
        case .tooManyValues: "the document holds too many values"
        }
    }
}
