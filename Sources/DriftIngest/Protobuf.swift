import DriftCore
import SwiftProtobuf

// The protobuf format (driftwatch.proto): the ingest format of high-volume sidecars and the
// blob the store keeps for every acknowledged batch. One message, two readers: ingest checks
// and normalises what a sender wrote (rejecting bad rows), storage reads back exactly what
// `encodeBatchForStorage` wrote (bit for bit, placeholders included).

private typealias PBBatch = Driftwatch_V1_ObservationBatch
private typealias PBColumn = Driftwatch_V1_Column
private typealias PBEndpoint = Driftwatch_V1_Endpoint

func decodeProtobufObservations(_ body: [UInt8], defaultEndpoint: Endpoint, maxRows: Int) throws(IngestDecodingError) -> DecodedBatch {
    let message: PBBatch
    do {
        message = try PBBatch(serializedBytes: body)
    } catch {
        throw IngestDecodingError("the body is not a valid driftwatch.v1.ObservationBatch protobuf message (\(error))")
    }
    return try convert(message, ingest: (defaultEndpoint, maxRows))
}

/// The compact form the store keeps: one protobuf `ObservationBatch` per batch. Round-trips
/// exactly through `decodeStoredBatch` — NaN payloads, ±Inf, -0.0, missing vs text vs number,
/// the values in ignored slots, per-row endpoints, nil ids and timestamps — except that a
/// zero-row `.cells` column comes back as `.numbers([], missingRows: [])`.
public func encodeBatchForStorage(_ batch: ObservationBatch) -> [UInt8] {
    var m = PBBatch()
    m.count = UInt32(clamping: batch.count)
    if batch.ids.contains(where: { $0 != nil }) {
        m.ids = batch.ids.map { $0 ?? "" }
        m.missingIds = batch.ids.indices.compactMap { batch.ids[$0] == nil ? UInt32(clamping: $0) : nil }
    }
    if batch.timestamps.contains(where: { $0 != nil }) {
        m.timestamps = batch.timestamps.map { $0 ?? 0 }
        m.missingTimestamps = batch.timestamps.indices.compactMap { batch.timestamps[$0] == nil ? UInt32(clamping: $0) : nil }
    }
    if let first = batch.endpoints.first {
        if batch.endpoints.allSatisfy({ $0 == first }) {
            m.endpoint = pbEndpoint(first)
        } else {
            m.endpoint = pbEndpoint(first)
            m.endpoints = batch.endpoints.map(pbEndpoint)
        }
    }
    // Sorted so that equal batches give equal bytes.
    m.features = batch.features.keys.sorted().compactMap { name in
        batch.features[name].map { storedColumn($0, name: name) }
    }
    if let p = batch.predictions { m.predictions = storedColumn(p, name: "") }
    do {
        return try m.serializedBytes()
    } catch {
        // Serialising a message with only scalar and string fields cannot fail (SwiftProtobuf
        // throws for unset required fields of proto2 and for Any types, neither used here).
        preconditionFailure("protobuf serialisation failed: \(error)")
    }
}

/// Reads a blob written by `encodeBatchForStorage`. Throws on corrupt or inconsistent bytes.
public func decodeStoredBatch(_ bytes: [UInt8]) throws -> ObservationBatch {
    let message: PBBatch
    do {
        message = try PBBatch(serializedBytes: bytes)
    } catch {
        throw IngestDecodingError("stored batch is not a valid driftwatch.v1.ObservationBatch (\(error))")
    }
    return try convert(message, ingest: nil).batch
}

private func pbEndpoint(_ e: Endpoint) -> PBEndpoint {
    switch e {
    case .production: .production
    case .canary: .canary
    case .shadow: .shadow
    }
}

private func storedColumn(_ column: IngestColumn, name: String) -> PBColumn {
    var c = PBColumn()
    c.name = name
    switch column {
    case .numbers(let values, let missing):
        c.numbers = values
        c.missingRows = missing.map { UInt32(clamping: $0) }
    case .cells(let cells):
        // Texts always dense, so that the reader knows this was `.cells` even when every cell
        // is a number or missing; numbers dense only when some cell is a number.
        var texts = [String](repeating: "", count: cells.count)
        var numbers = [Double]()
        var missing = [UInt32]()
        var textRows = [UInt32]()
        let hasNumbers = cells.contains { if case .number = $0 { true } else { false } }
        if hasNumbers { numbers = [Double](repeating: 0, count: cells.count) }
        for (r, cell) in cells.enumerated() {
            switch cell {
            case .missing: missing.append(UInt32(clamping: r))
            case .number(let x): numbers[r] = x
            case .text(let t):
                texts[r] = t
                textRows.append(UInt32(clamping: r))
            }
        }
        c.texts = texts
        c.numbers = numbers
        c.missingRows = missing
        if hasNumbers { c.textRows = textRows }
    }
    return c
}

