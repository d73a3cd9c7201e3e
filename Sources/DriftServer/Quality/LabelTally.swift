/// What happened to delayed labels, as counted in the labels answer and in
/// `driftwatch_labels_total{outcome}`.
public enum LabelTally: String, Sendable, Codable, CaseIterable {
    /// Joined to a prediction of the open window.
    case joined
    /// Stored; its prediction has not arrived (joined later, or given up after the horizon).
    case pending
    /// Joined to a prediction of an already closed window (that window's quality is redone).
    case late
    /// The same label for the same id was already stored.
    case duplicate
    /// Given up after the label horizon.
    case unmatched
    /// Refused (bad body or value).
    case rejected
}
