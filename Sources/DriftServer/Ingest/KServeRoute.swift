import DriftCore
import DriftIngest
import Foundation
import HTTPTypes
import Hummingbird

/// Remembers which half (request/response) of each recent CloudEvent id has arrived, to count
/// joined pairs. Both halves are stored durably as they come, under the same prediction id, so
/// the join itself lives in the store; this only tells metrics how many pairs met.
actor KServeJoin {
    private var seen: [String: (request: Bool, response: Bool, at: Date)] = [:]
    private let horizon: TimeInterval = 600

    /// Records a half; true when its partner had already arrived.
    func arrive(model: String, id: String, isRequest: Bool, now: Date) -> Bool {
        let key = model + "\u{0}" + id
        var entry = seen[key] ?? (false, false, now)
        let joined = isRequest ? entry.response : entry.request
        if isRequest { entry.request = true } else { entry.response = true }
        entry.at = now
        seen[key] = entry
        if seen.count > 100_000 { seen = seen.filter { now.timeIntervalSince($0.value.at) < horizon } }
        return joined
    }
}

extension HTTPField.Name {
    static let ceSpecVersion = HTTPField.Name("ce-specversion")!
    static let ceID = HTTPField.Name("ce-id")!
    static let ceType = HTTPField.Name("ce-type")!
    static let ceInferenceServiceName = HTTPField.Name("ce-inferenceservicename")!
    static let ceEndpoint = HTTPField.Name("ce-endpoint")!
}

extension DriftService {
    static let kserveRequestType = "org.kubeflow.serving.inference.request"
    static let kserveResponseType = "org.kubeflow.serving.inference.response"

    /// The 415 answer for a body that is not JSON, or nil. KServe's agent sends each event with
    /// the Content-Type of the inference request it logs, for the request and the response
    /// half alike, and none when that request had none (pkg/logger/handler.go: `contentType :=
    /// r.Header.Get("Content-Type")`; sdk-go drops an empty datacontenttype), so an absent
    /// Content-Type is read as JSON.
    static func kserveMediaTypeProblem(_ contentType: String?) -> Problem? {
        guard let contentType else { return nil }
        let type = mediaType(of: contentType)
        if type.isEmpty || type == "application/json" { return nil }
        if type == "application/cloudevents+json" || type == "application/cloudevents-batch+json" {
            return Problem(.unsupportedMediaType,
                           "\(type) is a structured-mode CloudEvent; driftwatch reads binary mode (ce-* headers, the inference payload as the body), which KServe's payload logger sends")
        }
        if type.hasPrefix("application/"), type.hasSuffix("+json") { return nil }
        let binary = type == "application/octet-stream" ? " (binary tensor data is not read: send JSON tensors)" : ""
        return Problem(.unsupportedMediaType,
                       "KServe events must carry JSON (Content-Type application/json or a +json type, or none), got \(contentType)\(binary); the payload logger forwards the Content-Type of the inference request, so send inference requests as application/json")
    }

