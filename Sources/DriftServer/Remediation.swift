import DriftCore
import Foundation

// Closing the loop on confirmed drift: a retraining run on the GPU node pool, a shadow scorer
// for the candidate it produces, and the validation gate. This file holds the configuration
// and the manifests; delivery goes through the outbox (RemediationActions.swift).

/// `remediation` in the config file. Off when absent.
public struct RemediationConfiguration: Sendable, Codable, Equatable {
    /// API server access; nil = in-cluster (service-account token and CA from the standard mount).
    public var kubernetes: KubernetesAccess?
    public var retrain: RetrainConfiguration?
    public var shadow: ShadowConfiguration?
    public var gate: GatePolicy = GatePolicy()
    /// On a passing gate, send this share of production traffic to the candidate (KServe
    /// canary). Off when nil.
    public var promotion: PromotionConfiguration?
    /// Models this applies to; nil = every model.
    public var models: [String]?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case kubernetes, retrain, shadow, gate, promotion, models }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kubernetes = try c.decodeIfPresent(KubernetesAccess.self, forKey: .kubernetes)
        retrain = try c.decodeIfPresent(RetrainConfiguration.self, forKey: .retrain)
        shadow = try c.decodeIfPresent(ShadowConfiguration.self, forKey: .shadow)
        gate = try c.decodeIfPresent(GatePolicy.self, forKey: .gate) ?? GatePolicy()
        promotion = try c.decodeIfPresent(PromotionConfiguration.self, forKey: .promotion)
        models = try c.decodeIfPresent([String].self, forKey: .models)
    }

    func applies(to model: String) -> Bool { models?.contains(model) ?? true }

    public func validate() throws {
        try kubernetes?.validate()
        try retrain?.validate()
        try shadow?.validate()
        try gate.validate()
        if let p = promotion, !(1...100).contains(p.canaryTrafficPercent) {
            throw ServerConfigError(message: "remediation.promotion.canary_traffic_percent must be 1–100, got \(p.canaryTrafficPercent)")
        }
    }
}

public struct KubernetesAccess: Sendable, Codable, Equatable {
    /// `https://host:port` of the API server.
    public var apiURL: String
    public var tokenFile: String?
    /// PEM bundle to trust for the API server; nil = the system roots.
    public var caFile: String?
    public var namespace: String

    public init(apiURL: String, namespace: String, tokenFile: String? = nil, caFile: String? = nil) {
        self.apiURL = apiURL
        self.namespace = namespace
        self.tokenFile = tokenFile
        self.caFile = caFile
    }

    enum CodingKeys: String, CodingKey { case apiURL = "api_url", tokenFile = "token_file", caFile = "ca_file", namespace }

