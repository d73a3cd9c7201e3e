import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

// Health and model management: /readyz, GET/PUT/DELETE /v1/models/{model}.
extension DriftService {
    // MARK: health

    func ready() async throws -> Response {
        do { try store.ping() } catch { throw Problem(.serviceUnavailable, "store not ready: \(error)") }
        if store.writeFault() != nil {
            // Not ready while writes fail; one small write says whether they work again.
            do {
                try store.probeWrite()
            } catch DriftStoreError.unavailable(let fault, let message) {
                throw Problem(.serviceUnavailable, "store not ready: writes fail (\(fault.rawValue): \(message)); \(fault.remedy)")
            }
        }
        var missing: [String] = []
        for m in await models.all() where await m.baseline == nil { missing.append(m.name) }
        let body = ["status": "ready", "models_without_baseline": missing.joined(separator: ",")]
        return try jsonResponse(body)
    }

    // MARK: models

    func listModels() async throws -> Response {
        var out: [ModelMonitor.Status] = []
        for m in await models.all() { out.append(try await m.status()) }
        return try jsonResponse(["models": out])
    }

    func putModel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        guard isValidModelName(name) else { throw Problem.badRequest("model name \"\(name)\" must match \(modelNamePattern)") }
        try requireJSON(request, what: "model settings")
        let body = try await readBody(request, .settings)
        let settings = try decodeJSONBody(ModelSettings.self, body, what: "model settings")
        do { try settings.validate() } catch { throw Problem.unprocessable("model settings: \(error)") }
        guard !settings.features.isEmpty else { throw Problem.unprocessable("model settings: \"features\" must name at least one feature") }
        if await models.monitor(name) == nil { try await checkModelCapacity() }
        _ = try store.upsertModel(name: name, settings: settings, now: clock())
        let created: Bool
        if let existing = await models.monitor(name) {
            await existing.update(settings: settings)
            created = false
        } else {
            await models.insert(makeMonitor(name: name, settings: settings))
            created = true
        }
        return try jsonResponse(try await monitor(name).status(), status: created ? .created : .ok)
    }

    /// A new model would pass `max_models`: 409, before anything is stored.
    func checkModelCapacity() async throws {
        let count = await models.all().count
        guard count < config.maxModels else {
            throw Problem.conflict("the service holds \(count) models, the limit (max_models); delete a model or raise max_models")
        }
    }

    func deleteModel(_ name: String) async throws -> Response {
        _ = try await monitor(name)
        _ = try store.deleteModel(named: name)
        await models.remove(name)
        metrics.removeModel(name)
        return Response(status: .noContent)
    }

    // MARK: baseline
}
