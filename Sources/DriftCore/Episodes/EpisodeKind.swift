/// What an episode is about. The raw values are what the store keeps (`episodes.kind`).
public enum EpisodeKind: String, Sendable, Codable, CaseIterable {
    /// The inputs or the prediction moved against the baseline (window verdicts).
    case drift
    /// Realized quality fell below the labelled baseline's (window quality verdicts).
    case qualityDegraded = "quality_degraded"
}

/// The state an episode record is in. Unlike ``EpisodeState`` (the tracker's), a record that
/// went back to ok without being confirmed is `cleared`: it stays stored, and an episode that
/// opens later is a new record.
public enum EpisodeRecordState: String, Sendable, Codable, CaseIterable {
    case suspected, confirmed, resolved, cleared

    /// The record's state after the tracker moved to `state`.
    public init(after state: EpisodeState) {
        switch state {
        case .ok: self = .cleared
        case .suspected: self = .suspected
        case .confirmed: self = .confirmed
        case .resolved: self = .resolved
        }
    }

    /// Suspected or confirmed: the episode is still going on.
    public var isOpen: Bool { self == .suspected || self == .confirmed }
}

/// Why an episode moved, as stored with the episode and each of its transitions: for drift the
/// tracker's transition (window, drifted features, share), for quality the metric's figures.
public enum EpisodeEvidence: Sendable, Equatable {
    case drift(EpisodeTransition)
    case quality(QualityEvidence)

    /// The drifted features (drift) or the degraded metric (quality).
    public var subjects: [String] {
        switch self {
        case .drift(let t): t.driftedFeatures
        case .quality(let q): [q.metric]
        }
    }
}

/// The figures behind a quality-episode transition. Figures are kept as formatted text, the
/// way the report shows them.
public struct QualityEvidence: Sendable, Equatable, Codable {
    public var metric: String
    public var windowSeq: Int
    public var realized: String?
    public var baseline: String?

    public init(metric: String, windowSeq: Int, realized: String?, baseline: String?) {
        self.metric = metric
        self.windowSeq = windowSeq
        self.realized = realized
        self.baseline = baseline
    }

    // Stores written before typed evidence held `window_seq` as a string; the store's
    // migration v10-typed-json rewrote them as integers.
    enum CodingKeys: String, CodingKey { case metric, windowSeq = "window_seq", realized, baseline }
}
