import AsyncHTTPClient
import DriftCore
import DriftStore
import Foundation
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// A confirmed drift episode as an Alertmanager alert (`alertname="DriftwatchDriftEpisode"`).
/// Stored as the payload of an outbox action, so it is exactly what was decided at the
/// transition, whenever it is delivered.
struct EpisodeAlert: Codable, Sendable, Equatable {
    var episodeID: Int64
    var labels: [String: String]
    var annotations: [String: String]
    var generatorURL: String
    /// When the episode was confirmed (Unix seconds).
    var startsAt: Double
    /// Set on the resolution notice: when the episode resolved.
    var resolvedAt: Double?
    /// True for a one-off notice (a candidate's gate verdict) that does not follow the
    /// episode's state: never superseded by the resolution.
    var standalone: Bool?

    enum CodingKeys: String, CodingKey {
        case episodeID = "episode_id", labels, annotations, generatorURL = "generator_url", startsAt = "starts_at"
        case resolvedAt = "resolved_at", standalone
    }

    /// The API v2 `postableAlert`. A firing alert says it ends `activeFor` from now: re-sent
    /// before that while the episode stays confirmed, it stays active; if driftwatch stops
    /// sending (deleted model, lost resolution), Alertmanager resolves it by itself.
    func postable(now: Date, activeFor: Double) -> [String: Any] {
        let ends = resolvedAt.map { Date(timeIntervalSince1970: $0) } ?? now.addingTimeInterval(activeFor)
        return [
            "labels": labels, "annotations": annotations, "generatorURL": generatorURL,
            "startsAt": rfc3339(Date(timeIntervalSince1970: startsAt)), "endsAt": rfc3339(ends),
        ]
    }
}

func rfc3339(_ d: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: d)
}

/// How episodes become alerts: the configuration plus where links point.
struct AlertPolicy: Sendable {
    let config: AlertmanagerConfiguration
    let publicURL: String

    static let kind = "alertmanager"
    static let alertName = "DriftwatchDriftEpisode"
    static let runbookURL = "https://github.com/driftwatch/driftwatch/blob/main/README.md#driftwatchdriftepisode"

    func alert(model: String, episode: EpisodeRecord, report: WindowReport?, driftedFeatures: [String]) -> EpisodeAlert {
        var labels = config.labels
        labels["alertname"] = Self.alertName
        labels["model"] = model
        labels["severity"] = config.severity
        let byName = Dictionary(((report?.features ?? []) + (report?.prediction.map { [$0] } ?? [])).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let figures = driftedFeatures.prefix(10).map { name -> String in
            if name == multivariateEvidenceName, let m = report?.multivariate {
                return "multivariate (PCA reconstruction error \(formatFigure(m.reconstructionError)) outside "
                    + "[\(formatFigure(m.lowerThreshold)), \(formatFigure(m.upperThreshold))])"
            }
            guard let f = byName[name] else { return name }
            var parts: [String] = []
            if let psi = f.psi { parts.append("PSI \(formatFigure(psi))") }
            if let ks = f.ks { parts.append("KS D \(formatFigure(ks.statistic)), p \(formatFigure(ks.pvalueAdjusted ?? ks.pvalue))") }
            if let chi = f.chi2 { parts.append("chi2 p \(formatFigure(chi.pvalueAdjusted ?? chi.pvalue))") }
            return parts.isEmpty ? name : "\(name) (\(parts.joined(separator: ", ")))"
        }
        let total = report.map { $0.features.count } ?? 0
        let share = report?.summary.driftedShare ?? 0
        let predictionName = report?.prediction?.name
        let confirmedAt = episode.confirmedAt ?? episode.openedAt
        var annotations = [
            "summary": "Drift confirmed for model \(model): \(driftedFeatures.filter { $0 != multivariateEvidenceName && $0 != predictionName }.count) of \(total) features drifted"
                + (predictionName.map { driftedFeatures.contains($0) ? ", and the prediction \($0)" : "" } ?? "")
                + (driftedFeatures.contains(multivariateEvidenceName) ? ", and the features' joint distribution (multivariate)." : "."),
            "description": "Episode \(episode.id) of model \(model) was confirmed at \(rfc3339(confirmedAt)) (window \(episode.lastWindowSeq)); "
                + "drifted share \(formatFigure(share)). Drifted: \(figures.isEmpty ? "none listed" : figures.joined(separator: "; "))"
                + (driftedFeatures.count > 10 ? "; and \(driftedFeatures.count - 10) more." : "."),
            "drifted_features": driftedFeatures.joined(separator: ","),
            "drift_share": formatFigure(share),
            "episode_id": String(episode.id),
            "runbook_url": Self.runbookURL,
        ]
        if let seq = report?.seq { annotations["window_seq"] = String(seq) }
        // Which rule made the window drifted (share, a major feature, the prediction, multivariate).
        if let report { annotations["verdict"] = report.verdictExplanation }
        return EpisodeAlert(
            episodeID: episode.id, labels: labels, annotations: annotations,
            generatorURL: "\(publicURL)/models/\(model)/episodes/\(episode.id)", startsAt: confirmedAt.timeIntervalSince1970,
            resolvedAt: nil)
    }

    /// Alertmanager forgets an alert not re-sent before its `endsAt`.
    var activeFor: Double { 4 * config.resendSeconds }

    /// Backoff after the n-th failed attempt (1-based): 1, 2, 4 … 60 s.
    static func backoff(afterAttempt n: Int) -> Double { min(60, pow(2, Double(max(0, n - 1)))) }
}

/// Posts alerts to every configured Alertmanager (`POST /api/v2/alerts`). An HA pair does not
/// share alerts between its members (gossip carries silences and the notification log), so
/// each member gets every alert; one member accepting is a delivery.
struct AlertmanagerClient: Sendable {
    let config: AlertmanagerConfiguration

