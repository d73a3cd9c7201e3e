import DriftCore
import DriftStore
import Foundation

extension ModelMonitor {
    /// `GET /v1/models/{model}`: settings, baseline, the open window's fill, the episode, the
    /// last window, the MLflow link.
    struct Status: Sendable, Codable {
        var model: String
        var settings: ModelSettings
        var baselineVersion: Int?
        var baselineRows: Int?
        var observationsStored: Int
        var window: WindowFill
        var episode: EpisodeStatus
        var lastWindow: LastWindow?
        /// The MLflow run and model version the baseline came from.
        var mlflow: MLflowLink?

        struct WindowFill: Sendable, Codable {
            var rows: Int
            var targetRows: Int?
            var seconds: Double?
            var openedAt: Double?
            var minRows: Int
            enum CodingKeys: String, CodingKey { case rows, targetRows = "target_rows", seconds, openedAt = "opened_at", minRows = "min_rows" }
        }
        struct EpisodeStatus: Sendable, Codable {
            var state: EpisodeState
            var id: Int64?
            var since: Double?
        }
        struct LastWindow: Sendable, Codable {
            var seq: Int
            var endedAt: Double
            var drifted: Int
            var driftedShare: Double
            var worstFeatures: [String]
            enum CodingKeys: String, CodingKey { case seq, endedAt = "ended_at", drifted, driftedShare = "drifted_share", worstFeatures = "worst_features" }
        }
        enum CodingKeys: String, CodingKey {
            case model, settings, baselineVersion = "baseline_version", baselineRows = "baseline_rows"
            case observationsStored = "observations_stored", window, episode, lastWindow = "last_window", mlflow
        }
    }

    func status() throws -> Status {
        let openEpisode = self.openEpisode
        let window = openWindow
        let since = openEpisode.map { e in (e.confirmedAt ?? e.openedAt).timeIntervalSince1970 }
        return Status(
            model: name, settings: settings, baselineVersion: baseline?.version, baselineRows: baseline?.features.rows,
            observationsStored: try store.observationCount(model: name),
            window: .init(rows: window.rows, targetRows: settings.window.rows, seconds: settings.window.seconds,
                          openedAt: window.openedAt, minRows: settings.minRows),
            episode: .init(state: episodeState, id: openEpisode?.id, since: since),
            lastWindow: lastReport.map { r in
                .init(seq: r.seq, endedAt: r.endedAt, drifted: r.summary.drifted, driftedShare: r.summary.driftedShare,
                      worstFeatures: Array(r.features.filter(\.drifted).prefix(3).map(\.name)))
            }, mlflow: mlflowLink)
    }
}
