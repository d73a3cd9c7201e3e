import DriftCore
import DriftStore
import Foundation
import Logging

// In DriftActions: it needs only the store and the Kubernetes API, no model monitor.

/// Records each started retraining Job's state (running, succeeded, failed) from the API.
public struct JobStatusPoller: Sendable {
    public let store: any Store
    public let transport: RemediationTransport
    public let namespace: String
    public let logger: Logger
    public let clock: @Sendable () -> Date
    /// Called with (model, remediation kind, new state) on every change.
    public let changed: @Sendable (String, RemediationKind, RemediationState) -> Void

    public init(store: any Store, transport: RemediationTransport, namespace: String, logger: Logger,
                clock: @escaping @Sendable () -> Date, changed: @escaping @Sendable (String, RemediationKind, RemediationState) -> Void) {
        self.store = store
        self.transport = transport
        self.namespace = namespace
        self.logger = logger
        self.clock = clock
        self.changed = changed
    }

    /// One round over the runs still `created` or `running`.
    public func poll() async {
        let runs: [RemediationRecord]
        do {
            runs = try store.remediations(kinds: [.retrainJob], limit: 200)
        } catch {
            logger.warning("retraining job status: store read failed", metadata: ["error": .string("\(error)")])
            return
        }
        for run in runs where run.state == .created || run.state == .running {
            do {
                guard let state = try await transport.jobState(namespace: namespace, name: run.name) else {
                    try store.recordRemediation(model: run.model, episodeID: run.episodeID, kind: run.kind, name: run.name,
                                                state: .failed, detail: "the Job is gone", now: clock())
                    continue
                }
                if state != run.state {
                    try store.recordRemediation(model: run.model, episodeID: run.episodeID, kind: run.kind, name: run.name,
                                                state: state, detail: nil, now: clock())
                    changed(run.model, run.kind, state)
                }
            } catch {
                logger.warning("retraining job status", metadata: ["name": .string(run.name), "error": .string("\(error)")])
            }
        }
    }
}