    struct DeliveryError: Error, CustomStringConvertible {
        var description: String
    }

    func post(_ alerts: [[String: Any]]) async throws {
        let body = try JSONSerialization.data(withJSONObject: alerts, options: [.sortedKeys])
        let outcomes = await withTaskGroup(of: String?.self) { group in
            for base in config.urls {
                group.addTask { await Self.postOne(base: base, body: body, timeout: config.timeoutSeconds) }
            }
            var results: [String?] = []
            for await r in group { results.append(r) }
            return results
        }
        if outcomes.contains(where: { $0 == nil }) { return }
        throw DeliveryError(description: outcomes.compactMap { $0 }.sorted().joined(separator: "; "))
    }

    /// nil on success, else what went wrong (one line).
    private static func postOne(base: String, body: Data, timeout: Double) async -> String? {
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/api/v2/alerts"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "driftwatch/\(driftwatchServiceVersion)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let answer = try await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else {
                let text = String(buffer: answer).prefix(200).replacingOccurrences(of: "\n", with: " ")
                return "\(url): HTTP \(response.status.code) \(text)"
            }
            return nil
        } catch {
            return "\(url): \(error)"
        }
    }
}

/// Delivers due outbox actions and re-sends the alerts of confirmed episodes. The outbox
/// makes delivery survive an Alertmanager outage and a restart: an action is marked
/// delivered only after an Alertmanager accepted it, and retried with backoff until then.
struct ActionDispatcher: Service {
    let service: DriftService
    let policy: AlertPolicy?
    let client: AlertmanagerClient?
    var pollInterval: Duration = .milliseconds(250)