    static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster access: `KUBERNETES_SERVICE_HOST`/`_PORT`, the mounted token, CA and namespace.
    static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubernetesAccess {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw ServerConfigError(message: "remediation: not running in Kubernetes (KUBERNETES_SERVICE_HOST unset); set remediation.kubernetes.api_url")
        }
        let dir = serviceAccountDirectory
        let namespace = (try? String(contentsOfFile: dir + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        let h = host.contains(":") ? "[\(host)]" : host
        return KubernetesAccess(apiURL: "https://\(h):\(port)", namespace: namespace, tokenFile: dir + "/token", caFile: dir + "/ca.crt")
    }

    func validate() throws {
        guard isHTTPURL(apiURL) else { throw ServerConfigError(message: "remediation.kubernetes.api_url must be an http(s) URL, got \"\(apiURL)\"") }
        guard isDNSLabel(namespace) else { throw ServerConfigError(message: "remediation.kubernetes.namespace \"\(namespace)\" is not a valid namespace name") }
    }
}

public struct RetrainConfiguration: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case job, argo, webhook }
    public var kind: Kind
    public var job: JobTemplate?
    public var argo: ArgoSubmission?
    public var webhookURL: String?
    /// No new retraining for a model within this long after the last one started.
    public var cooldownSeconds: Double = 3600
    /// Retraining runs of one model allowed to run at once.
    public var maxConcurrent: Int = 1
    /// How often Job status is polled.
    public var pollSeconds: Double = 30

    public init(kind: Kind) { self.kind = kind }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, job, argo, webhookURL = "webhook_url", cooldownSeconds = "cooldown_seconds"
        case maxConcurrent = "max_concurrent", pollSeconds = "poll_seconds"
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        job = try c.decodeIfPresent(JobTemplate.self, forKey: .job)
        argo = try c.decodeIfPresent(ArgoSubmission.self, forKey: .argo)
        webhookURL = try c.decodeIfPresent(String.self, forKey: .webhookURL)
        cooldownSeconds = try c.decodeIfPresent(Double.self, forKey: .cooldownSeconds) ?? 3600
        maxConcurrent = try c.decodeIfPresent(Int.self, forKey: .maxConcurrent) ?? 1
        pollSeconds = try c.decodeIfPresent(Double.self, forKey: .pollSeconds) ?? 30
    }

    func validate() throws {
        switch kind {
        case .job:
            guard let job else { throw ServerConfigError(message: "remediation.retrain.kind is job but remediation.retrain.job is missing") }
            try job.validate()
        case .argo:
            guard let argo else { throw ServerConfigError(message: "remediation.retrain.kind is argo but remediation.retrain.argo is missing") }
            try argo.validate()
        case .webhook:
            guard let url = webhookURL, isHTTPURL(url) else { throw ServerConfigError(message: "remediation.retrain.webhook_url must be an http(s) URL") }
        }
        guard cooldownSeconds >= 0 else { throw ServerConfigError(message: "remediation.retrain.cooldown_seconds must be ≥ 0") }
        guard maxConcurrent >= 1 else { throw ServerConfigError(message: "remediation.retrain.max_concurrent must be ≥ 1") }
        guard pollSeconds >= 0.1 else { throw ServerConfigError(message: "remediation.retrain.poll_seconds must be ≥ 0.1") }
    }
}

/// The training Job: what GPU training needs, filled in per episode by driftwatch.
public struct JobTemplate: Sendable, Codable, Equatable {
    public var image: String
    public var command: [String]?
    public var args: [String]?
    public var gpus: Int = 1
    /// Selects the GPU node pool; default `nvidia.com/gpu.present: "true"` when `gpus` > 0
    /// (a CPU job pinned to the tainted GPU pool would never schedule).
    public var nodeSelector: [String: String]?
    public var cpu: String = "4"
    public var memory: String = "16Gi"
    public var backoffLimit: Int = 1
    public var activeDeadlineSeconds: Int = 6 * 3600
    public var ttlSecondsAfterFinished: Int = 7 * 86400
    public var serviceAccountName: String?
    public var env: [String: String] = [:]

    public init(image: String) { self.image = image }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case image, command, args, gpus, nodeSelector = "node_selector", cpu, memory, backoffLimit = "backoff_limit"
        case activeDeadlineSeconds = "active_deadline_seconds", ttlSecondsAfterFinished = "ttl_seconds_after_finished"
        case serviceAccountName = "service_account_name", env
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = JobTemplate(image: "")
        image = try c.decode(String.self, forKey: .image)
        command = try c.decodeIfPresent([String].self, forKey: .command)
        args = try c.decodeIfPresent([String].self, forKey: .args)
        gpus = try c.decodeIfPresent(Int.self, forKey: .gpus) ?? d.gpus
        nodeSelector = try c.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        cpu = try c.decodeIfPresent(String.self, forKey: .cpu) ?? d.cpu
        memory = try c.decodeIfPresent(String.self, forKey: .memory) ?? d.memory
        backoffLimit = try c.decodeIfPresent(Int.self, forKey: .backoffLimit) ?? d.backoffLimit
        activeDeadlineSeconds = try c.decodeIfPresent(Int.self, forKey: .activeDeadlineSeconds) ?? d.activeDeadlineSeconds
        ttlSecondsAfterFinished = try c.decodeIfPresent(Int.self, forKey: .ttlSecondsAfterFinished) ?? d.ttlSecondsAfterFinished
        serviceAccountName = try c.decodeIfPresent(String.self, forKey: .serviceAccountName)
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
    }

    func validate() throws {
        guard !image.isEmpty else { throw ServerConfigError(message: "remediation.retrain.job.image must not be empty") }
        guard gpus >= 0, backoffLimit >= 0, activeDeadlineSeconds >= 1 else {
            throw ServerConfigError(message: "remediation.retrain.job: gpus and backoff_limit must be ≥ 0, active_deadline_seconds ≥ 1")
        }
        for name in env.keys where name.hasPrefix("DRIFTWATCH_") {
            throw ServerConfigError(message: "remediation.retrain.job.env: \(name) is set by driftwatch")
        }
    }
}

