import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension DriftService {
    /// `POST /v1/models/{model}/labels`: delayed labels by prediction id (rows, columnar or
    /// NDJSON). Joined now when the prediction is stored, else kept pending and retried until
    /// `label_horizon_hours`. Re-sending a label counts once (`duplicate`).
    func postLabels(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        guard await m.settings.quality != nil else {
            throw Problem.conflict("model \"\(name)\" has no quality settings: add \"quality\" (task, threshold, label…) with PUT /v1/models/\(name)")
        }
        let body = try await readBody(request, .ingest)
        let type = request.headers[.contentType].map(mediaType(of:)) ?? "application/json"
        guard type == "application/json" || type == "application/x-ndjson" else {
            throw Problem(.unsupportedMediaType, "labels must be application/json or application/x-ndjson, got \(type)")
        }
        let decoded: DecodedLabels
        do {
            decoded = try decodeLabels(body, ndjson: type == "application/x-ndjson", maxRows: config.maxLabelRows)
        } catch {
            throw Problem(error)
        }
        let (labels, rejected) = (decoded.labels, decoded.rejected)
        if !rejected.isEmpty { metrics.labels(model: name, outcome: .rejected, rejected.count) }
        let counts = try await m.ingestLabels(labels, now: clock())
        struct Answer: Encodable {
            var accepted: Int
            var joined: Int
            var late: Int
            var pending: Int
            var duplicate: Int
            var rejected: Int
            var rejections: [RejectedRow]
        }
        return try jsonResponse(Answer(accepted: labels.count, joined: counts[.joined] ?? 0, late: counts[.late] ?? 0,
                                       pending: counts[.pending] ?? 0, duplicate: counts[.duplicate] ?? 0,
                                       rejected: rejected.count, rejections: Array(rejected.prefix(100))), status: .accepted)
    }

    /// `GET /v1/models/{model}/quality?limit=N`: baseline quality, per-window quality (realized,
    /// estimated, segments, verdict), label counts, quality-episode state.
    func getQuality(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        guard let spec = await m.settings.quality else {
            throw Problem.conflict("model \"\(name)\" has no quality settings")
        }
        let limit = try limitParameter(request, default: 20)
        struct Answer: Encodable {
            var task: String
            var metric: String
            var tolerance: Double
            var baseline: QualityBaseline?
            var labels: [String: Int]
            var episode_state: EpisodeState
            var windows: [WindowQuality]
        }
        let windows = try store.windowQualities(model: name, limit: limit)
        var baseline = await m.qualityBaselineReport
        baseline?.calibrator = nil  // internal; large
        return try jsonResponse(Answer(task: spec.task.rawValue, metric: spec.metric, tolerance: spec.tolerance, baseline: baseline,
                                       labels: Dictionary(uniqueKeysWithValues: try store.labelCounts(model: name).map { ($0.key.rawValue, $0.value) }),
                                       episode_state: await m.qualityState ?? .ok, windows: windows))
    }
}
