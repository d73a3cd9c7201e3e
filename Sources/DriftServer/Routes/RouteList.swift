import DriftCore
import DriftIngest
import DriftStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension DriftService {
    /// The whole HTTP API: method, path, who may call it, handler. The router, the
    /// authorization, the 405 answers and the OpenAPI document's test all read this one table.
    var routes: [APIRoute] {
        [
            APIRoute(.get, "/healthz", .open) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            },
            APIRoute(.get, "/readyz", .open) { _, _ in try await self.ready() },
            APIRoute(.get, "/metrics", .open) { _, _ in
                // Free space is read at scrape time: a gauge that is never stale.
                if let free = freeBytes(atPath: self.config.dataDir) { self.metrics.storeFreeBytes(free) }
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
            },
            APIRoute(.get, "/openapi.json", .open) { _, _ in openAPIResponse() },

            APIRoute(.get, "/v1/models", .scope(.read)) { _, _ in try await self.listModels() },
            APIRoute(.put, "/v1/models/:model", .scope(.admin)) { request, context in try await self.putModel(request, context) },
            APIRoute(.get, "/v1/models/:model", .scope(.read)) { _, context in
                try jsonResponse(try await self.monitor(try context.parameters.require("model")).status())
            },
            APIRoute(.delete, "/v1/models/:model", .scope(.admin)) { _, context in
                try await self.deleteModel(try context.parameters.require("model"))
            },
            APIRoute(.put, "/v1/models/:model/baseline", .scope(.admin)) { request, context in try await self.putBaseline(request, context) },
            APIRoute(.post, "/v1/models/:model/observations", .scope(.ingest)) { request, context in
                try await self.postObservations(request, context)
            },
            APIRoute(.post, "/v1/models/:model/evaluate", .scope(.admin)) { _, context in
                try await self.evaluateNow(try context.parameters.require("model"))
            },
            APIRoute(.get, "/v1/models/:model/drift", .scope(.read)) { _, context in
                try await self.latestDrift(try context.parameters.require("model"))
            },
            APIRoute(.get, "/v1/models/:model/windows", .scope(.read)) { request, context in try await self.listWindows(request, context) },
            APIRoute(.get, "/v1/models/:model/episodes", .scope(.read)) { request, context in try await self.listEpisodes(request, context) },
            // Candidates come from the retraining job, with an ingest token like the sidecars'.
            APIRoute(.post, "/v1/models/:model/candidates", .scope(.ingest)) { request, context in try await self.postCandidate(request, context) },
            APIRoute(.get, "/v1/models/:model/candidates", .scope(.read)) { _, context in
                try await self.listCandidates(try context.parameters.require("model"))
            },
            APIRoute(.get, "/v1/models/:model/actions", .scope(.read)) { request, context in try await self.listActions(request, context) },
            APIRoute(.post, "/v1/models/:model/actions/:key/retry", .scope(.admin)) { _, context in try await self.retryAction(context) },
            APIRoute(.post, "/v1/models/:model/labels", .scope(.ingest)) { request, context in try await self.postLabels(request, context) },
            APIRoute(.get, "/v1/models/:model/quality", .scope(.read)) { request, context in try await self.getQuality(request, context) },
            APIRoute(.get, "/v1/models/:model/report", .scope(.read)) { request, context in
                let name = try context.parameters.require("model")
                let episode = try self.episodeParameter(request.uri.queryParameters["episode"].map(String.init))
                return try jsonResponse(try await self.reportDocument(name, episodeID: episode))
            },
            APIRoute(.post, "/v1/kserve", .kserveLogger) { request, context in try await self.postKServe(request, context) },

            // The on-call pages (HTML, no external assets).
            APIRoute(.get, "/", .scope(.read)) { _, _ in try await self.indexPage() },
            APIRoute(.get, "/models/:model", .scope(.read)) { _, context in
                htmlResponse(renderModelPage(try await self.reportDocument(try context.parameters.require("model"), episodeID: nil)))
            },
            APIRoute(.get, "/models/:model/episodes/:episode", .scope(.read)) { _, context in
                let id = try self.episodeParameter(context.parameters.get("episode"))
                return htmlResponse(renderModelPage(try await self.reportDocument(try context.parameters.require("model"), episodeID: id)))
            },
        ]
    }
}
