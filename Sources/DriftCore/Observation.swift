/// One value of one feature (or the prediction) in one observation, as the sender sent it.
public enum Cell: Sendable, Hashable {
    /// null, an absent key, or an empty field.
    case missing
    /// A JSON/protobuf number, including NaN and ±Inf where the format can carry them.
    case number(Double)
    /// Text: a category, or a wrong-type value for a numeric feature ("NaN"/"inf" strings
    /// are parsed as numbers for numeric features by the window, not here).
    case text(String)
}

/// One column of a received batch. Numeric senders (protobuf, JSON columnar of numbers)
/// take the compact form; anything mixed takes `cells`.
public enum IngestColumn: Sendable, Equatable {
    /// A number in every row except `missingRows` (ascending row indices; their slot in
    /// `values` is ignored).
    case numbers([Double], missingRows: [Int])
    case cells([Cell])

    public var count: Int {
        switch self {
        case .numbers(let v, _): v.count
        case .cells(let c): c.count
        }
    }

    public func cell(at row: Int) -> Cell {
        switch self {
        case .cells(let c):
            return c[row]
        case .numbers(let v, let missing):
            if !missing.isEmpty, binarySearch(missing, row) { return .missing }
            return .number(v[row])
        }
    }
}

@inline(__always)
private func binarySearch(_ sorted: [Int], _ x: Int) -> Bool {
    var lo = 0, hi = sorted.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo < sorted.count && sorted[lo] == x
}

/// Which deployment answered: production traffic, a canary, or a shadow scorer.
public enum Endpoint: String, Sendable, Codable, CaseIterable {
    case production, canary, shadow

    /// KServe's `ce-endpoint` (`default` is production) and free-form sidecar values.
    public init?(sidecarValue: String) {
        switch sidecarValue.lowercased() {
        case "", "default", "production", "prod", "predictor": self = .production
        case "canary": self = .canary
        case "shadow": self = .shadow
        default: return nil
        }
    }
}

/// A batch of observations after decoding, column by column. Every column has `count` rows.
/// Rows that failed validation are not in the batch; they are in the decoder's rejects.
public struct ObservationBatch: Sendable, Equatable {
    public var count: Int
    /// Prediction ids (for the delayed-label join); nil when the sender gave none.
    public var ids: [String?]
    /// Event time, Unix seconds; nil = time of receipt.
    public var timestamps: [Double?]
    public var endpoints: [Endpoint]
    public var features: [String: IngestColumn]
    public var predictions: IngestColumn?

    public init(count: Int, ids: [String?], timestamps: [Double?], endpoints: [Endpoint],
                features: [String: IngestColumn], predictions: IngestColumn?) {
        self.count = count
        self.ids = ids
        self.timestamps = timestamps
        self.endpoints = endpoints
        self.features = features
        self.predictions = predictions
    }

    public static let empty = ObservationBatch(count: 0, ids: [], timestamps: [], endpoints: [], features: [:], predictions: nil)
}

/// A row the decoder refused, and why — returned to the sender in the 202 answer.
public struct RejectedRow: Sendable, Equatable, Codable {
    /// Index of the row in the request (line number − 1 for NDJSON).
    public var row: Int
    public var reason: String

    public init(row: Int, reason: String) {
        self.row = row
        self.reason = reason
    }
}