    /// `POST /v1/kserve`: CloudEvents in binary mode, as KServe's payload logger sends them.
    /// The model is `ce-inferenceservicename`; `ce-endpoint` `default` is production, `canary`
    /// a canary. A request half carries features (named by the model's schema order when the
    /// payload is positional), a response half the prediction; each is stored as it arrives
    /// under the prediction id `ce-id` (`ce-id/k` for row k of a multi-row payload). A
    /// redelivered event (same ce-id and type) counts once. The body must be JSON (415
    /// otherwise) and within `KServeLimits.standard` (413); which output is the prediction is
    /// `decodeKServeInference`'s rule, with the model's `kserve.output` and prediction name.
    func postKServe(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let h = request.headers
        guard let spec = h[.ceSpecVersion] else {
            throw Problem.badRequest("not a CloudEvent: the ce-specversion header is missing (binary content mode expected)")
        }
        guard spec == "1.0" else { throw Problem.badRequest("ce-specversion \(spec) is not supported (1.0)") }
        guard let ceID = h[.ceID], !ceID.isEmpty, ceID.utf8.count <= 200 else {
            throw Problem.badRequest("ce-id is missing or longer than 200 characters")
        }
        guard let type = h[.ceType], type == Self.kserveRequestType || type == Self.kserveResponseType else {
            throw Problem.badRequest("ce-type must be \(Self.kserveRequestType) or \(Self.kserveResponseType), got \(h[.ceType] ?? "none")")
        }
        // `?model=…&endpoint=shadow` on the logger URL: a shadow scorer's InferenceService has
        // its own name but reports for the production model (Remediation.swift).
        let query = request.uri.queryParameters
        guard let name = query["model"].map(String.init) ?? h[.ceInferenceServiceName] else {
            throw Problem.badRequest("ce-inferenceservicename is missing: it names the driftwatch model")
        }
        let endpointValue = query["endpoint"].map(String.init) ?? h[.ceEndpoint] ?? "default"
        guard let endpoint = Endpoint(sidecarValue: endpointValue) else {
            let source = query["endpoint"] != nil ? "the endpoint query parameter" : "ce-endpoint"
            throw Problem.badRequest("\(source) \"\(endpointValue)\" is not default, canary or shadow")
        }
        let m = try await monitor(name)
        if let problem = Self.kserveMediaTypeProblem(h[.contentType]) {
            metrics.rejected(model: name, reason: "unsupported_media_type", 1)
            throw problem
        }
        guard await m.baseline != nil else {
            throw Problem.conflict("model \"\(name)\" has no baseline yet: PUT /v1/models/\(name)/baseline first")
        }
        let isRequest = type == Self.kserveRequestType
        let settings = await m.settings
        let body = try await readIngestBody(request, model: name)
        // Decoding and storing take an ingest slot, waited for (see IngestGate).
        await gate.waitForSlot()
        let appended: ModelMonitor.Appended
        let ids: [String?]
        do {
            (appended, ids) = try await storeKServeEvent(body, monitor: m, model: name, settings: settings, ceID: ceID,
                                                         isRequest: isRequest, endpoint: endpoint)
            await gate.leave()
        } catch {
            await gate.leave()
            throw error
        }
        let joined = await kserveJoin.arrive(model: name, id: ceID, isRequest: isRequest, now: clock())
        if !appended.duplicate { metrics.kserveEvent(model: name, type: isRequest ? "request" : "response", joined: joined) }
        struct Answer: Encodable {
            var accepted: Int
            var batch_id: Int64
            var duplicate: Bool
            var joined: Bool
            var prediction_ids: [String?]
        }
        return try jsonResponse(Answer(accepted: appended.rows, batch_id: appended.batchID, duplicate: appended.duplicate,
                                       joined: joined, prediction_ids: ids), status: .accepted)
    }

    /// Decodes an event's body and stores it as a batch under its prediction ids (`ce-id`,
    /// `ce-id/k` for row k). The body's bytes are released once decoded, before the batch is
    /// encoded and stored (for the largest event, 12 MiB less at the peak).
    private func storeKServeEvent(_ body: consuming [UInt8], monitor m: ModelMonitor, model name: String, settings: ModelSettings,
                                  ceID: String, isRequest: Bool, endpoint: Endpoint) async throws -> (ModelMonitor.Appended, [String?]) {
        let payload = try decodeKServeBody(body, model: name, settings: settings, isRequest: isRequest)
        guard (payload.kind == .request) == isRequest else {
            throw Problem.badRequest("ce-type says \(isRequest ? "request" : "response") but the body is a \(payload.kind == .request ? "request (instances/inputs)" : "response (predictions/outputs)")")
        }
        let n = payload.rowCount
        guard n > 0 else { throw Problem.badRequest("the payload has no rows") }
        let ids: [String?] = n == 1 ? [ceID] : (0..<n).map { "\(ceID)/\($0)" }
        let batch = ObservationBatch(
            count: n, ids: ids, timestamps: Array(repeating: nil, count: n), endpoints: Array(repeating: endpoint, count: n),
            features: isRequest ? payload.columns : [:],
            predictions: isRequest ? nil : .cells(payload.predictions))
        let appended = try await m.append(batch, payload: encodeBatchForStorage(batch),
                                          idempotencyKey: "ce:\(ceID):\(isRequest ? "req" : "res")" + (endpoint == .production ? "" : ":\(endpoint.rawValue)"),
                                          receivedAt: clock())
        return (appended, ids)
    }

    private func decodeKServeBody(_ body: [UInt8], model name: String, settings: ModelSettings, isRequest: Bool) throws -> KServePayload {
        do {
            return try decodeKServeInference(body, featureNames: settings.features.map(\.name),
                                             outputName: settings.kserve?.output, predictionName: settings.prediction?.name,
                                             limits: KServeLimits(maxRows: config.maxRowsPerRequest, maxValues: config.maxKServeValues))
        } catch {
            let half = "KServe \(isRequest ? "request" : "response") body: \(error.message)"
            switch error.kind {
            case .malformed:
                metrics.rejected(model: name, reason: "malformed", 1)
                throw Problem.badRequest(half)
            case .tooLarge:
                metrics.rejected(model: name, reason: "too_large", 1)
                throw Problem(.contentTooLarge, half)
            case .ambiguousOutput:
                metrics.rejected(model: name, reason: "malformed", 1)
                throw Problem.unprocessable(half)
            }
        }
    }
}
