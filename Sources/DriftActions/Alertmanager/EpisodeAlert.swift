import Foundation

/// A confirmed drift episode (or a candidate's gate verdict) as an Alertmanager alert. Stored as
/// the payload of an outbox action, so it is exactly what was decided at the transition,
/// whenever it is delivered.
public struct EpisodeAlert: Codable, Sendable, Equatable {
    public var episodeID: Int64
    public var labels: [String: String]
    public var annotations: [String: String]
    public var generatorURL: String
    /// When the episode was confirmed (Unix seconds).
    public var startsAt: Double
    /// Set on the resolution notice: when the episode resolved.
    public var resolvedAt: Double?
    /// True for a one-off notice (a candidate's gate verdict) that does not follow the
    /// episode's state: never superseded by the resolution.
    public var standalone: Bool?

    public init(episodeID: Int64, labels: [String: String], annotations: [String: String], generatorURL: String,
                startsAt: Double, resolvedAt: Double?, standalone: Bool? = nil) {
        self.episodeID = episodeID
        self.labels = labels
        self.annotations = annotations
        self.generatorURL = generatorURL
        self.startsAt = startsAt
        self.resolvedAt = resolvedAt
        self.standalone = standalone
    }

    enum CodingKeys: String, CodingKey {
        case episodeID = "episode_id", labels, annotations, generatorURL = "generator_url", startsAt = "starts_at"
        case resolvedAt = "resolved_at", standalone
    }

    /// The API v2 `postableAlert`. A firing alert says it ends `activeFor` from now: re-sent
    /// before that while the episode stays confirmed, it stays active; if driftwatch stops
    /// sending (deleted model, lost resolution), Alertmanager resolves it by itself.
    public func postable(now: Date, activeFor: Double) -> PostableAlert {
        let ends = resolvedAt.map { Date(timeIntervalSince1970: $0) } ?? now.addingTimeInterval(activeFor)
        return PostableAlert(labels: labels, annotations: annotations, generatorURL: generatorURL,
                             startsAt: rfc3339(Date(timeIntervalSince1970: startsAt)), endsAt: rfc3339(ends))
    }
}

/// Alertmanager API v2 `postableAlert` (`POST /api/v2/alerts` takes an array of them).
public struct PostableAlert: Codable, Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String]
    public var generatorURL: String
    /// RFC 3339.
    public var startsAt: String
    /// RFC 3339.
    public var endsAt: String
}