    func run() async throws {
        var lastResend = ContinuousClock.now
        var lastPoll = ContinuousClock.now
        var lastRegistryCheck = ContinuousClock.now
        var registryPolls: [String: ContinuousClock.Instant] = [:]
        let kinds = (policy == nil ? [] : [AlertPolicy.kind]) + (service.remediation == nil ? [] : [RemediationRuntime.actionKind]) + [MLflowActions.kind]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await deliverDue()
            if ContinuousClock.now - lastRegistryCheck >= .seconds(1) {
                lastRegistryCheck = ContinuousClock.now
                await pollRegistries(&registryPolls)
            }
            if let policy, ContinuousClock.now - lastResend >= .milliseconds(Int64(policy.config.resendSeconds * 1000)) {
                lastResend = ContinuousClock.now
                await resendConfirmed()
            }
            if let retrain = service.remediation?.config.retrain, retrain.kind == .job,
               ContinuousClock.now - lastPoll >= .milliseconds(Int64(retrain.pollSeconds * 1000))
            {
                lastPoll = ContinuousClock.now
                await pollRetrainJobs()
            }
            if let counts = try? service.store.undeliveredActionCounts() {
                service.metrics.actionsPending(counts, kinds: kinds)
            }
            try? await Task.sleep(for: pollInterval)
        }
    }

    func deliverDue() async {
        let due: [ActionRecord]
        do {
            due = try service.store.dueActions(now: service.clock(), limit: 32)
        } catch {
            service.logger.error("outbox read failed", metadata: ["error": .string("\(error)")])
            return
        }
        for action in due {
            if action.kind == AlertPolicy.kind, let policy, let client {
                await deliver(action, policy: policy, client: client)
            } else if action.kind == RemediationRuntime.actionKind, let remediation = service.remediation {
                await perform(action, remediation)
            } else if action.kind == MLflowActions.kind {
                await performMLflow(action)
            }
        }
    }

    /// Records a failed attempt: due again after the backoff, or parked (never due again) when no
    /// retry can help or the attempts are used up.
    private func failAttempt(_ action: ActionRecord, error: Error, retryable: Bool, maxAttempts: Int, now: Date) -> (parked: Bool, attempts: Int) {
        let attempts = action.attempts + 1
        let parked = !retryable || attempts >= maxAttempts
        let next = parked ? Date.distantFuture : now.addingTimeInterval(AlertPolicy.backoff(afterAttempt: attempts))
        try? service.store.markFailed(id: action.id, error: "\(error)", now: now, nextAttempt: next)
        return (parked, attempts)
    }

    /// An MLflow write (tags, monitoring metrics, alias). Retried with backoff while MLflow is
    /// down or answers 5xx; a 4xx no retry can fix (a deleted version, a bad token) parks it.
    private func performMLflow(_ action: ActionRecord) async {
        let store = service.store
        let now = service.clock()
        guard let call = try? JSONDecoder().decode(MLflowCall.self, from: Data(action.payloadJSON.utf8)) else {
            try? store.markFailed(id: action.id, error: "unreadable action payload", now: now, nextAttempt: .distantFuture)
            return
        }
        do {
            try await MLflowActions.perform(call)
            try store.markDelivered(id: action.id, now: service.clock())
            service.metrics.action(kind: MLflowActions.kind, outcome: "delivered")
            service.logger.notice("mlflow call done", metadata: [
                "model": .string(action.model), "action": .string(action.key), "attempts": .stringConvertible(action.attempts + 1),
            ])
        } catch {
            let (parked, attempts) = failAttempt(action, error: error, retryable: (error as? MLflowError)?.retryable ?? true, maxAttempts: 30, now: now)
            service.metrics.action(kind: MLflowActions.kind, outcome: parked ? "failed" : "retried")
            service.logger.warning(parked ? "mlflow call failed; giving up" : "mlflow call failed; will retry", metadata: [
                "model": .string(action.model), "action": .string(action.key), "attempts": .stringConvertible(attempts),
                "error": .string("\(error)"),
            ])
        }
    }

    /// Models with `mlflow.poll_seconds` > 0: new READY versions of the registered model become
    /// candidates (shadow scorer with the version's source as model URI, then the gate). The
    /// first poll only notes the newest version; versions from the baseline's own run are skipped.
    func pollRegistries(_ due: inout [String: ContinuousClock.Instant]) async {
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
                try await pollRegistry(m, spec: spec)
            } catch {
                service.logger.warning("mlflow registry poll failed; will retry", metadata: ["model": .string(m.name), "error": .string("\(error)")])
            }
        }
    }

    private func pollRegistry(_ m: ModelMonitor, spec: MLflowSpec) async throws {
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
                let metrics = (try? await client.run(v.runID).metrics) ?? [:]
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

    /// A Kubernetes, Argo or webhook call of a remediation. Retried with backoff while the API
    /// is down (5xx, timeouts, 429); a 4xx that no retry can fix parks it as failed.
    private func perform(_ action: ActionRecord, _ remediation: RemediationRuntime) async {
        let store = service.store
        let now = service.clock()
        guard let call = try? JSONDecoder().decode(RemediationCall.self, from: Data(action.payloadJSON.utf8)) else {
            try? store.markFailed(id: action.id, error: "unreadable action payload", now: now, nextAttempt: .distantFuture)
            return
        }
        do {
            try await remediation.perform(call)
            try store.markDelivered(id: action.id, now: service.clock())
            try store.recordRemediation(model: action.model, episodeID: call.episodeID, kind: call.remediationKind,
                                        name: call.remediationName, state: call.stateOnSuccess, detail: nil, now: service.clock())
            service.metrics.action(kind: call.remediationKind, outcome: "delivered")
            service.metrics.remediation(model: action.model, kind: call.remediationKind, state: call.stateOnSuccess)
            service.logger.notice("remediation call done", metadata: [
                "model": .string(action.model), "kind": .string(call.remediationKind), "name": .string(call.remediationName),
                "state": .string(call.stateOnSuccess), "attempts": .stringConvertible(action.attempts + 1),
            ])
        } catch {
            let (parked, attempts) = failAttempt(action, error: error, retryable: (error as? RemediationError)?.retryable ?? true, maxAttempts: 30, now: now)
            service.metrics.action(kind: call.remediationKind, outcome: parked ? "failed" : "retried")
            if parked {
                _ = try? store.recordRemediation(model: action.model, episodeID: call.episodeID, kind: call.remediationKind,
                                                 name: call.remediationName, state: "failed", detail: "\(error)", now: now)
                service.metrics.remediation(model: action.model, kind: call.remediationKind, state: "failed")
            }
            service.logger.warning(parked ? "remediation call failed; giving up" : "remediation call failed; will retry", metadata: [
                "model": .string(action.model), "name": .string(call.remediationName), "attempts": .stringConvertible(attempts),
                "error": .string("\(error)"),
            ])
        }
    }

    /// Records each started retraining Job's state (running, succeeded, failed) from the API.
    func pollRetrainJobs() async {
        guard let remediation = service.remediation,
              let runs = try? service.store.remediations(kindPrefix: "retrain_job", limit: 200)
        else { return }
        for run in runs where run.state == "created" || run.state == "running" {
            do {
                guard let state = try await remediation.jobState(name: run.name) else {
                    try service.store.recordRemediation(model: run.model, episodeID: run.episodeID, kind: run.kind, name: run.name,
                                                        state: "failed", detail: "the Job is gone", now: service.clock())
                    continue
                }
                if state != run.state {
                    try service.store.recordRemediation(model: run.model, episodeID: run.episodeID, kind: run.kind, name: run.name,
                                                        state: state, detail: nil, now: service.clock())
                    service.metrics.remediation(model: run.model, kind: run.kind, state: state)
                }
            } catch {
                service.logger.warning("retraining job status", metadata: ["name": .string(run.name), "error": .string("\(error)")])
            }
        }
    }

    private func deliver(_ action: ActionRecord, policy: AlertPolicy, client: AlertmanagerClient) async {
        let store = service.store
        let now = service.clock()
        do {
            let alert = try JSONDecoder().decode(EpisodeAlert.self, from: Data(action.payloadJSON.utf8))
            // A firing notice overtaken by the episode's resolution is not sent late: it
            // would re-open an alert that Alertmanager already saw resolved.
            if alert.resolvedAt == nil, alert.standalone != true, let episode = try store.episode(id: alert.episodeID),
               episode.state != .confirmed
            {
                try store.markDelivered(id: action.id, now: now)
                service.logger.info("alert superseded by resolution", metadata: ["action": .string(action.key)])
                return
            }
            try await client.post([alert.postable(now: now, activeFor: policy.activeFor)])
            try store.markDelivered(id: action.id, now: service.clock())
            service.metrics.action(kind: AlertPolicy.kind, outcome: "delivered")
            service.logger.notice("alert delivered", metadata: [
                "action": .string(action.key), "model": .string(action.model), "attempts": .stringConvertible(action.attempts + 1),
            ])
        } catch {
            let (parked, attempts) = failAttempt(action, error: error, retryable: true, maxAttempts: policy.config.maxAttempts, now: now)
            service.metrics.action(kind: AlertPolicy.kind, outcome: parked ? "failed" : "retried")
            service.logger.warning(parked ? "alert delivery failed; giving up" : "alert delivery failed; will retry", metadata: [
                "action": .string(action.key), "attempts": .stringConvertible(attempts), "error": .string("\(error)"),
            ])
        }
    }

    /// Alertmanager drops an alert that is not re-sent before its `endsAt`: every confirmed
    /// episode's alert goes out again each `resend_seconds` (best effort; the next round
    /// retries a failure).
    func resendConfirmed() async {
        guard let policy, let client else { return }
        var alerts: [[String: Any]] = []
        let now = service.clock()
        for m in await service.models.all() {
            if let alert = await m.confirmedAlert(policy: policy) {
                alerts.append(alert.postable(now: now, activeFor: policy.activeFor))
            }
        }
        guard !alerts.isEmpty else { return }
        do {
            try await client.post(alerts)
            service.metrics.action(kind: AlertPolicy.kind, outcome: "delivered", alerts.count)
        } catch {
            service.metrics.action(kind: AlertPolicy.kind, outcome: "retried", alerts.count)
            service.logger.warning("alert re-send failed", metadata: ["error": .string("\(error)")])
        }
    }
}
