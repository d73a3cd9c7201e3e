import DriftActions
import DriftCore
import Foundation

/// Builds the remediation actions from the configuration: the one builder behind both what the
/// dispatcher sends and what `driftwatch remediation render` prints.
struct RemediationPlanner: Sendable {
    let config: RemediationConfiguration
    let namespace: String
    /// This service's URL (the shadow's default payload logger).
    let publicURL: String

    /// The retraining call for `r` by the configured kind (Job, Argo submission, webhook).
    func retrain(_ r: RetrainRequest) -> Action? {
        guard let retrain = config.retrain else { return nil }
        let step = RemediationStep(kind: retrain.kind.remediationKind, name: r.runName, episodeID: r.episodeID, stateOnSuccess: .created)
        switch retrain.kind {
        case .job:
            guard let t = retrain.job else { return nil }
            return .retrainJob(RemediationRequest(path: "/apis/batch/v1/namespaces/\(namespace)/jobs",
                                                  body: Manifests.retrainJob(r, template: t, namespace: namespace), step: step))
        case .argo:
            guard let a = retrain.argo else { return nil }
            return .argoSubmit(RemediationRequest(path: "/api/v1/workflows/\(a.namespace)/submit", body: Manifests.argoSubmit(r, argo: a), step: step))
        case .webhook:
            return .webhook(RemediationRequest(path: retrain.webhookURL ?? "", body: r, step: step))
        }
    }

    /// The candidate's shadow InferenceService, its payload logger pointed back at driftwatch.
    func createShadow(model: String, version: String, modelURI: String, episodeID: Int64?) -> Action? {
        guard let s = config.shadow else { return nil }
        let logger = s.loggerURL ?? "\(publicURL)/v1/kserve"
        let separator = logger.contains("?") ? "&" : "?"
        let manifest = Manifests.shadowInferenceService(
            model: model, version: version, modelURI: modelURI, shadow: s, namespace: namespace,
            loggerURL: "\(logger)\(separator)model=\(model)&endpoint=shadow")
        return .createShadow(RemediationRequest(
            path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices", body: manifest,
            step: RemediationStep(kind: .shadow, name: Manifests.shadowName(model: model, version: version), episodeID: episodeID,
                                  stateOnSuccess: .created)))
    }

    /// Deletes a shadow InferenceService.
    func deleteShadow(name: String, episodeID: Int64?) -> Action {
        .deleteShadow(RemediationRequest(
            path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices/\(name)", body: NoBody(),
            step: RemediationStep(kind: .shadow, name: name, episodeID: episodeID, stateOnSuccess: .deleted)))
    }

    /// KServe canary rollout: the production InferenceService serves the candidate's model to
    /// `canary_traffic_percent` of traffic (JSON merge patch).
    func promote(model: String, modelURI: String, version: String, episodeID: Int64?) -> Action? {
        guard let p = config.promotion else { return nil }
        let isvc = p.inferenceService ?? dnsLabel(model)
        return .promotion(RemediationRequest(
            path: "/apis/serving.kserve.io/v1beta1/namespaces/\(namespace)/inferenceservices/\(isvc)",
            body: InferenceServicePatch(canaryTrafficPercent: p.canaryTrafficPercent, storageUri: modelURI),
            step: RemediationStep(kind: .promotion, name: dnsLabel("\(isvc)-canary-\(version)"), episodeID: episodeID, stateOnSuccess: .patched)))
    }
}

/// The Kubernetes and Argo objects of a remediation, from the configuration's templates.
enum Manifests {
    /// The `batch/v1` Job of one retraining run.
    static func retrainJob(_ r: RetrainRequest, template t: JobTemplate, namespace: String) -> KubernetesJob {
        let env = (r.environment + t.env.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).map { EnvVar(name: $0.0, value: $0.1) }
        let container = Container(name: "train", image: t.image, command: t.command, args: t.args, env: env,
                                                resources: ResourceRequirements(cpu: t.cpu, memory: t.memory, gpus: t.gpus))
        let pod = PodSpec(restartPolicy: "Never", containers: [container], nodeSelector: nodeSelector(t.nodeSelector, gpus: t.gpus),
                                        tolerations: t.gpus > 0 ? [.gpu] : nil, serviceAccountName: t.serviceAccountName)
        return KubernetesJob(
            metadata: ObjectMeta(name: r.runName, namespace: namespace, labels: r.labels, annotations: [
                "driftwatch.io/drifted-features": r.driftedFeatures.joined(separator: ","),
                "driftwatch.io/drift-from": isoTime(r.driftFrom), "driftwatch.io/drift-to": isoTime(r.driftTo),
            ]),
            spec: .init(backoffLimit: t.backoffLimit, activeDeadlineSeconds: t.activeDeadlineSeconds, ttlSecondsAfterFinished: t.ttlSecondsAfterFinished,
                        template: .init(metadata: ObjectMeta(labels: r.labels), spec: pod)))
    }

    /// The Argo Server `submit` body: a Workflow from the WorkflowTemplate, named per episode.
    static func argoSubmit(_ r: RetrainRequest, argo: ArgoSubmission) -> ArgoSubmit {
        ArgoSubmit(namespace: argo.namespace, resourceName: argo.workflowTemplate, submitOptions: .init(
            name: r.runName,
            labels: r.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            parameters: r.environment.map { "\($0.0.dropFirst("DRIFTWATCH_".count).lowercased())=\($0.1)" }))
    }

    /// The shadow scorer: a KServe InferenceService serving the candidate, its payload logger
    /// pointed back at driftwatch with `endpoint=shadow`.
    static func shadowInferenceService(model: String, version: String, modelURI: String, shadow s: ShadowConfiguration,
                                       namespace: String, loggerURL: String) -> InferenceService {
        InferenceService(
            metadata: ObjectMeta(name: shadowName(model: model, version: version), namespace: namespace, labels: [
                "app.kubernetes.io/managed-by": "driftwatch", "app.kubernetes.io/component": "shadow-scorer",
                "driftwatch.io/model": dnsLabel(model), "driftwatch.io/candidate": dnsLabel(version),
            ]),
            spec: .init(predictor: .init(
                model: .init(modelFormat: .init(name: s.modelFormat), storageUri: modelURI,
                             resources: ResourceRequirements(cpu: s.cpu, memory: s.memory, gpus: s.gpus)),
                logger: .init(mode: "all", url: loggerURL),
                nodeSelector: nodeSelector(s.nodeSelector, gpus: s.gpus), tolerations: s.gpus > 0 ? [.gpu] : nil)))
    }

    /// The configured selector, or the GPU pool's when the workload asks for GPUs.
    static func nodeSelector(_ configured: [String: String]?, gpus: Int) -> [String: String]? {
        configured ?? (gpus > 0 ? ["nvidia.com/gpu.present": "true"] : nil)
    }

    static func shadowName(model: String, version: String) -> String { dnsLabel("\(model)-shadow-\(version)") }
}
