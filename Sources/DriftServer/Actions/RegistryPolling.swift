import DriftActions
import DriftCore
import DriftStore
import Foundation

// In DriftServer, not DriftActions: a new version becomes a candidate through its ModelMonitor.

/// Models with `mlflow.poll_seconds` > 0: new READY versions of the registered model become
/// candidates (shadow scorer with the version's source as model URI, then the gate). The first
/// poll only notes the newest version; versions from the baseline's own run are skipped.
struct RegistryPolling: Sendable {
    let service: DriftService

    /// Polls every model whose turn it is (`due`: when each model is next due).
    func poll(_ due: inout [String: ContinuousClock.Instant]) async {
        for m in await service.models.all() {
            guard let spec = await m.settings.mlflow, spec.pollSeconds > 0 else { continue }
            let now = ContinuousClock.now
            if let next = due[m.name], now < next { continue }
            due[m.name] = now + .milliseconds(Int64(spec.pollSeconds * 1000))
            guard let remediation = service.remediation, remediation.config.applies(to: m.name) else {
                service.logger.warning("mlflow registry not polled: new versions need the validation gate (config `remediation`)",
                                       metadata: ["model": .string(m.name)])
                due[m.name] = now + .seconds(3600)
                continue
            }
            do {
                try await poll(m, spec: spec)
            } catch {
                service.logger.warning("mlflow registry poll failed; will retry", metadata: ["model": .string(m.name), "error": .string("\(error)")])
            }
        }
    }

    private func poll(_ m: ModelMonitor, spec: MLflowSpec) async throws {
        let client = MLflowClient(spec: spec)
        let store = service.store
        guard let last = try store.mlflowLastVersion(model: m.name) else {
            let newest = try await client.versions(after: 0).map(\.number).max() ?? 0
            try store.setMLflowLastVersion(model: m.name, version: newest)
            return
        }
        for v in try await client.versions(after: last) {
            guard v.status == "READY" else { break }  // registered but still uploading: next poll, in order
            if v.runID != (await m.mlflowLink?.runID) {
                let metrics: [String: Double]
                do {
                    metrics = try await client.run(v.runID).metrics
                } catch {
                    // The candidate still gets its shadow and gate; only its training metrics are missing.
                    service.logger.warning("mlflow candidate's run not read", metadata: [
                        "model": .string(m.name), "version": .string(v.version), "error": .string("\(error)"),
                    ])
                    metrics = [:]
                }
                do {
                    let record = try await m.addCandidate(
                        version: "v\(v.version)", modelURI: v.source,
                        metrics: metrics, mlflowVersion: v.version)
                    service.logger.notice("mlflow candidate", metadata: [
                        "model": .string(m.name), "version": .string(v.version), "source": .string(v.source), "shadow": .string(record.shadowName),
                    ])
                } catch DriftStoreError.conflict {
                    // Already a candidate (posted by the training job as well).
                }
            }
            try store.setMLflowLastVersion(model: m.name, version: v.number)
        }
    }
}
