import DriftCore
import Foundation

// Closing the loop on confirmed drift: a retraining run on the GPU node pool, a shadow scorer
// for the candidate it produces, and the validation gate. This file holds the manifests;
// delivery goes through the outbox (RemediationActions.swift). The `remediation` configuration
// blocks are in Configuration/RemediationConfiguration.swift.

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
