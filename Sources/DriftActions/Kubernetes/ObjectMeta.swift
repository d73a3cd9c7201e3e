/// Kubernetes `ObjectMeta`: the fields driftwatch sets on what it creates.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var namespace: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// `ResourceRequirements` with quantities as strings (`"4"`, `"16Gi"`, `nvidia.com/gpu: "1"`).
public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var requests: [String: String]
    public var limits: [String: String]

    public init(requests: [String: String], limits: [String: String]) {
        self.requests = requests
        self.limits = limits
    }

    /// Requests and limits of CPU and memory, plus `nvidia.com/gpu` limits when `gpus` > 0.
    public init(cpu: String, memory: String, gpus: Int) {
        var limits = ["cpu": cpu, "memory": memory]
        if gpus > 0 { limits["nvidia.com/gpu"] = String(gpus) }
        self.init(requests: ["cpu": cpu, "memory": memory], limits: limits)
    }
}

/// A pod `Toleration`.
public struct Toleration: Codable, Sendable, Equatable {
    public var key: String
    public var `operator`: String
    public var effect: String

    public init(key: String, operator: String, effect: String) {
        self.key = key
        self.operator = `operator`
        self.effect = effect
    }

    /// The toleration of NVIDIA's device plugin taint (`nvidia.com/gpu:NoSchedule`).
    public static let gpu = Toleration(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule")
}
