/// A spec type of a Kubernetes resource: which apiVersion and kind its objects carry.
public protocol KubernetesResource: Codable, Sendable, Equatable {
    static var apiVersion: String { get }
    static var kind: String { get }
}

/// A Kubernetes object as sent to the API server: `apiVersion` and `kind` of its resource,
/// `metadata`, `spec` (in that order, which is the order they are encoded in).
public struct KubernetesObject<Spec: KubernetesResource>: Codable, Sendable, Equatable {
    public var apiVersion = Spec.apiVersion
    public var kind = Spec.kind
    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}
