import DriftCore
import DriftStore
import Foundation
import Logging

/// What became of one delivery attempt: for the action metrics and the remediation metrics.
public struct ActionOutcome: Sendable, Equatable {
    /// `delivered`, `retried` (pending, due again after the backoff) or `given_up`.
    public enum Result: String, Sendable, CaseIterable { case delivered, retried, givenUp = "given_up" }
    public var model: String
    /// The metric's `kind` label: `alertmanager`, `mlflow`, or the remediation kind.
    public var kind: String
    public var result: Result
    /// The state the remediation record reached, when the attempt moved one.
    public var remediationState: RemediationState?
}

/// Delivers due outbox actions — every kind through one path: decode the row into an `Action`,
/// send it, mark it delivered, or apply the one `FailurePolicy` (retry with backoff, give up on
/// an error no retry fixes). The outbox makes delivery survive an outage and a restart: an
/// action is marked delivered only after the peer accepted it.
///
/// A peer that gave no answer at all is probed every `probeSeconds` with its earliest pending
/// action (a probe that fails the same way is not counted as an attempt); when it succeeds the
/// kind's other pending actions are due at once — so a peer back from a long outage is used
/// within seconds, not after the backoff's next 60 s step.
public struct OutboxDispatcher: Sendable {
    /// Alertmanager delivery: the client, how long a firing alert stays active, the policy.
    public struct Alerting: Sendable {
        public var client: AlertmanagerClient
        public var activeFor: Double
        public var policy: FailurePolicy
        public init(client: AlertmanagerClient, activeFor: Double, policy: FailurePolicy) {
            self.client = client
            self.activeFor = activeFor
            self.policy = policy
        }
    }

    public let store: any Store
    /// nil: Alertmanager rows stay pending (not configured).
    public let alerting: Alerting?
    /// nil: remediation rows stay pending (not configured).
    public let remediation: RemediationTransport?
    public var remediationPolicy = FailurePolicy(maxAttempts: 30)
    public var mlflowPolicy = FailurePolicy(maxAttempts: 30)
    /// How often an unreachable peer is probed.
    public var probeSeconds: Double = 5
    let reachability = PeerReachability()
    public let logger: Logger
    public let clock: @Sendable () -> Date
    public let observe: @Sendable (ActionOutcome) -> Void

    public init(store: any Store, alerting: Alerting?, remediation: RemediationTransport?, logger: Logger,
                clock: @escaping @Sendable () -> Date, observe: @escaping @Sendable (ActionOutcome) -> Void) {
        self.store = store
        self.alerting = alerting
        self.remediation = remediation
        self.logger = logger
        self.clock = clock
        self.observe = observe
    }

    /// The kinds this dispatcher delivers (the pending-actions gauge's series).
    public var kinds: [ActionKind] {
        (alerting == nil ? [] : [.alertmanager]) + (remediation == nil ? [] : [.remediation]) + [.mlflow]
    }

    /// Delivers up to `limit` due actions, oldest due first. Throws when the store cannot be
    /// read (the caller backs off and logs; nothing was attempted).
    public func deliverDue(limit: Int = 32) async throws {
        let due = try store.dueActions(now: clock(), limit: limit)
        for record in due {
            guard let kind = ActionKind(rawValue: record.kind), kinds.contains(kind) else { continue }
            await deliver(record)
        }
        await probeUnreachable()
    }

    /// Sends the earliest pending action of each kind whose peer was unreachable (at most one
    /// probe per kind per `probeSeconds`).
    func probeUnreachable() async {
        let now = clock()
        for kind in await reachability.dueForProbe(now: now, interval: probeSeconds) {
            let next: ActionRecord?
            do {
                next = try store.earliestPendingAction(kind: kind.rawValue)
            } catch {
                logger.error("outbox read failed", metadata: ["error": .string("\(error)")])
                continue
            }
            // Nothing pending, or due anyway: the normal round handles it.
            guard let next, next.nextAttemptAt > now else {
                await reachability.reachable(kind)
                continue
            }
            await deliver(next, probe: true)
        }
    }

    private func policy(for kind: ActionKind) -> FailurePolicy {
        switch kind {
        case .alertmanager: return alerting?.policy ?? remediationPolicy
        case .remediation: return remediationPolicy
        case .mlflow: return mlflowPolicy
        }
    }

