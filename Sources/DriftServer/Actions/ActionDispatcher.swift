import DriftActions
import DriftCore
import DriftStore
import Foundation
import ServiceLifecycle

/// The outbox loop of a running service: delivers due actions (DriftActions' `OutboxDispatcher`,
/// one path and one retry policy for every kind), polls MLflow registries and retraining Jobs,
/// and re-sends the alerts of confirmed episodes.
struct ActionDispatcher: Service {
    let service: DriftService
    var pollInterval: Duration = .milliseconds(250)

    init(service: DriftService) { self.service = service }

    /// The outbox deliverer with this service's configuration, reporting to its metrics.
    var outbox: OutboxDispatcher {
        let metrics = service.metrics
        return OutboxDispatcher(
            store: service.store,
            alerting: service.alertPolicy.map { policy in
                .init(client: policy.client, activeFor: policy.activeFor, policy: FailurePolicy(maxAttempts: policy.config.maxAttempts))
            },
            remediation: service.remediation?.transport, logger: service.logger, clock: service.clock,
            observe: { outcome in
                metrics.action(kind: outcome.kind, outcome: outcome.result)
                if let state = outcome.remediationState { metrics.remediation(model: outcome.model, kind: outcome.kind, state: state) }
            })
    }

    func run() async throws {
        let outbox = self.outbox
        let registries = RegistryPolling(service: service)
        let metrics = service.metrics
        let jobs = service.remediation.map { r in
            JobStatusPoller(store: service.store, transport: r.transport, namespace: r.namespace, logger: service.logger, clock: service.clock,
                            changed: { model, kind, state in metrics.remediation(model: model, kind: kind.rawValue, state: state) })
        }
        var lastResend = ContinuousClock.now
        var lastPoll = ContinuousClock.now
        var lastRegistryCheck = ContinuousClock.now
        var registryPolls: [String: ContinuousClock.Instant] = [:]
        let kinds = outbox.kinds.map(\.rawValue)
        // While the store cannot be read, the loop backs off (250 ms → 30 s) and logs once a minute.
        var backoff = FaultBackoff(interval: pollInterval.seconds)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await outbox.deliverDue()
                let failed = backoff.succeeded()
                if failed > 0 { service.logger.notice("outbox readable again", metadata: ["failed_rounds": .stringConvertible(failed)]) }
            } catch {
                if backoff.failed() {
                    service.logger.error("outbox not read; backing off", metadata: [
                        "error": .string("\(error)"), "failed_rounds": .stringConvertible(backoff.failures),
                    ])
                }
            }
            if ContinuousClock.now - lastRegistryCheck >= .seconds(1) {
                lastRegistryCheck = ContinuousClock.now
                await registries.poll(&registryPolls)
            }
            if let policy = service.alertPolicy, ContinuousClock.now - lastResend >= .milliseconds(Int64(policy.config.resendSeconds * 1000)) {
                lastResend = ContinuousClock.now
                await resendConfirmed()
            }
            if let jobs, let retrain = service.remediation?.config.retrain, retrain.kind == .job,
               ContinuousClock.now - lastPoll >= .milliseconds(Int64(retrain.pollSeconds * 1000))
            {
                lastPoll = ContinuousClock.now
                await jobs.poll()
            }
            exportActionCounts(kinds: kinds)
            await backoff.pause()
        }
    }

    /// The pending and given-up gauges, from the store (one truth). A store that cannot be read
    /// leaves the last figures (its fault is counted and shown by /readyz).
    private func exportActionCounts(kinds: [String]) {
        for state in [ActionState.pending, .givenUp] {
            do {
                service.metrics.actions(try service.store.actionCounts(state: state), state: state, kinds: kinds)
            } catch {
                service.logger.debug("action counts not read", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Delivers the due outbox actions once (tests drive it directly).
    func deliverDue() async throws { try await outbox.deliverDue() }

    /// Alertmanager drops an alert that is not re-sent before its `endsAt`: every confirmed
    /// episode's alert goes out again each `resend_seconds` (best effort; the next round
    /// retries a failure).
    func resendConfirmed() async {
        guard let policy = service.alertPolicy else { return }
        var alerts: [(episodeID: Int64, postable: PostableAlert)] = []
        let now = service.clock()
        for m in await service.models.all() {
            if let alert = await m.confirmedAlert(policy: policy) {
                alerts.append((alert.episodeID, alert.postable(now: now, activeFor: policy.activeFor)))
            }
        }
        guard !alerts.isEmpty else { return }
        do {
            try await policy.client.post(alerts.map(\.postable))
            service.metrics.action(kind: AlertPolicy.kind, outcome: .delivered, alerts.count)
        } catch {
            service.metrics.action(kind: AlertPolicy.kind, outcome: .retried, alerts.count)
            service.logger.warning("alert re-send failed", metadata: ["error": .string("\(error)")])
            return
        }
        // One truth: Alertmanager has these episodes' alerts, so their firing notices are
        // delivered, whether the outbox is still retrying them or had given them up.
        for episodeID in alerts.map(\.episodeID) {
            do {
                if try service.store.markFiringNoticeDelivered(episodeID: episodeID, now: service.clock()) {
                    service.logger.notice("firing notice delivered by the re-send loop", metadata: ["episode": .stringConvertible(episodeID)])
                }
            } catch {
                service.logger.warning("firing notice not marked delivered", metadata: ["episode": .stringConvertible(episodeID), "error": .string("\(error)")])
            }
        }
    }
}