/// An Argo Workflows submission from a `WorkflowTemplate` (Argo Server's REST API).
public struct ArgoSubmission: Sendable, Codable, Equatable {
    /// Argo Server base URL, e.g. `https://argo-server.argo:2746`.
    public var url: String
    public var namespace: String
    public var workflowTemplate: String
    public var tokenFile: String?

    enum CodingKeys: String, CodingKey { case url, namespace, workflowTemplate = "workflow_template", tokenFile = "token_file" }

    func validate() throws {
        guard isHTTPURL(url) else { throw ServerConfigError(message: "remediation.retrain.argo.url must be an http(s) URL") }
        guard isDNSLabel(namespace), !workflowTemplate.isEmpty else {
            throw ServerConfigError(message: "remediation.retrain.argo needs a valid namespace and workflow_template")
        }
    }
}

/// The shadow scorer: a KServe InferenceService for the candidate on the GPU node pool.
public struct ShadowConfiguration: Sendable, Codable, Equatable {
    /// KServe `modelFormat.name` (sklearn, xgboost, pytorch, …).
    public var modelFormat: String
    public var gpus: Int = 1
    /// Default `nvidia.com/gpu.present: "true"` when `gpus` > 0.
    public var nodeSelector: [String: String]?
    public var cpu: String = "2"
    public var memory: String = "8Gi"
    /// Where the shadow's payload logger posts; default this service's `/v1/kserve`.
    public var loggerURL: String?
    public var deleteOnFail: Bool = true
    public var deleteOnResolve: Bool = true

    public init(modelFormat: String) { self.modelFormat = modelFormat }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelFormat = "model_format", gpus, nodeSelector = "node_selector", cpu, memory, loggerURL = "logger_url"
        case deleteOnFail = "delete_on_fail", deleteOnResolve = "delete_on_resolve"
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ShadowConfiguration(modelFormat: "")
        modelFormat = try c.decode(String.self, forKey: .modelFormat)
        gpus = try c.decodeIfPresent(Int.self, forKey: .gpus) ?? d.gpus
        nodeSelector = try c.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        cpu = try c.decodeIfPresent(String.self, forKey: .cpu) ?? d.cpu
        memory = try c.decodeIfPresent(String.self, forKey: .memory) ?? d.memory
        loggerURL = try c.decodeIfPresent(String.self, forKey: .loggerURL)
        deleteOnFail = try c.decodeIfPresent(Bool.self, forKey: .deleteOnFail) ?? true
        deleteOnResolve = try c.decodeIfPresent(Bool.self, forKey: .deleteOnResolve) ?? true
    }

    func validate() throws {
        guard !modelFormat.isEmpty else { throw ServerConfigError(message: "remediation.shadow.model_format must not be empty") }
        guard gpus >= 0 else { throw ServerConfigError(message: "remediation.shadow.gpus must be ≥ 0") }
        if let u = loggerURL, !isHTTPURL(u) { throw ServerConfigError(message: "remediation.shadow.logger_url must be an http(s) URL") }
    }
}

public struct PromotionConfiguration: Sendable, Codable, Equatable {
    /// The production InferenceService to patch; default the model's name.
    public var inferenceService: String?
    public var canaryTrafficPercent: Int

    enum CodingKeys: String, CodingKey { case inferenceService = "inference_service", canaryTrafficPercent = "canary_traffic_percent" }
}

/// A Kubernetes object name (RFC 1123 label): lower-case alphanumerics and '-', ≤ 63.
func isDNSLabel(_ s: String) -> Bool {
    guard (1...63).contains(s.utf8.count), s.first != "-", s.last != "-" else { return false }
    return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
}

