import AsyncHTTPClient
import DriftCore
import DriftStore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One outbound call of a remediation, stored as an outbox action (kind `remediation`):
/// exactly what was decided, delivered until the API accepts it.
struct RemediationCall: Codable, Sendable, Equatable {
    enum Target: String, Codable, Sendable { case kubernetes, argo, webhook }
    var target: Target
    var method: String
    /// Path on the target's base URL (the full URL for `webhook`).
    var path: String
    /// JSON body, already rendered.
    var body: String?
    /// HTTP statuses that also mean done (409 on create: the object is already there).
    var alsoDone: [Int]
    /// The remediation record this call moves forward, and the state it reaches on success.
    var remediationKind: String
    var remediationName: String
    var episodeID: Int64?
    var stateOnSuccess: String

    enum CodingKeys: String, CodingKey {
        case target, method, path, body, alsoDone = "also_done", remediationKind = "remediation_kind"
        case remediationName = "remediation_name", episodeID = "episode_id", stateOnSuccess = "state_on_success"
    }
}

/// The remediation machinery of a running service: configuration, resolved API access and
/// the HTTP client that talks to Kubernetes, Argo and webhooks.
final class RemediationRuntime: Sendable {
    static let actionKind = "remediation"
    let config: RemediationConfiguration
    let access: KubernetesAccess?
    let publicURL: String
    let client: HTTPClient

