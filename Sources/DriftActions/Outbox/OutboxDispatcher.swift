import DriftCore
import DriftStore
import Foundation
import Logging

/// What became of one delivery attempt: for the action metrics and the remediation metrics.
public struct ActionOutcome: Sendable, Equatable {
    /// `delivered`, `retried` (due again after the backoff) or `failed` (parked).
    public enum Result: String, Sendable { case delivered, retried, failed }
    public var model: String
    /// The metric's `kind` label: `alertmanager`, `mlflow`, or the remediation kind.
    public var kind: String
    public var result: Result
    /// The state the remediation record reached, when the attempt moved one.
    public var remediationState: RemediationState?
}

/// Delivers due outbox actions — every kind through one path: decode the row into an `Action`,
/// send it, mark it delivered, or apply the one `FailurePolicy` (retry with backoff, park on an
/// error no retry fixes). The outbox makes delivery survive an outage and a restart: an action
/// is marked delivered only after the peer accepted it.
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

    /// Delivers up to `limit` due actions, oldest due first.
    public func deliverDue(limit: Int = 32) async {
        let due: [ActionRecord]
        do {
            due = try store.dueActions(now: clock(), limit: limit)
        } catch {
            logger.error("outbox read failed", metadata: ["error": .string("\(error)")])
            return
        }
        for record in due {
            guard let kind = ActionKind(rawValue: record.kind), kinds.contains(kind) else { continue }
            await deliver(record)
        }
    }

    private func policy(for kind: ActionKind) -> FailurePolicy {
        switch kind {
        case .alertmanager: return alerting?.policy ?? remediationPolicy
        case .remediation: return remediationPolicy
        case .mlflow: return mlflowPolicy
        }
    }

    /// One attempt at one row.
    func deliver(_ record: ActionRecord) async {
        let now = clock()
        let action: Action
        do {
            action = try Action(record)
        } catch {
            // A payload no retry can read: parked with the reason.
            markFailed(record, error: "unreadable action payload: \(error)", now: now, next: .distantFuture)
            observe(ActionOutcome(model: record.model, kind: record.kind, result: .failed))
            logger.error("outbox action unreadable; parked", metadata: ["action": .string(record.key), "error": .string("\(error)")])
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
        } catch {
            let attempts = record.attempts + 1
            let retryable = (error as? DeliveryError)?.retryable ?? true
            let decision = policy(for: action.kind).decide(attempts: attempts, retryable: retryable, now: now)
            let parked = decision == .park
            let next: Date
            switch decision {
            case .park: next = .distantFuture
            case .retry(let at): next = at
            }
            markFailed(record, error: "\(error)", now: now, next: next)
            var state: RemediationState?
            if parked, let step = action.remediationStep {
                do {
                    try store.recordRemediation(model: record.model, episodeID: step.episodeID, kind: step.kind, name: step.name,
                                                state: .failed, detail: "\(error)", now: now)
                    state = .failed
                } catch let storeError {
                    logger.error("remediation record not updated", metadata: ["action": .string(record.key), "error": .string("\(storeError)")])
                }
            }
            observe(ActionOutcome(model: record.model, kind: action.remediationKind, result: parked ? .failed : .retried, remediationState: state))
            logger.warning(parked ? "action delivery failed; giving up" : "action delivery failed; will retry",
                           metadata: metadata.merging(["attempts": .stringConvertible(attempts), "error": .string("\(error)")]) { $1 })
        }
    }

    /// Records a failed attempt; a store that cannot record it is logged (the row stays due,
    /// so the attempt is simply made again).
    private func markFailed(_ record: ActionRecord, error: String, now: Date, next: Date) {
        do {
            try store.markFailed(id: record.id, error: error, now: now, nextAttempt: next)
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
            try await alerting.client.post([alert.postable(now: now, activeFor: alerting.activeFor)])
        case .mlflow(let call):
            try await call.perform()
        case .retrainJob, .argoSubmit, .webhook, .createShadow, .deleteShadow, .promotion:
            guard let remediation, let call = try action.httpCall() else { return false }
            try await remediation.perform(call)
        }
        return true
    }
}