/// A DNS label made from free text: lower-cased, other characters → '-', shortened with a
/// stable hash suffix when too long (so two long names stay distinct).
func dnsLabel(_ text: String) -> String {
    var s = String(text.lowercased().unicodeScalars.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-" })
    while s.contains("--") { s = s.replacingOccurrences(of: "--", with: "-") }
    s = s.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    if s.count > 63 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let suffix = String(h % 0xFFFFFF, radix: 16)
        s = String(s.prefix(62 - suffix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) + "-" + suffix
    }
    return s.isEmpty ? "x" : s
}

/// What a retraining run is told (env vars and labels of the Job; Argo parameters; webhook body).
struct RetrainRequest: Sendable, Codable, Equatable {
    var model: String
    var episodeID: Int64
    var baselineVersion: Int?
    var driftedFeatures: [String]
    /// Time range of the drifted data (Unix seconds): first drifted window start → confirming window end.
    var driftFrom: Double
    var driftTo: Double
    /// Where the job posts its candidate when it finishes.
    var candidatesURL: String

    enum CodingKeys: String, CodingKey {
        case model, episodeID = "episode_id", baselineVersion = "baseline_version", driftedFeatures = "drifted_features"
        case driftFrom = "drift_from", driftTo = "drift_to", candidatesURL = "candidates_url"
    }

    var runName: String { dnsLabel("dw-retrain-\(model)-e\(episodeID)") }

    var environment: [(String, String)] {
        [("DRIFTWATCH_MODEL", model), ("DRIFTWATCH_EPISODE_ID", String(episodeID)),
         ("DRIFTWATCH_BASELINE_VERSION", baselineVersion.map(String.init) ?? ""),
         ("DRIFTWATCH_DRIFTED_FEATURES", driftedFeatures.joined(separator: ",")),
         ("DRIFTWATCH_DRIFT_FROM", isoTime(driftFrom)), ("DRIFTWATCH_DRIFT_TO", isoTime(driftTo)),
         ("DRIFTWATCH_CANDIDATES_URL", candidatesURL)]
    }

    var labels: [String: String] {
        ["app.kubernetes.io/managed-by": "driftwatch", "app.kubernetes.io/component": "retraining",
         "driftwatch.io/model": dnsLabel(model), "driftwatch.io/episode": String(episodeID)]
    }
}

func isoTime(_ t: Double) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date(timeIntervalSince1970: t))
}

/// The GPU toleration of NVIDIA's device plugin taint (`nvidia.com/gpu:NoSchedule`).
var gpuToleration: [String: Any] { ["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"] }

