/// A `batch/v1` Job: the retraining run on the GPU pool.
public typealias KubernetesJob = KubernetesObject<JobSpec>

extension JobSpec: KubernetesResource {
    public static let apiVersion = "batch/v1"
    public static let kind = "Job"
}

/// `JobSpec`.
public struct JobSpec: Codable, Sendable, Equatable {
    public var backoffLimit: Int
    public var activeDeadlineSeconds: Int
    public var ttlSecondsAfterFinished: Int
    public var template: PodTemplate

    public init(backoffLimit: Int, activeDeadlineSeconds: Int, ttlSecondsAfterFinished: Int, template: PodTemplate) {
        self.backoffLimit = backoffLimit
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
        self.template = template
    }
}

/// `PodTemplateSpec`.
public struct PodTemplate: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta
    public var spec: PodSpec

    public init(metadata: ObjectMeta, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// `PodSpec`: the fields a training pod needs.
public struct PodSpec: Codable, Sendable, Equatable {
    public var restartPolicy: String
    public var containers: [Container]
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?
    public var serviceAccountName: String?

    public init(restartPolicy: String, containers: [Container], nodeSelector: [String: String]? = nil,
                tolerations: [Toleration]? = nil, serviceAccountName: String? = nil) {
        self.restartPolicy = restartPolicy
        self.containers = containers
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.serviceAccountName = serviceAccountName
    }
}

/// `Container`.
public struct Container: Codable, Sendable, Equatable {
    public var name: String
    public var image: String
    public var command: [String]?
    public var args: [String]?
    public var env: [EnvVar]
    public var resources: ResourceRequirements

    public init(name: String, image: String, command: [String]?, args: [String]?, env: [EnvVar], resources: ResourceRequirements) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.resources = resources
    }
}

/// `EnvVar` with a literal value.
public struct EnvVar: Codable, Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
