import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

// POST /v1/models/{model}/observations: every ingest format, bounded, committed before 202.
extension DriftService {

    func postObservations(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        let m = try await monitor(name)
        let receivedAt = clock()
        // The body is read before an ingest slot is taken: a slow or stalled sender waits on
        // its own deadline and never holds a slot that a working sender needs.
        let body = try await readIngestBody(request, model: name)
        guard await gate.enter() else {
            metrics.rejected(model: name, reason: "backpressure", 1)
            var p = Problem(.tooManyRequests, "the store is behind; retry after 1 s")
            p.headers[.retryAfter] = "1"
            throw p
        }
        do {
            let response = try await ingest(request, body: body, receivedAt: receivedAt, monitor: m, name: name)
            await gate.leave()
            return response
        } catch {
            await gate.leave()
            throw error
        }
    }

    private func ingest(_ request: Request, body: [UInt8], receivedAt: Date, monitor m: ModelMonitor, name: String) async throws -> Response {
        guard let format = IngestFormat(contentType: request.headers[.contentType], body: body) else {
            metrics.rejected(model: name, reason: "unsupported_media_type", 1)
            throw Problem(.unsupportedMediaType, "observations must be application/json (rows or columnar), application/x-ndjson or application/x-protobuf; got \(request.headers[.contentType] ?? "no Content-Type")")
        }
        let decoded: DecodedBatch
        do {
            decoded = try decodeObservations(body, format: format, maxRows: config.maxRowsPerRequest)
        } catch let e as IngestDecodingError {
            metrics.rejected(model: name, reason: "malformed", 1)
            throw Problem(e)
        }
        if !decoded.rejected.isEmpty { metrics.rejected(model: name, reason: "invalid_row", decoded.rejected.count) }
        guard await m.baseline != nil else {
            throw Problem.conflict("model \"\(name)\" has no baseline yet: PUT /v1/models/\(name)/baseline first")
        }
        let key = request.headers[.idempotencyKey]
        if let key, key.isEmpty || key.utf8.count > 256 {
            throw Problem.badRequest("Idempotency-Key must be 1–256 characters")
        }
        var appended: ModelMonitor.Appended?
        if decoded.batch.count > 0 {
            let payload = encodeBatchForStorage(decoded.batch)
            appended = try await m.append(decoded.batch, payload: payload, idempotencyKey: key, receivedAt: receivedAt)
        }
        return try jsonResponse(IngestAnswer(
            accepted: appended.map { $0.duplicate ? $0.rows : decoded.batch.count } ?? 0,
            rejected: decoded.rejected.count, rejections: Array(decoded.rejected.prefix(1000)),
            batchID: appended?.batchID, duplicate: appended?.duplicate ?? false,
            windowRows: appended?.windowRows, windowClosed: appended?.closed), status: .accepted)
    }

    struct IngestAnswer: Encodable {
        var accepted: Int
        var rejected: Int
        var rejections: [RejectedRow]
        var batchID: Int64?
        var duplicate: Bool
        var windowRows: Int?
        var windowClosed: Int?
        enum CodingKeys: String, CodingKey {
            case accepted, rejected, rejections, batchID = "batch_id", duplicate, windowRows = "window_rows", windowClosed = "window_closed"
        }
    }

    // MARK: windows and episodes
}