/// - Parameter ingest: nil for stored blobs (exact, no normalisation, every problem throws);
///   otherwise the default endpoint and row limit of a sender's request (bad rows rejected).
private func convert(_ m: PBBatch, ingest: (defaultEndpoint: Endpoint, maxRows: Int)?) throws(IngestDecodingError) -> DecodedBatch {
    let what = ingest == nil ? "stored batch" : "protobuf batch"
    // Row count: `count`, or when 0 the length the per-row fields agree on.
    var longest = Swift.max(m.ids.count, m.timestamps.count, m.endpoints.count)
    for c in m.features { longest = Swift.max(longest, c.numbers.count, c.texts.count) }
    if m.hasPredictions { longest = Swift.max(longest, m.predictions.numbers.count, m.predictions.texts.count) }
    let n = m.count == 0 ? longest : Int(m.count)
    // Each per-row field is checked against `n` below (a length that differs names the field);
    // what is left is a `count` that no field backs at all — a 4-byte message claiming a million
    // all-missing rows — which is refused rather than stored.
    if ingest != nil && n > 0 && longest == 0 {
        throw IngestDecodingError("\(what): count says \(n) rows but no per-row field (ids, timestamps, endpoints, a column's numbers or texts) holds them; send the rows' values or leave count at 0")
    }

    if let ingest, n > ingest.maxRows { throw tooManyRowsError(ingest.maxRows) }
    // A stored blob has no request limit; a corrupt count must still not allocate gigabytes.
    if ingest == nil && n > 100_000_000 { throw IngestDecodingError("\(what): implausible row count \(n)") }

    func checkLength(_ field: String, _ len: Int) throws(IngestDecodingError) {
        if len != 0 && len != n {
            throw IngestDecodingError("\(what): \(field) has \(len) entries but the batch has \(n) rows")
        }
    }
    func rowList(_ field: String, _ rows: [UInt32]) throws(IngestDecodingError) -> [Int] {
        var out = [Int]()
        out.reserveCapacity(rows.count)
        var previous = -1
        for r in rows {
            let row = Int(r)
            guard row > previous, row < n else {
                throw IngestDecodingError("\(what): \(field) must list ascending row indices below \(n), found \(row) after \(previous)")
            }
            out.append(row)
            previous = row
        }
        return out
    }

    var reasons: [Int: String] = [:]

    // ids
    try checkLength("ids", m.ids.count)
    var ids: [String?]
    if m.ids.isEmpty {
        if !m.missingIds.isEmpty { throw IngestDecodingError("\(what): missing_ids is set but ids is empty") }
        ids = [String?](repeating: nil, count: n)
    } else {
        ids = m.ids.map { Optional($0) }
        for r in try rowList("missing_ids", m.missingIds) { ids[r] = nil }
    }

    // timestamps
    try checkLength("timestamps", m.timestamps.count)
    var timestamps: [Double?]
    if m.timestamps.isEmpty {
        if !m.missingTimestamps.isEmpty { throw IngestDecodingError("\(what): missing_timestamps is set but timestamps is empty") }
        timestamps = [Double?](repeating: nil, count: n)
    } else {
        timestamps = m.timestamps.map { Optional($0) }
        for r in try rowList("missing_timestamps", m.missingTimestamps) { timestamps[r] = nil }
        if ingest != nil {
            for r in 0..<n {
                if let t = timestamps[r], !t.isFinite { reasons[r] = reasons[r] ?? "timestamp \(t) is not a finite number of Unix seconds" }
            }
        }
    }

    // endpoints
    try checkLength("endpoints", m.endpoints.count)
    let batchEndpoint: Endpoint
    switch m.endpoint {
    case .unspecified: batchEndpoint = ingest?.defaultEndpoint ?? .production
    case .production: batchEndpoint = .production
    case .canary: batchEndpoint = .canary
    case .shadow: batchEndpoint = .shadow
    case .UNRECOGNIZED(let v):
        throw IngestDecodingError("\(what): unknown endpoint number \(v) (expected 1 production, 2 canary, 3 shadow)")
    }
    var endpoints = [Endpoint](repeating: batchEndpoint, count: n)
    for (r, e) in m.endpoints.enumerated() {
        switch e {
        case .unspecified: break
        case .production: endpoints[r] = .production
        case .canary: endpoints[r] = .canary
        case .shadow: endpoints[r] = .shadow
        case .UNRECOGNIZED(let v):
            if ingest == nil { throw IngestDecodingError("\(what): unknown endpoint number \(v) in row \(r)") }
            reasons[r] = reasons[r] ?? "unknown endpoint number \(v) (expected 1 production, 2 canary, 3 shadow)"
        }
    }

    // columns
    func column(_ c: PBColumn, field: String) throws(IngestDecodingError) -> IngestColumn {
        try checkLength("\(field) numbers", c.numbers.count)
        try checkLength("\(field) texts", c.texts.count)
        let missing = try rowList("\(field) missing_rows", c.missingRows)
        switch (c.numbers.isEmpty, c.texts.isEmpty) {
        case (false, true):
            guard c.textRows.isEmpty else { throw IngestDecodingError("\(what): \(field) has text_rows but no texts") }
            var values = c.numbers
            // A sender's placeholders (0 by the .proto's advice) become NaN, as in every other
            // decoder; stored blobs keep theirs bit for bit.
            if ingest != nil { for r in missing { values[r] = .nan } }
            return .numbers(values, missingRows: missing)
        case (true, false):
            guard c.textRows.isEmpty else { throw IngestDecodingError("\(what): \(field) has text_rows but no numbers (text_rows is for the mixed layout)") }
            var cells = c.texts.map { Cell.text($0) }
            for r in missing { cells[r] = .missing }
            return .cells(cells)
        case (false, false):
            var cells = c.numbers.map { Cell.number($0) }
            for r in try rowList("\(field) text_rows", c.textRows) { cells[r] = .text(c.texts[r]) }
            for r in missing { cells[r] = .missing }
            return .cells(cells)
        case (true, true):
            // No values at all: missing in every row.
            if !c.textRows.isEmpty { throw IngestDecodingError("\(what): \(field) has text_rows but no values") }
            return .numbers([Double](repeating: .nan, count: n), missingRows: Array(0..<n))
        }
    }

    var features: [String: IngestColumn] = [:]
    features.reserveCapacity(m.features.count)
    for c in m.features {
        // Every decoder refuses unnamed features; a stored batch keeps whatever it was given.
        if c.name.isEmpty && ingest != nil { throw IngestDecodingError("\(what): a feature column has an empty name") }
        if features[c.name] != nil { throw IngestDecodingError("\(what): feature \(quoted(c.name)) appears twice") }
        features[c.name] = try column(c, field: "feature \(quoted(c.name))")
    }
    let predictions = m.hasPredictions ? try column(m.predictions, field: "predictions") : nil

    var batch = ObservationBatch(count: n, ids: ids, timestamps: timestamps, endpoints: endpoints,
                                 features: features, predictions: predictions)
    var rejected: [RejectedRow] = []
    if !reasons.isEmpty {
        rejected = reasons.sorted { $0.key < $1.key }.map { RejectedRow(row: $0.key, reason: $0.value) }
        var keep = [Bool](repeating: true, count: n)
        for r in reasons.keys { keep[r] = false }
        batch = batch.keeping(keep)
    }
    return DecodedBatch(batch: batch, rejected: rejected)
}

extension ObservationBatch {
    /// The rows where `keep` is true, every column alike.
    func keeping(_ keep: [Bool]) -> ObservationBatch {
        func pick<T>(_ a: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(a.count)
            for (r, x) in a.enumerated() where keep[r] { out.append(x) }
            return out
        }
        func pickColumn(_ c: IngestColumn) -> IngestColumn {
            switch c {
            case .cells(let cells): return .cells(pick(cells))
            case .numbers(let values, let missing):
                var isMissing = [Bool](repeating: false, count: values.count)
                for r in missing { isMissing[r] = true }
                var out = [Double]()
                var outMissing = [Int]()
                out.reserveCapacity(values.count)
                for (r, x) in values.enumerated() where keep[r] {
                    if isMissing[r] { outMissing.append(out.count) }
                    out.append(x)
                }
                return .numbers(out, missingRows: outMissing)
            }
        }
        return ObservationBatch(
            count: keep.lazy.filter { $0 }.count, ids: pick(ids), timestamps: pick(timestamps), endpoints: pick(endpoints),
            features: features.mapValues(pickColumn), predictions: predictions.map(pickColumn))
    }
}
