import DriftActions
import DriftCore
import DriftStore
import Foundation

/// How episodes become alerts: the configuration plus where links point.
struct AlertPolicy: Sendable {
    let config: AlertmanagerConfiguration
    let publicURL: String

    static let kind = ActionKind.alertmanager.rawValue
    static let alertName = "DriftwatchDriftEpisode"
    static let runbookURL = "https://github.com/driftwatch/driftwatch/blob/main/README.md#driftwatchdriftepisode"

    func alert(model: String, episode: EpisodeRecord, report: WindowReport?, driftedFeatures: [String]) -> EpisodeAlert {
        var labels = config.labels
        labels["alertname"] = Self.alertName
        labels["model"] = model
        labels["severity"] = config.severity
        let byName = Dictionary(((report?.features ?? []) + (report?.prediction.map { [$0] } ?? [])).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let figures = driftedFeatures.prefix(10).map { name -> String in
            if name == multivariateEvidenceName, let m = report?.multivariate {
                return "multivariate (PCA reconstruction error \(formatFigure(m.reconstructionError)) outside "
                    + "[\(formatFigure(m.lowerThreshold)), \(formatFigure(m.upperThreshold))])"
            }
            guard let f = byName[name] else { return name }
            var parts: [String] = []
            if let psi = f.psi { parts.append("PSI \(formatFigure(psi))") }
            if let ks = f.ks { parts.append("KS D \(formatFigure(ks.statistic)), p \(formatFigure(ks.pvalueAdjusted ?? ks.pvalue))") }
            if let chi = f.chi2 { parts.append("chi2 p \(formatFigure(chi.pvalueAdjusted ?? chi.pvalue))") }
            return parts.isEmpty ? name : "\(name) (\(parts.joined(separator: ", ")))"
        }
        let total = report.map { $0.features.count } ?? 0
        let share = report?.summary.driftedShare ?? 0
        let predictionName = report?.prediction?.name
        let confirmedAt = episode.confirmedAt ?? episode.openedAt
        var annotations = [
            "summary": "Drift confirmed for model \(model): \(driftedFeatures.filter { $0 != multivariateEvidenceName && $0 != predictionName }.count) of \(total) features drifted"
                + (predictionName.map { driftedFeatures.contains($0) ? ", and the prediction \($0)" : "" } ?? "")
                + (driftedFeatures.contains(multivariateEvidenceName) ? ", and the features' joint distribution (multivariate)." : "."),
            "description": "Episode \(episode.id) of model \(model) was confirmed at \(rfc3339(confirmedAt)) (window \(episode.lastWindowSeq)); "
                + "drifted share \(formatFigure(share)). Drifted: \(figures.isEmpty ? "none listed" : figures.joined(separator: "; "))"
                + (driftedFeatures.count > 10 ? "; and \(driftedFeatures.count - 10) more." : "."),
            "drifted_features": driftedFeatures.joined(separator: ","),
            "drift_share": formatFigure(share),
            "episode_id": String(episode.id),
            "runbook_url": Self.runbookURL,
        ]
        if let seq = report?.seq { annotations["window_seq"] = String(seq) }
        // Which rule made the window drifted (share, a major feature, the prediction, multivariate).
        if let report { annotations["verdict"] = report.verdictExplanation }
        return EpisodeAlert(
            episodeID: episode.id, labels: labels, annotations: annotations,
            generatorURL: "\(publicURL)/models/\(model)/episodes/\(episode.id)", startsAt: confirmedAt.timeIntervalSince1970,
            resolvedAt: nil)
    }

    /// Alertmanager forgets an alert not re-sent before its `endsAt`.
    var activeFor: Double { 4 * config.resendSeconds }

    /// The client that posts to every configured Alertmanager.
    var client: AlertmanagerClient { AlertmanagerClient(urls: config.urls, timeoutSeconds: config.timeoutSeconds) }
}