    init(config: RemediationConfiguration, publicURL: String) throws {
        self.config = config
        self.publicURL = publicURL
        let needsKubernetes = config.retrain?.kind == .job || config.shadow != nil || config.promotion != nil
        access = needsKubernetes ? try config.kubernetes ?? KubernetesAccess.inCluster() : nil
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = access?.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else {
                throw ServerConfigError(message: "remediation.kubernetes.ca_file \(ca) is not readable")
            }
            tls.trustRoots = .file(ca)
        }
        var c = HTTPClient.Configuration(tlsConfiguration: tls)
        c.timeout = .init(connect: .seconds(5), read: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    func shutdown() async { try? await client.shutdown() }

    var namespace: String { access?.namespace ?? "default" }

    // MARK: decisions

    /// The retraining call for a confirmed episode, or why there is none (cooldown, too many
    /// runs). Records the run as `requested` (or `skipped`).
    func retrain(_ r: RetrainRequest, store: any Store, now: Date) throws -> RemediationCall? {
        guard let retrain = config.retrain else { return nil }
        let kind = "retrain_\(retrain.kind.rawValue)"
        let previous = try store.remediations(model: r.model, kindPrefix: "retrain_", limit: 50)
        if previous.contains(where: { $0.name == r.runName && $0.state != "skipped" }) { return nil }  // exactly one per episode
        let started = previous.filter { $0.state != "skipped" }
        if let last = started.first, now.timeIntervalSince(last.createdAt) < retrain.cooldownSeconds {
            try store.recordRemediation(
                model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: "skipped",
                detail: "cooldown: \(last.name) started \(Int(now.timeIntervalSince(last.createdAt))) s ago (cooldown \(Int(retrain.cooldownSeconds)) s)", now: now)
            return nil
        }
        let active = started.filter { ["requested", "created", "running"].contains($0.state) }
        if active.count >= retrain.maxConcurrent {
            try store.recordRemediation(
                model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: "skipped",
                detail: "\(active.count) retraining run(s) still active (max_concurrent \(retrain.maxConcurrent)): \(active.map(\.name).joined(separator: ", "))", now: now)
            return nil
        }
        let call: RemediationCall
        switch retrain.kind {
        case .job:
            guard let t = retrain.job else { return nil }
            call = RemediationCall(
                target: .kubernetes, method: "POST", path: "/apis/batch/v1/namespaces/\(namespace)/jobs",
                body: Manifests.json(Manifests.retrainJob(r, template: t, namespace: namespace)), alsoDone: [409],
                remediationKind: kind, remediationName: r.runName, episodeID: r.episodeID, stateOnSuccess: "created")
        case .argo:
            guard let a = retrain.argo else { return nil }
            call = RemediationCall(
                target: .argo, method: "POST", path: "/api/v1/workflows/\(a.namespace)/submit",
                body: Manifests.json(Manifests.argoSubmit(r, argo: a)), alsoDone: [409],
                remediationKind: kind, remediationName: r.runName, episodeID: r.episodeID, stateOnSuccess: "created")
        case .webhook:
            call = RemediationCall(
                target: .webhook, method: "POST", path: retrain.webhookURL ?? "",
                body: String(decoding: (try? reportEncoder.encode(r)) ?? Data("{}".utf8), as: UTF8.self), alsoDone: [],
                remediationKind: kind, remediationName: r.runName, episodeID: r.episodeID, stateOnSuccess: "created")
        }
        try store.recordRemediation(model: r.model, episodeID: r.episodeID, kind: kind, name: r.runName, state: "requested", detail: nil, now: now)
        return call
    }

    func createShadow(model: String, version: String, modelURI: String, episodeID: Int64?) -> RemediationCall? {
        guard let s = config.shadow else { return nil }
        let logger = s.loggerURL ?? "\(publicURL)/v1/kserve"
        let separator = logger.contains("?") ? "&" : "?"
        let manifest = Manifests.shadowInferenceService(
            model: model, version: version, modelURI: modelURI, shadow: s, namespace: namespace,
            loggerURL: "\(logger)\(separator)model=\(model)&endpoint=shadow")
        return RemediationCall(
            target: .kubernetes, method: "POST", path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices",
            body: Manifests.json(manifest), alsoDone: [409], remediationKind: "shadow",
            remediationName: Manifests.shadowName(model: model, version: version), episodeID: episodeID, stateOnSuccess: "created")
    }

    func deleteShadow(name: String, episodeID: Int64?) -> RemediationCall {
        RemediationCall(
            target: .kubernetes, method: "DELETE", path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices/\(name)",
            body: nil, alsoDone: [404], remediationKind: "shadow", remediationName: name, episodeID: episodeID, stateOnSuccess: "deleted")
    }

    /// KServe canary rollout: the production InferenceService serves the candidate's model to
    /// `canary_traffic_percent` of traffic (JSON merge patch).
    func promote(model: String, modelURI: String, version: String, episodeID: Int64?) -> RemediationCall? {
        guard let p = config.promotion else { return nil }
        let isvc = p.inferenceService ?? dnsLabel(model)
        let patch: [String: Any] = ["spec": ["predictor": ["canaryTrafficPercent": p.canaryTrafficPercent, "model": ["storageUri": modelURI]]]]
        return RemediationCall(
            target: .kubernetes, method: "PATCH", path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices/\(isvc)",
            body: Manifests.json(patch), alsoDone: [], remediationKind: "promotion",
            remediationName: dnsLabel("\(isvc)-canary-\(version)"), episodeID: episodeID, stateOnSuccess: "patched")
    }

    // MARK: delivery

    /// Performs the call; returns normally when done (2xx or an `alsoDone` status). Throws a
    /// `RemediationError` saying whether a retry can help.
    func perform(_ call: RemediationCall) async throws {
        let url: String
        var token: String?
        switch call.target {
        case .kubernetes:
            guard let access else { throw RemediationError(message: "no Kubernetes access configured", retryable: false) }
            url = trimmedBase(access.apiURL) + call.path
            token = try access.tokenFile.map(readToken)
        case .argo:
            guard let argo = config.retrain?.argo else { throw RemediationError(message: "no Argo configured", retryable: false) }
            url = trimmedBase(argo.url) + call.path
            token = try argo.tokenFile.map(readToken)
        case .webhook:
            url = call.path
        }
        let (status, text) = try await request(call.method, url, body: call.body, token: token,
                                               contentType: call.method == "PATCH" ? "application/merge-patch+json" : "application/json")
        if (200..<300).contains(status) || call.alsoDone.contains(status) { return }
        let retryable = status >= 500 || status == 408 || status == 429
        throw RemediationError(message: "\(call.method) \(url): HTTP \(status) \(text.prefix(200))", retryable: retryable)
    }

    /// GET a Kubernetes object's JSON (nil on 404).
    func getObject(path: String) async throws -> [String: Any]? {
        guard let access else { return nil }
        let (status, text) = try await request("GET", trimmedBase(access.apiURL) + path, body: nil,
                                               token: try access.tokenFile.map(readToken), contentType: nil)
        if status == 404 { return nil }
        guard (200..<300).contains(status) else { throw RemediationError(message: "GET \(path): HTTP \(status)", retryable: true) }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// The Job's state from its status (`running`, `succeeded`, `failed`; nil = gone).
    func jobState(name: String) async throws -> String? {
        guard let job = try await getObject(path: "/apis/batch/v1/namespaces/\(namespace)/jobs/\(name)") else { return nil }
        let status = job["status"] as? [String: Any] ?? [:]
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        func condition(_ type: String) -> Bool { conditions.contains { $0["type"] as? String == type && $0["status"] as? String == "True" } }
        if condition("Complete") || (status["succeeded"] as? Int ?? 0) > 0 { return "succeeded" }
        if condition("Failed") { return "failed" }
        return "running"
    }

    private func request(_ method: String, _ url: String, body: String?, token: String?, contentType: String?) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), String(buffer: answer))
        } catch {
            throw RemediationError(message: "\(method) \(url): \(error)", retryable: true)
        }
    }

    private func trimmedBase(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }

    /// Read at every call: projected service-account tokens rotate.
    private func readToken(_ path: String) throws -> String {
        guard let t = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RemediationError(message: "cannot read the API token file \(path)", retryable: true)
        }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct RemediationError: Error, CustomStringConvertible {
    var message: String
    var retryable: Bool
    var description: String { message }
}
