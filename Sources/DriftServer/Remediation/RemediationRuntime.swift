import DriftActions
import DriftCore
import DriftStore
import Foundation

/// The remediation machinery of a running service: configuration, the planner that builds the
/// calls, and the transport that delivers them to Kubernetes, Argo and webhooks.
final class RemediationRuntime: Sendable {
    let config: RemediationConfiguration
    let access: KubernetesAccess?
    let publicURL: String
    let transport: RemediationTransport
    let planner: RemediationPlanner

    init(config: RemediationConfiguration, publicURL: String) throws {
        self.config = config
        self.publicURL = publicURL
        let needsKubernetes = config.retrain?.kind == .job || config.shadow != nil || config.promotion != nil
        let access = needsKubernetes ? try config.kubernetes ?? KubernetesAccess.inCluster() : nil
        self.access = access
        if let ca = access?.caFile, !FileManager.default.isReadableFile(atPath: ca) {
            throw ServerConfigError(message: "remediation.kubernetes.ca_file \(ca) is not readable")
        }
        transport = RemediationTransport(
            kubernetes: access.map { .init(url: $0.apiURL, tokenFile: $0.tokenFile) }, caFile: access?.caFile,
            argo: config.retrain?.argo.map { .init(url: $0.url, tokenFile: $0.tokenFile) })
        planner = RemediationPlanner(config: config, namespace: access?.namespace ?? "default", publicURL: publicURL)
    }

    func shutdown() async { await transport.shutdown() }

    var namespace: String { planner.namespace }

    // MARK: decisions

    /// The retraining call for a confirmed episode, or why there is none (cooldown, too many
    /// runs). Records the run as `requested` (or `skipped`).
    func retrain(_ r: RetrainRequest, store: any Store, now: Date) throws -> Action? {
        guard let retrain = config.retrain else { return nil }
        let kind = retrain.kind.remediationKind
        let previous = try store.remediations(model: r.model, kinds: RemediationKind.retraining, limit: 50)
        if previous.contains(where: { $0.name == r.runName && $0.state != .skipped }) { return nil }  // exactly one per episode
        let started = previous.filter { $0.state != .skipped }
        if let last = started.first, now.timeIntervalSince(last.createdAt) < retrain.cooldownSeconds {
            try store.recordRemediation(
                model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: .skipped,
                detail: "cooldown: \(last.name) started \(Int(now.timeIntervalSince(last.createdAt))) s ago (cooldown \(Int(retrain.cooldownSeconds)) s)", now: now)
            return nil
        }
        let active = started.filter(\.state.isActive)
        if active.count >= retrain.maxConcurrent {
            try store.recordRemediation(
                model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: .skipped,
                detail: "\(active.count) retraining run(s) still active (max_concurrent \(retrain.maxConcurrent)): \(active.map(\.name).joined(separator: ", "))", now: now)
            return nil
        }
        guard let action = planner.retrain(r) else { return nil }
        try store.recordRemediation(model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: .requested, detail: nil, now: now)
        return action
    }

    func createShadow(model: String, version: String, modelURI: String, episodeID: Int64?) -> Action? {
        planner.createShadow(model: model, version: version, modelURI: modelURI, episodeID: episodeID)
    }

    func deleteShadow(name: String, episodeID: Int64?) -> Action {
        planner.deleteShadow(name: name, episodeID: episodeID)
    }

    func promote(model: String, modelURI: String, version: String, episodeID: Int64?) -> Action? {
        planner.promote(model: model, modelURI: modelURI, version: version, episodeID: episodeID)
    }

    // MARK: delivery

    /// Performs a remediation action once (the dispatcher does this with retries); throws a
    /// `DeliveryError` saying whether a retry can help.
    func perform(_ action: Action) async throws {
        guard let call = try action.httpCall() else {
            throw DeliveryError(message: "not a remediation action: \(action.kind.rawValue)", retryable: false)
        }
        try await transport.perform(call)
    }

    /// The Job's state from its status (running, succeeded, failed; nil = gone).
    func jobState(name: String) async throws -> RemediationState? {
        try await transport.jobState(namespace: namespace, name: name)
    }
}
