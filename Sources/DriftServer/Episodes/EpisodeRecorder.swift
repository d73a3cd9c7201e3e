import DriftCore
import DriftStore
import Foundation

/// A transition as recorded: the tracker's move and the episode record it left behind.
struct RecordedTransition: Sendable {
    var transition: EpisodeTransition
    var episode: EpisodeRecord
}

/// One episode state machine of a model (drift, or quality) and the record of its open
/// episode: every transition is persisted here, the same way for both kinds — a move out of
/// ok or resolved opens a new record, later moves update it (`cleared` when a suspected
/// episode goes back to ok), and each transition is stored beside it with its evidence.
struct EpisodeRecorder: Sendable {
    let model: String
    let kind: EpisodeKind
    private(set) var tracker: EpisodeTracker
    /// The suspected or confirmed episode, if one is going on.
    private(set) var open: EpisodeRecord?

    init(model: String, kind: EpisodeKind, confirm: ModelSettings.ConfirmSpec, resolve: ModelSettings.ResolveSpec) {
        self.model = model
        self.kind = kind
        tracker = EpisodeTracker(confirm: confirm, resolve: resolve)
    }

    var state: EpisodeState { tracker.state }

    /// After a restart: the tracker replayed over the stored verdicts (oldest first) and the
    /// newest stored episode of this kind if it is still open.
    mutating func restore(verdicts: [(seq: Int, at: Double, degraded: Bool)], store: any Store) throws {
        var t = EpisodeTracker(confirm: tracker.confirm, resolve: tracker.resolve)
        for v in verdicts {
            _ = t.observe(windowSeq: v.seq, at: v.at, drifted: v.degraded, driftedFeatures: [], driftedShare: 0)
        }
        tracker = t
        open = try store.episodes(model: model, kind: kind, limit: 1).first.flatMap { $0.state.isOpen ? $0 : nil }
    }

    /// A new confirmation policy starts the state machine afresh; the same one keeps it.
    mutating func adopt(confirm: ModelSettings.ConfirmSpec, resolve: ModelSettings.ResolveSpec) {
        guard confirm != tracker.confirm || resolve != tracker.resolve else { return }
        tracker = EpisodeTracker(confirm: confirm, resolve: resolve)
    }

    /// Feeds one window's verdict to the state machine; returns the transitions it caused
    /// (stored by ``record(_:evidence:store:)`` once the window itself is).
    mutating func observe(windowSeq: Int, at: Double, flagged: Bool, subjects: [String], share: Double) -> [EpisodeTransition] {
        tracker.observe(windowSeq: windowSeq, at: at, drifted: flagged, driftedFeatures: subjects, driftedShare: share)
    }

    /// Stores the episode record and each transition with its evidence.
    mutating func record(_ transitions: [EpisodeTransition], evidence: (EpisodeTransition) -> EpisodeEvidence, store: any Store) throws
        -> [RecordedTransition]
    {
        var recorded: [RecordedTransition] = []
        for t in transitions {
            let when = Date(timeIntervalSince1970: t.at)
            let proof = evidence(t)
            var episode: EpisodeRecord
            if t.from == .ok || t.from == .resolved {
                episode = EpisodeRecord(id: 0, model: model, kind: kind, state: EpisodeRecordState(after: t.to), openedAt: when,
                                        confirmedAt: nil, resolvedAt: nil, lastWindowSeq: t.windowSeq, evidence: proof)
            } else if var current = open {
                current.state = EpisodeRecordState(after: t.to)
                current.lastWindowSeq = t.windowSeq
                if t.to == .confirmed {
                    current.confirmedAt = when
                    current.evidence = proof
                }
                if t.to == .resolved || t.to == .ok { current.resolvedAt = when }
                episode = current
            } else {
                // A transition out of suspected or confirmed with no stored episode: the store
                // lost it (it was deleted by hand); nothing to update.
                continue
            }
            episode = try store.upsertEpisode(episode)
            open = episode.state.isOpen ? episode : nil
            try store.insertTransition(TransitionRecord(
                episodeID: episode.id, model: model, from: t.from, to: t.to, at: when, windowSeq: t.windowSeq, evidence: proof))
            recorded.append(RecordedTransition(transition: t, episode: episode))
        }
        return recorded
    }
}
