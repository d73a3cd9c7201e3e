import Foundation

/// Which kinds of action last failed because their peer gave no answer at all (refused, reset,
/// timed out), and when each was last probed. Held in memory: after a restart every pending
/// action is simply due on its stored schedule (at most one backoff step, 60 s, away).
actor PeerReachability {
    private var lastProbe: [ActionKind: Date] = [:]

    /// The peer of `kind` did not answer.
    func unreachable(_ kind: ActionKind, at now: Date) {
        if lastProbe[kind] == nil { lastProbe[kind] = now }
    }

    /// The peer of `kind` answered (success or an HTTP error).
    func reachable(_ kind: ActionKind) { lastProbe[kind] = nil }

    /// The kinds whose peer is unreachable and was not probed for `interval` seconds; each is
    /// marked probed now.
    func dueForProbe(now: Date, interval: Double) -> [ActionKind] {
        let due = lastProbe.filter { now.timeIntervalSince($0.value) >= interval }.keys.sorted { $0.rawValue < $1.rawValue }
        for kind in due { lastProbe[kind] = now }
        return due
    }

    /// Whether the peer of `kind` is taken as unreachable.
    func isUnreachable(_ kind: ActionKind) -> Bool { lastProbe[kind] != nil }
}
