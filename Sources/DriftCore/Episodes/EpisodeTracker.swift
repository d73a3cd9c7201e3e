/// Where a model's drift stands. ok → suspected (a drifted window) → confirmed (k of the
/// last n windows drifted) → resolved (m clean windows in a row). A suspected episode whose
/// drifted windows all leave the last n is cleared back to ok.
public enum EpisodeState: String, Sendable, Codable, CaseIterable {
    case ok, suspected, confirmed, resolved
}

/// A state change, with the window that caused it and the evidence.
public struct EpisodeTransition: Sendable, Equatable, Codable {
    public var from: EpisodeState
    public var to: EpisodeState
    public var windowSeq: Int
    public var at: Double  // Unix seconds: the window's end
    public var driftedFeatures: [String]
    public var driftedShare: Double

    public init(from: EpisodeState, to: EpisodeState, windowSeq: Int, at: Double, driftedFeatures: [String], driftedShare: Double) {
        self.from = from
        self.to = to
        self.windowSeq = windowSeq
        self.at = at
        self.driftedFeatures = driftedFeatures
        self.driftedShare = driftedShare
    }

    enum CodingKeys: String, CodingKey {
        case from, to, windowSeq = "window_seq", at, driftedFeatures = "drifted_features", driftedShare = "drifted_share"
    }
}

/// The confirmation policy as a deterministic state machine over window verdicts.
/// Restored after a restart from the stored windows (`replay`).
public struct EpisodeTracker: Sendable, Equatable {
    public private(set) var state: EpisodeState = .ok
    /// Verdicts of the most recent windows, oldest first, at most `confirm.of`.
    public private(set) var recent: [Bool] = []
    public private(set) var cleanStreak = 0
    public let confirm: ModelSettings.ConfirmSpec
    public let resolve: ModelSettings.ResolveSpec

    public init(confirm: ModelSettings.ConfirmSpec, resolve: ModelSettings.ResolveSpec) {
        self.confirm = confirm
        self.resolve = resolve
    }

    /// Feeds one evaluated window; returns the transitions it caused (0, 1 or 2 —
    /// ok → suspected → confirmed in one window when k = 1).
    public mutating func observe(windowSeq: Int, at: Double, drifted: Bool, driftedFeatures: [String], driftedShare: Double) -> [EpisodeTransition] {
        recent.append(drifted)
        if recent.count > confirm.of { recent.removeFirst(recent.count - confirm.of) }
        cleanStreak = drifted ? 0 : cleanStreak + 1
        var transitions: [EpisodeTransition] = []
        func move(_ to: EpisodeState) {
            transitions.append(EpisodeTransition(from: state, to: to, windowSeq: windowSeq, at: at,
                                                 driftedFeatures: driftedFeatures, driftedShare: driftedShare))
            state = to
        }
        let driftedRecent = recent.filter { $0 }.count
        switch state {
        case .ok, .resolved:
            if drifted {
                move(.suspected)
                if driftedRecent >= confirm.windows { move(.confirmed) }
            }
        case .suspected:
            if driftedRecent >= confirm.windows {
                move(.confirmed)
            } else if driftedRecent == 0 {
                move(.ok)
            }
        case .confirmed:
            if cleanStreak >= resolve.cleanWindows { move(.resolved) }
        }
        return transitions
    }
}
