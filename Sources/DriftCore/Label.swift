/// A delayed ground-truth label as received: the prediction it is for, its value (0/1 for a
/// binary model, the target for a regression), and when it became known (Unix seconds).
public struct LabelInput: Sendable, Equatable {
    public var predictionID: String
    public var label: Double
    public var labelTime: Double?
    public init(predictionID: String, label: Double, labelTime: Double?) {
        self.predictionID = predictionID
        self.label = label
        self.labelTime = labelTime
    }
}

/// Where a label's prediction was found, and what it said.
public struct LabelJoin: Sendable, Equatable {
    public var predictionID: String
    public var batchID: Int64
    public var row: Int
    public var endpoint: Endpoint
    public var score: Double?
    public var segment: String?
    public init(predictionID: String, batchID: Int64, row: Int, endpoint: Endpoint, score: Double?, segment: String?) {
        self.predictionID = predictionID
        self.batchID = batchID
        self.row = row
        self.endpoint = endpoint
        self.score = score
        self.segment = segment
    }
}

/// A joined label with its prediction, for quality.
public struct LabelledPrediction: Sendable, Equatable {
    public var predictionID: String
    public var batchID: Int64
    public var score: Double
    public var label: Double
    public var segment: String?

    public init(predictionID: String, batchID: Int64, score: Double, label: Double, segment: String?) {
        self.predictionID = predictionID
        self.batchID = batchID
        self.score = score
        self.label = label
        self.segment = segment
    }
}

/// Where a stored label stands: waiting for its prediction, joined to it, or given up on
/// after the label horizon. The raw values are the store's.
public enum LabelState: String, Sendable, Codable, CaseIterable {
    case pending, joined, unmatched
}
