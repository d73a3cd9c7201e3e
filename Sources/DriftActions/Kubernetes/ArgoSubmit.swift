/// The Argo Server `POST /api/v1/workflows/{namespace}/submit` body: a Workflow from a
/// WorkflowTemplate, named per episode.
public struct ArgoSubmit: Codable, Sendable, Equatable {
    public var namespace: String
    public var resourceKind: String
    public var resourceName: String
    public var submitOptions: SubmitOptions

    public init(namespace: String, resourceKind: String = "WorkflowTemplate", resourceName: String, submitOptions: SubmitOptions) {
        self.namespace = namespace
        self.resourceKind = resourceKind
        self.resourceName = resourceName
        self.submitOptions = submitOptions
    }

    /// `SubmitOpts`: the workflow's name, labels (`k=v,k=v`) and parameters (`name=value`).
    public struct SubmitOptions: Codable, Sendable, Equatable {
        public var name: String
        public var labels: String
        public var parameters: [String]

        public init(name: String, labels: String, parameters: [String]) {
            self.name = name
            self.labels = labels
            self.parameters = parameters
        }
    }
}
