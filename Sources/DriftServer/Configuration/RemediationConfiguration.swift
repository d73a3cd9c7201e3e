import DriftCore
import Foundation

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
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = RemediationConfiguration()
        kubernetes = try c.optional(.kubernetes)
        retrain = try c.optional(.retrain)
        shadow = try c.optional(.shadow)
        gate = try c.value(.gate, or: d.gate)
        promotion = try c.optional(.promotion)
        models = try c.optional(.models)
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

/// `remediation.kubernetes`: how driftwatch reaches the Kubernetes API server.
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

    enum CodingKeys: String, CodingKey, CaseIterable { case apiURL = "api_url", tokenFile = "token_file", caFile = "ca_file", namespace }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        self.init(apiURL: try c.required(.apiURL), namespace: try c.required(.namespace),
                  tokenFile: try c.optional(.tokenFile), caFile: try c.optional(.caFile))
    }

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

/// `remediation.retrain`: how a retraining run is started on confirmed drift, and how often.
public struct RetrainConfiguration: Sendable, Codable, Equatable {
    /// A Kubernetes Job, an Argo Workflows submission, or a webhook call.
    public enum Kind: String, ConfigurationEnum { case job, argo, webhook }
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
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = RetrainConfiguration(kind: try c.required(.kind))
        kind = d.kind
        job = try c.optional(.job)
        argo = try c.optional(.argo)
        webhookURL = try c.optional(.webhookURL)
        cooldownSeconds = try c.value(.cooldownSeconds, or: d.cooldownSeconds)
        maxConcurrent = try c.value(.maxConcurrent, or: d.maxConcurrent)
        pollSeconds = try c.value(.pollSeconds, or: d.pollSeconds)
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

/// `remediation.retrain.job`. The training Job: what GPU training needs, filled in per episode by driftwatch.
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
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = JobTemplate(image: try c.required(.image))
        image = d.image
        command = try c.optional(.command)
        args = try c.optional(.args)
        gpus = try c.value(.gpus, or: d.gpus)
        nodeSelector = try c.optional(.nodeSelector)
        cpu = try c.value(.cpu, or: d.cpu)
        memory = try c.value(.memory, or: d.memory)
        backoffLimit = try c.value(.backoffLimit, or: d.backoffLimit)
        activeDeadlineSeconds = try c.value(.activeDeadlineSeconds, or: d.activeDeadlineSeconds)
        ttlSecondsAfterFinished = try c.value(.ttlSecondsAfterFinished, or: d.ttlSecondsAfterFinished)
        serviceAccountName = try c.optional(.serviceAccountName)
        env = try c.value(.env, or: d.env)
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

/// `remediation.retrain.argo`. An Argo Workflows submission from a `WorkflowTemplate` (Argo Server's REST API).
public struct ArgoSubmission: Sendable, Codable, Equatable {
    /// Argo Server base URL, e.g. `https://argo-server.argo:2746`.
    public var url: String
    public var namespace: String
    public var workflowTemplate: String
    public var tokenFile: String?

    public init(url: String, namespace: String, workflowTemplate: String, tokenFile: String? = nil) {
        self.url = url
        self.namespace = namespace
        self.workflowTemplate = workflowTemplate
        self.tokenFile = tokenFile
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case url, namespace, workflowTemplate = "workflow_template", tokenFile = "token_file" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        self.init(url: try c.required(.url), namespace: try c.required(.namespace),
                  workflowTemplate: try c.required(.workflowTemplate), tokenFile: try c.optional(.tokenFile))
    }

    func validate() throws {
        guard isHTTPURL(url) else { throw ServerConfigError(message: "remediation.retrain.argo.url must be an http(s) URL") }
        guard isDNSLabel(namespace), !workflowTemplate.isEmpty else {
            throw ServerConfigError(message: "remediation.retrain.argo needs a valid namespace and workflow_template")
        }
    }
}

/// `remediation.shadow`. The shadow scorer: a KServe InferenceService for the candidate on the GPU node pool.
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
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = ShadowConfiguration(modelFormat: try c.required(.modelFormat))
        modelFormat = d.modelFormat
        gpus = try c.value(.gpus, or: d.gpus)
        nodeSelector = try c.optional(.nodeSelector)
        cpu = try c.value(.cpu, or: d.cpu)
        memory = try c.value(.memory, or: d.memory)
        loggerURL = try c.optional(.loggerURL)
        deleteOnFail = try c.value(.deleteOnFail, or: d.deleteOnFail)
        deleteOnResolve = try c.value(.deleteOnResolve, or: d.deleteOnResolve)
    }

    func validate() throws {
        guard !modelFormat.isEmpty else { throw ServerConfigError(message: "remediation.shadow.model_format must not be empty") }
        guard gpus >= 0 else { throw ServerConfigError(message: "remediation.shadow.gpus must be ≥ 0") }
        if let u = loggerURL, !isHTTPURL(u) { throw ServerConfigError(message: "remediation.shadow.logger_url must be an http(s) URL") }
    }
}

/// `remediation.promotion`: the canary share a candidate gets once its gate passes.
public struct PromotionConfiguration: Sendable, Codable, Equatable {
    /// The production InferenceService to patch; default the model's name.
    public var inferenceService: String?
    public var canaryTrafficPercent: Int

    public init(inferenceService: String? = nil, canaryTrafficPercent: Int) {
        self.inferenceService = inferenceService
        self.canaryTrafficPercent = canaryTrafficPercent
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case inferenceService = "inference_service", canaryTrafficPercent = "canary_traffic_percent" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        self.init(inferenceService: try c.optional(.inferenceService), canaryTrafficPercent: try c.required(.canaryTrafficPercent))
    }
}
