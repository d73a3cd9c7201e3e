import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

// Windows and episodes: evaluate now, the latest report, the stored windows and episodes.
extension DriftService {
    func evaluateNow(_ name: String) async throws -> Response {
        let m = try await monitor(name)
        do {
            return try jsonResponse(try await m.closeNow())
        } catch let refusal as ModelMonitor.CloseRefusal {
            switch refusal {
            case .noBaseline: throw Problem.conflict("model \"\(name)\" has no baseline yet: PUT /v1/models/\(name)/baseline first")
            case .tooFewRows(let rows, let minRows):
                throw Problem.conflict("the open window holds \(rows) rows; min_rows is \(minRows)")
            }
        }
    }

    func latestDrift(_ name: String) async throws -> Response {
        let m = try await monitor(name)
        struct DriftAnswer: Encodable {
            var model: String
            var report: WindowReport?
            var episode: ModelMonitor.Status.EpisodeStatus
        }
        let status = try await m.status()
        return try jsonResponse(DriftAnswer(model: name, report: await m.lastReport, episode: status.episode))
    }

    func listWindows(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let limit = try limitParameter(request, default: 20)
        struct Answer: Encodable {
            var model: String
            var windows: [WindowReport]
        }
        return try jsonResponse(Answer(model: name, windows: try store.windows(model: name, limit: limit).map(\.report)))
    }

    func listEpisodes(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let limit = try limitParameter(request, default: 20)
        let out = try store.episodes(model: name, limit: limit).map(episodeDocument)
        return try jsonResponse(["episodes": out])
    }

    func limitParameter(_ request: Request, default d: Int) throws -> Int {
        guard let raw = request.uri.queryParameters.get("limit") else { return d }
        guard let n = Int(raw), (1...1000).contains(n) else { throw Problem.badRequest("limit must be an integer from 1 to 1000, got \"\(raw)\"") }
        return n
    }
}
