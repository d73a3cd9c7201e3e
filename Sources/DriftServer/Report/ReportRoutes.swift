import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

func htmlResponse(_ html: String) -> Response {
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
}

extension DriftService {
    func episodeParameter(_ text: String?) throws -> Int64? {
        guard let text else { return nil }
        guard let id = Int64(text), id > 0 else { throw Problem.badRequest("episode must be a positive integer, got \"\(text)\"") }
        return id
    }

    func indexPage() async throws -> Response {
        var rows: [(name: String, state: EpisodeState, worst: [String], lastWindow: Double?, rows: Int)] = []
        for m in await models.all() {
            let s = try await m.status()
            rows.append((s.model, s.episode.state, s.lastWindow?.worstFeatures ?? [], s.lastWindow?.endedAt, s.observationsStored))
        }
        return htmlResponse(renderIndexPage(rows))
    }
}
