/// A KServe `serving.kserve.io/v1beta1` InferenceService: the shadow scorer of a candidate.
public typealias InferenceService = KubernetesObject<InferenceServiceSpec>

extension InferenceServiceSpec: KubernetesResource {
    public static let apiVersion = "serving.kserve.io/v1beta1"
    public static let kind = "InferenceService"
}

/// `InferenceServiceSpec` (the predictor only).
public struct InferenceServiceSpec: Codable, Sendable, Equatable {
    public var predictor: PredictorSpec
    public init(predictor: PredictorSpec) { self.predictor = predictor }
}

/// `PredictorSpec`: the model, its payload logger, where it schedules.
public struct PredictorSpec: Codable, Sendable, Equatable {
    public var model: ModelSpec
    public var logger: LoggerSpec
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?

    public init(model: ModelSpec, logger: LoggerSpec, nodeSelector: [String: String]?, tolerations: [Toleration]?) {
        self.model = model
        self.logger = logger
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
    }
}

/// `ModelSpec`.
public struct ModelSpec: Codable, Sendable, Equatable {
    public var modelFormat: ModelFormat
    public var storageUri: String
    public var resources: ResourceRequirements

    public init(modelFormat: ModelFormat, storageUri: String, resources: ResourceRequirements) {
        self.modelFormat = modelFormat
        self.storageUri = storageUri
        self.resources = resources
    }
}

/// `ModelFormat` (sklearn, xgboost, pytorch, …).
public struct ModelFormat: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `LoggerSpec`: where the payload logger posts, and what.
public struct LoggerSpec: Codable, Sendable, Equatable {
    public var mode: String
    public var url: String
    public init(mode: String, url: String) {
        self.mode = mode
        self.url = url
    }
}

/// The JSON merge patch that promotes a candidate: the production InferenceService serves the
/// candidate's model to `canaryTrafficPercent` of traffic (KServe canary rollout).
public struct InferenceServicePatch: Codable, Sendable, Equatable {
    public var spec: Spec

    public init(canaryTrafficPercent: Int, storageUri: String) {
        spec = Spec(predictor: .init(canaryTrafficPercent: canaryTrafficPercent, model: .init(storageUri: storageUri)))
    }

    /// `spec` of the patch.
    public struct Spec: Codable, Sendable, Equatable {
        public var predictor: Predictor
    }

    /// `spec.predictor` of the patch.
    public struct Predictor: Codable, Sendable, Equatable {
        public var canaryTrafficPercent: Int
        public var model: Model
    }

    /// `spec.predictor.model` of the patch.
    public struct Model: Codable, Sendable, Equatable {
        public var storageUri: String
    }
}
