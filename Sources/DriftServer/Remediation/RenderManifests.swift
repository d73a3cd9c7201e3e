import DriftActions
import DriftCore
import Foundation

/// The manifests driftwatch would create for `model` (`driftwatch remediation render`): name and
/// JSON of each — the retraining Job (or Argo submission or webhook body), the shadow
/// InferenceService, the promotion patch — with example values filled in. Each JSON is the
/// request body the dispatcher sends, byte for byte (the same `RemediationPlanner`).
public func renderRemediationManifests(
    config cfg: ServerConfiguration, model: String, episodeID: Int64, baselineVersion: Int, driftedFeatures: [String],
    candidateVersion: String, modelURI: String, defaultNamespace: String, now: Date = Date(),
    driftFrom: Date? = nil, driftTo: Date? = nil
) throws -> [(name: String, json: String)] {
    guard let r = cfg.remediation else { return [] }
    let planner = RemediationPlanner(config: r, namespace: r.kubernetes?.namespace ?? defaultNamespace, publicURL: cfg.resolvedPublicURL)
    let request = RetrainRequest(
        model: model, episodeID: episodeID, baselineVersion: baselineVersion, driftedFeatures: driftedFeatures,
        driftFrom: (driftFrom ?? now.addingTimeInterval(-3600)).timeIntervalSince1970, driftTo: (driftTo ?? now).timeIntervalSince1970,
        candidatesURL: "\(cfg.resolvedPublicURL)/v1/models/\(model)/candidates")
    let actions = [
        planner.retrain(request),
        planner.createShadow(model: model, version: candidateVersion, modelURI: modelURI, episodeID: episodeID),
        planner.promote(model: model, modelURI: modelURI, version: candidateVersion, episodeID: episodeID),
    ].compactMap { $0 }
    return try actions.compactMap { action in
        guard let body = try action.requestBody() else { return nil }
        return (documentName(action), body)
    }
}

/// The file name (without `.json`) of a rendered action.
private func documentName(_ action: Action) -> String {
    switch action {
    case .retrainJob: return "retrain-job"
    case .argoSubmit: return "argo-submit"
    case .webhook: return "retrain-webhook"
    case .createShadow: return "shadow-inferenceservice"
    case .promotion: return "promotion-patch"
    case .deleteShadow: return "shadow-delete"
    case .alert: return "alert"
    case .mlflow: return "mlflow"
    }
}
