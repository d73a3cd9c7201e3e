import DriftCore
import Foundation

// Closing the loop on confirmed drift: a retraining run on the GPU node pool, a shadow scorer
// for the candidate it produces, and the validation gate. This file holds the configuration;
// the manifests are built in Remediation/Manifests.swift, delivered by DriftActions' outbox.

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

extension RemediationConfiguration {
    /// Whether remediation covers `model` (`models` absent = every model).
    public func covers(_ model: String) -> Bool { applies(to: model) }
}
