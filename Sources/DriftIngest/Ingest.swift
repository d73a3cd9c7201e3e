import DriftCore

/// What a decoder made of one request: the accepted rows, column by column, and the rows it
/// refused with a reason each (returned to the sender in the 202 answer).
public struct DecodedBatch: Sendable {
    public var batch: ObservationBatch
    public var rejected: [RejectedRow]

    public init(batch: ObservationBatch, rejected: [RejectedRow]) {
        self.batch = batch
        self.rejected = rejected
    }
}

/// The request as a whole cannot be used (not JSON, wrong shape, too many rows, columns of
/// different lengths, corrupt gzip, …). The server answers HTTP 400 (413 for `tooManyRows`)
/// with `message`, which says what is wrong and where (byte offsets for syntax errors).
public struct IngestDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Why the request is refused as a whole.
    public enum Kind: Sendable, Equatable {
        /// Not the format, or not a shape of it.
        case malformed
        /// More rows than one request may carry: the sender should split it.
        case tooManyRows
    }

    public var message: String
    public var kind: Kind

    public init(_ message: String, kind: Kind = .malformed) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}

/// The wire formats of `POST /v1/models/{model}/observations`.
public enum IngestFormat: Sendable, Equatable {
    /// `{"observations":[{"id","ts","features":{…},"prediction","endpoint"}, …]}`
    case jsonRows
    /// `{"ids":[…],"ts":[…],"features":{"name":[…]},"predictions":[…],"endpoint"|"endpoints"}`
    case jsonColumnar
    /// One row object per line.
    case ndjson
    /// `driftwatch.v1.ObservationBatch` (see driftwatch.proto).
    case protobuf

    /// The format named by a Content-Type header; nil means unsupported (HTTP 415).
    ///
    /// `application/json` covers both JSON shapes, told apart by the first top-level key that
    /// decides it: `observations` → rows; `features`, `ids`, `ts`, `predictions`, `endpoints` →
    /// columnar (rows when neither is found, so that the rows decoder gives the error message).
    /// `application/x-ndjson`, `application/jsonl` (and their common aliases) → NDJSON;
    /// `application/x-protobuf`, `application/protobuf` → protobuf. Parameters such as
    /// `; charset=utf-8` are ignored; media types are case-insensitive.
    public init?(contentType: String?, body: [UInt8]) {
        guard let contentType else { return nil }
        let media = mediaType(of: contentType)
        switch media {
        case "application/json", "text/json":
            self = sniffJSONShape(body)
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
             "application/jsonlines", "application/x-jsonlines", "application/json-seq":
            self = .ndjson
        case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf":
            self = .protobuf
        default:
            if media.hasSuffix("+json") { self = sniffJSONShape(body) } else { return nil }
        }
    }
}

/// Looks at top-level keys (skipping their values, no allocation) until one tells the shape.
private func sniffJSONShape(_ body: [UInt8]) -> IngestFormat {
    withBodyPointer(body) { base, count in
        var s = JSONScanner(base: base, start: 0, end: count)
        guard s.peek() == UInt8(ascii: "{") else { return .jsonRows }
        s.i += 1
        do {
            if s.peek() == UInt8(ascii: "}") { return .jsonRows }
            repeat {
                let key = try s.readKey()
                if s.equals(key, "observations") { return .jsonRows }
                if s.equals(key, "features") || s.equals(key, "ids") || s.equals(key, "ts")
                    || s.equals(key, "predictions") || s.equals(key, "endpoints") {
                    return .jsonColumnar
                }
                try s.skipValue()
            } while try s.nextMember(close: UInt8(ascii: "}"), "in the top-level object")
        } catch {
            return .jsonRows
        }
        return .jsonRows
    }
}

/// Decodes one request body into a batch of accepted rows and a list of rejected ones.
///
/// - Parameters:
///   - format: from `IngestFormat(contentType:body:)`.
///   - defaultEndpoint: the endpoint of rows that do not name one.
///   - maxRows: a request with more rows than this is refused as a whole.
/// - Throws: `IngestDecodingError` when the request as a whole is unusable; a bad row only
///   lands in `rejected`.
public func decodeObservations(
    _ body: [UInt8], format: IngestFormat, defaultEndpoint: Endpoint = .production, maxRows: Int = 1_000_000
) throws -> DecodedBatch {
    switch format {
    case .jsonRows:
        return try decodeJSONRows(body, defaultEndpoint: defaultEndpoint, maxRows: maxRows)
    case .ndjson:
        return try decodeNDJSON(body, defaultEndpoint: defaultEndpoint, maxRows: maxRows)
    case .jsonColumnar:
        return try decodeJSONColumnar(body, defaultEndpoint: defaultEndpoint, maxRows: maxRows)
    case .protobuf:
        return try decodeProtobufObservations(body, defaultEndpoint: defaultEndpoint, maxRows: maxRows)
    }
}

/// "found …" text for a JSON string shown in a message: quoted, cut at 40 characters.
func quoted(_ text: String) -> String {
    var t = text
    if t.count > 40 { t = String(t.prefix(40)) + "…" }
    return "\"" + t + "\""
}

func tooManyRowsError(_ maxRows: Int) -> IngestDecodingError {
    IngestDecodingError("too many observations in one request: the limit is \(maxRows) (max_rows_per_request); split the batch into smaller requests",
                        kind: .tooManyRows)
}