    /// One attempt at one row. A `probe` (ahead of the row's schedule) that fails is not
    /// recorded: the row keeps its attempts and its next attempt.
    func deliver(_ record: ActionRecord, probe: Bool = false) async {
        let now = clock()
        let action: Action
        do {
            action = try Action(record)
        } catch {
            // A payload no retry can read: given up with the reason.
            giveUp(record, error: "unreadable action payload: \(error)", now: now)
            observe(ActionOutcome(model: record.model, kind: record.kind, result: .givenUp))
            logger.error("outbox action unreadable; given up", metadata: ["action": .string(record.key), "error": .string("\(error)")])
            return
        }
        let metadata: Logger.Metadata = [
            "model": .string(record.model), "action": .string(record.key), "kind": .string(action.remediationKind),
        ]
        do {
            if try await send(action, record: record, now: now) == false { return }
            try store.markDelivered(id: record.id, now: clock())
            var state: RemediationState?
            if let step = action.remediationStep {
                try store.recordRemediation(model: record.model, episodeID: step.episodeID, kind: step.kind, name: step.name,
                                            state: step.stateOnSuccess, detail: nil, now: clock())
                state = step.stateOnSuccess
            }
            observe(ActionOutcome(model: record.model, kind: action.remediationKind, result: .delivered, remediationState: state))
            logger.notice("action delivered", metadata: metadata.merging(["attempts": .stringConvertible(record.attempts + 1)]) { $1 })
            if await reachability.isUnreachable(action.kind) || probe { await peerAnswersAgain(action.kind) }
        } catch {
            let unreachable = (error as? DeliveryError)?.unreachable ?? false
            if unreachable {
                await reachability.unreachable(action.kind, at: now)
            } else {
                await reachability.reachable(action.kind)
            }
            if probe {
                logger.debug("probe of an unreachable peer failed", metadata: metadata.merging(["error": .string("\(error)")]) { $1 })
                return
            }
            let attempts = record.attempts + 1
            let retryable = (error as? DeliveryError)?.retryable ?? true
            let decision = policy(for: action.kind).decide(attempts: attempts, retryable: retryable, now: now)
            let givenUp = decision == .giveUp
            switch decision {
            case .giveUp: giveUp(record, error: "\(error)", now: now)
            case .retry(let at): retry(record, error: "\(error)", now: now, next: at)
            }
            var state: RemediationState?
            if givenUp, let step = action.remediationStep {
                do {
                    try store.recordRemediation(model: record.model, episodeID: step.episodeID, kind: step.kind, name: step.name,
                                                state: .failed, detail: "\(error)", now: now)
                    state = .failed
                } catch let storeError {
                    logger.error("remediation record not updated", metadata: ["action": .string(record.key), "error": .string("\(storeError)")])
                }
            }
            observe(ActionOutcome(model: record.model, kind: action.remediationKind, result: givenUp ? .givenUp : .retried, remediationState: state))
            logger.warning(givenUp ? "action delivery failed; giving up" : "action delivery failed; will retry",
                           metadata: metadata.merging(["attempts": .stringConvertible(attempts), "error": .string("\(error)")]) { $1 })
        }
    }

    /// The peer of `kind` took an action after being unreachable: its other pending actions are
    /// due now (a store that cannot say so leaves them on their schedule).
    private func peerAnswersAgain(_ kind: ActionKind) async {
        await reachability.reachable(kind)
        do {
            let moved = try store.makeDue(kind: kind.rawValue, now: clock())
            logger.notice("peer answers again; its pending actions are due now",
                          metadata: ["kind": .string(kind.rawValue), "actions": .stringConvertible(moved)])
        } catch {
            logger.error("pending actions not made due", metadata: ["kind": .string(kind.rawValue), "error": .string("\(error)")])
        }
    }

    /// Records a failed attempt; a store that cannot record it is logged (the row stays due,
    /// so the attempt is simply made again).
    private func retry(_ record: ActionRecord, error: String, now: Date, next: Date) {
        recording(record) { try store.markRetry(id: record.id, error: error, now: now, nextAttempt: next) }
    }

    private func giveUp(_ record: ActionRecord, error: String, now: Date) {
        recording(record) { try store.markGivenUp(id: record.id, error: error, now: now) }
    }

    private func recording(_ record: ActionRecord, _ update: () throws -> Void) {
        do {
            try update()
        } catch let storeError {
            logger.error("outbox attempt not recorded", metadata: ["action": .string(record.key), "error": .string("\(storeError)")])
        }
    }

    /// Sends the action; false when it needs no sending any more (marked delivered here).
    private func send(_ action: Action, record: ActionRecord, now: Date) async throws -> Bool {
        switch action {
        case .alert(let alert):
            guard let alerting else { return false }
            // A firing notice overtaken by the episode's resolution is not sent late: it
            // would re-open an alert that Alertmanager already saw resolved.
            if alert.resolvedAt == nil, alert.standalone != true, let episode = try store.episode(id: alert.episodeID),
               episode.state != .confirmed
            {
                try store.markDelivered(id: record.id, now: now)
                logger.info("alert superseded by resolution", metadata: ["action": .string(record.key)])
                return false
            }
            // A resolution overtaken by the model's next confirmed episode is not sent late
            // either: every episode of a model is the same alert to Alertmanager (the same
            // labels), so it would resolve the newer episode's firing alert (found by the soak).
            if alert.resolvedAt != nil, alert.standalone != true, try newerConfirmedEpisode(model: record.model, than: alert.episodeID) {
                try store.markDelivered(id: record.id, now: now)
                logger.info("resolution superseded by a newer confirmed episode", metadata: ["action": .string(record.key)])
                return false
            }
            try await alerting.client.post([alert.postable(now: now, activeFor: alerting.activeFor)])
            // Alertmanager has the resolution: a firing notice still pending (or given up) is moot.
            if alert.resolvedAt != nil, try store.markFiringNoticeDelivered(episodeID: alert.episodeID, now: now) {
                logger.info("firing notice superseded by the delivered resolution", metadata: ["action": .string(record.key)])
            }
        case .mlflow(let call):
            try await call.perform()
        case .retrainJob, .argoSubmit, .webhook, .createShadow, .deleteShadow, .promotion:
            guard let remediation, let call = try action.httpCall() else { return false }
            try await remediation.perform(call)
        }
        return true
    }

    /// Whether the model's newest drift episode is confirmed and newer than `episodeID`.
    private func newerConfirmedEpisode(model: String, than episodeID: Int64) throws -> Bool {
        guard let newest = try store.episodes(model: model, kind: .drift, limit: 1).first else { return false }
        return newest.id > episodeID && newest.state == .confirmed
    }
}