enum Manifests {
    /// The `batch/v1` Job of one retraining run.
    static func retrainJob(_ r: RetrainRequest, template t: JobTemplate, namespace: String) -> [String: Any] {
        var container: [String: Any] = [
            "name": "train", "image": t.image,
            "env": (r.environment + t.env.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).map { ["name": $0.0, "value": $0.1] },
            "resources": resources(cpu: t.cpu, memory: t.memory, gpus: t.gpus),
        ]
        if let c = t.command { container["command"] = c }
        if let a = t.args { container["args"] = a }
        var pod: [String: Any] = ["restartPolicy": "Never", "containers": [container]]
        if let selector = nodeSelector(t.nodeSelector, gpus: t.gpus) { pod["nodeSelector"] = selector }
        if t.gpus > 0 { pod["tolerations"] = [gpuToleration] }
        if let sa = t.serviceAccountName { pod["serviceAccountName"] = sa }
        return [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": ["name": r.runName, "namespace": namespace, "labels": r.labels,
                         "annotations": ["driftwatch.io/drifted-features": r.driftedFeatures.joined(separator: ","),
                                         "driftwatch.io/drift-from": isoTime(r.driftFrom), "driftwatch.io/drift-to": isoTime(r.driftTo)]],
            "spec": [
                "backoffLimit": t.backoffLimit, "activeDeadlineSeconds": t.activeDeadlineSeconds,
                "ttlSecondsAfterFinished": t.ttlSecondsAfterFinished,
                "template": ["metadata": ["labels": r.labels], "spec": pod],
            ],
        ]
    }

    /// The Argo Server `submit` body: a Workflow from the WorkflowTemplate, named per episode.
    static func argoSubmit(_ r: RetrainRequest, argo: ArgoSubmission) -> [String: Any] {
        [
            "namespace": argo.namespace, "resourceKind": "WorkflowTemplate", "resourceName": argo.workflowTemplate,
            "submitOptions": [
                "name": r.runName,
                "labels": r.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                "parameters": r.environment.map { "\($0.0.dropFirst("DRIFTWATCH_".count).lowercased())=\($0.1)" },
            ],
        ]
    }

    /// The shadow scorer: a KServe InferenceService serving the candidate, its payload logger
    /// pointed back at driftwatch with `endpoint=shadow`.
    static func shadowInferenceService(model: String, version: String, modelURI: String, shadow s: ShadowConfiguration,
                                       namespace: String, loggerURL: String) -> [String: Any] {
        var predictor: [String: Any] = [
            "model": ["modelFormat": ["name": s.modelFormat], "storageUri": modelURI,
                      "resources": resources(cpu: s.cpu, memory: s.memory, gpus: s.gpus)],
            "logger": ["mode": "all", "url": loggerURL],
        ]
        if let selector = nodeSelector(s.nodeSelector, gpus: s.gpus) { predictor["nodeSelector"] = selector }
        if s.gpus > 0 { predictor["tolerations"] = [gpuToleration] }
        return [
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": ["name": shadowName(model: model, version: version), "namespace": namespace,
                         "labels": ["app.kubernetes.io/managed-by": "driftwatch", "app.kubernetes.io/component": "shadow-scorer",
                                    "driftwatch.io/model": dnsLabel(model), "driftwatch.io/candidate": dnsLabel(version)]],
            "spec": ["predictor": predictor],
        ]
    }

    /// The configured selector, or the GPU pool's when the workload asks for GPUs.
    static func nodeSelector(_ configured: [String: String]?, gpus: Int) -> [String: String]? {
        configured ?? (gpus > 0 ? ["nvidia.com/gpu.present": "true"] : nil)
    }

    static func shadowName(model: String, version: String) -> String { dnsLabel("\(model)-shadow-\(version)") }

    static func resources(cpu: String, memory: String, gpus: Int) -> [String: Any] {
        var limits: [String: Any] = ["cpu": cpu, "memory": memory]
        if gpus > 0 { limits["nvidia.com/gpu"] = String(gpus) }
        return ["requests": ["cpu": cpu, "memory": memory], "limits": limits]
    }

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The manifests driftwatch would create for `model` (`driftwatch remediation render`):
/// name and pretty JSON of each — the retraining Job (or Argo submission or webhook body),
/// the shadow InferenceService, the promotion patch — with example values filled in.
public func renderRemediationManifests(
    config cfg: ServerConfiguration, model: String, episodeID: Int64, baselineVersion: Int, driftedFeatures: [String],
    candidateVersion: String, modelURI: String, defaultNamespace: String, now: Date = Date()
) -> [(name: String, json: String)] {
    guard let r = cfg.remediation else { return [] }
    let ns = r.kubernetes?.namespace ?? defaultNamespace
    let request = RetrainRequest(
        model: model, episodeID: episodeID, baselineVersion: baselineVersion, driftedFeatures: driftedFeatures,
        driftFrom: now.timeIntervalSince1970 - 3600, driftTo: now.timeIntervalSince1970,
        candidatesURL: "\(cfg.resolvedPublicURL)/v1/models/\(model)/candidates")
    var documents: [(String, [String: Any])] = []
    if let retrain = r.retrain {
        switch retrain.kind {
        case .job: if let t = retrain.job { documents.append(("retrain-job", Manifests.retrainJob(request, template: t, namespace: ns))) }
        case .argo: if let a = retrain.argo { documents.append(("argo-submit", Manifests.argoSubmit(request, argo: a))) }
        case .webhook:
            let body = (try? reportEncoder.encode(request)).flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any] ?? [:]
            documents.append(("retrain-webhook", body))
        }
    }
    if let s = r.shadow {
        let logger = s.loggerURL ?? "\(cfg.resolvedPublicURL)/v1/kserve"
        documents.append(("shadow-inferenceservice", Manifests.shadowInferenceService(
            model: model, version: candidateVersion, modelURI: modelURI, shadow: s, namespace: ns,
            loggerURL: "\(logger)\(logger.contains("?") ? "&" : "?")model=\(model)&endpoint=shadow")))
    }
    if let p = r.promotion {
        documents.append(("promotion-patch", ["spec": ["predictor": ["canaryTrafficPercent": p.canaryTrafficPercent, "model": ["storageUri": modelURI]]]]))
    }
    return documents.map { name, object in
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return (name, String(decoding: data, as: UTF8.self))
    }
}

extension RemediationConfiguration {
    /// Whether remediation covers `model` (`models` absent = every model).
    public func covers(_ model: String) -> Bool { applies(to: model) }
}
