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
