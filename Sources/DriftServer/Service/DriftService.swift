import DriftActions
import DriftCore
import DriftIngest
import DriftStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import ServiceLifecycle

/// All monitored models, by name.
actor ModelRegistry {
    private var monitors: [String: ModelMonitor] = [:]

    func monitor(_ name: String) -> ModelMonitor? { monitors[name] }
    func all() -> [ModelMonitor] { monitors.keys.sorted().compactMap { monitors[$0] } }
    func insert(_ m: ModelMonitor) { monitors[m.name] = m }
    func remove(_ name: String) { monitors[name] = nil }
}

/// Admission control for ingest: at most `limit` requests are decoded and stored at once.
/// Sidecars that find no slot get 429 with Retry-After (`enter`) instead of queueing in
/// memory; KServe's payload logger never retries a 429, so its events wait for a slot
/// (`waitForSlot`) — their bodies are already read, within `max_buffered_body_bytes`.
actor IngestGate {
    private var inflight = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        guard inflight < limit else { return false }
        inflight += 1
        return true
    }

    func waitForSlot() async {
        if inflight < limit {
            inflight += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Frees a slot, or hands it to the oldest waiter.
    func leave() {
        if waiting.isEmpty {
            inflight -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// The driftwatch service: store, models, HTTP API, metrics, background window timer.
public final class DriftService: Sendable {
    public let config: ServerConfiguration
    public let store: any Store
    public let metrics: DriftMetrics
    let logger: Logger
    let models = ModelRegistry()
    let gate: IngestGate
    let bodyBudget: BodyBudget
    let tokens: TokenTable
    let kserveJoin = KServeJoin()
    let clock: @Sendable () -> Date
    /// nil when no Alertmanager is configured.
    let alertPolicy: AlertPolicy?
    /// nil when remediation is not configured.
    let remediation: RemediationRuntime?

    public init(config: ServerConfiguration, logger: Logger, metrics: DriftMetrics = DriftMetrics(),
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        try config.validate()
        let tokens = try config.tokensFile.map { try TokenTable(file: $0) } ?? TokenTable()
        if tokens.isEmpty && !config.isLoopback && !config.insecure {
            throw ServerConfigError(message: "refusing to listen on \(config.host) without tokens: give --tokens FILE, or --insecure to allow an open API")
        }
        self.config = config
        self.tokens = tokens
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        self.gate = IngestGate(limit: config.maxInflightIngest)
        self.bodyBudget = BodyBudget(limit: config.maxBufferedBodyBytes)
        self.alertPolicy = config.alertmanager.flatMap { am in
            am.urls.isEmpty ? nil : AlertPolicy(config: am, publicURL: config.resolvedPublicURL)
        }
        self.remediation = try config.remediation.map { try RemediationRuntime(config: $0, publicURL: config.resolvedPublicURL) }
        do {
            self.store = try config.openStore(logger: logger)
        } catch {
            throw ServerConfigError(message: "cannot open the store \(config.storeDescription): \(error)")
        }
        metrics.buildInfo(version: driftwatchServiceVersion)
        for fault in StoreFault.allCases { metrics.storeError(fault, 0) }
        store.observeFaults { [metrics] fault in metrics.storeError(fault) }
        // Every outcome series exists from the start, so rules see the first failure as an increase.
        for kind in (alertPolicy == nil ? [] : [AlertPolicy.kind]) {
            for outcome in ActionOutcome.Result.allCases { metrics.action(kind: kind, outcome: outcome, 0) }
        }
    }

    /// Loads every stored model (and the config file's models) and rebuilds open windows.
    public func restore() async throws {
        for (name, settings) in config.models ?? [:] {
            _ = try store.upsertModel(name: name, settings: settings, now: clock())
        }
        for record in try store.models() {
            let m = makeMonitor(name: record.name, settings: record.settings)
            try await m.restore()
            await models.insert(m)
        }
    }

    /// The Hummingbird application (routes, middleware, metrics), with the window timer as a service.
    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let table = routeTable
        // HEAD is answered for every GET route (same authorization, no body).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.middlewares.add(RequestGuard(largestBody: Swift.max(config.maxBaselineBytes, config.maxBodyBytes),
                                            methods: { table.methods(for: $0) }))
        router.middlewares.add(LogRequestsMiddleware(.info))
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(ProblemMiddleware(methods: { table.methods(for: $0) }))
        table.register(on: router)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HTTPErrorHandler()],
            idleTimeout: .milliseconds(Int64(config.idleTimeoutSeconds * 1000)))
        var app = Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "driftwatch"),
            onServerRunning: onServerRunning,
            logger: logger)
        app.addServices(WindowTimer(service: self), PredictionIDIndexer(service: self))
        // Always: besides alerts and remediation, any model may name an MLflow server (its writes
        // go through the outbox, its registry is polled for candidates).
        app.addServices(ActionDispatcher(service: self))
        return app
    }

    /// Every route with its access, as served (the OpenAPI test walks it).
    var routeTable: RouteTable {
        RouteTable(routes: routes, authorizer: Authorizer(tokens: tokens, kserveWithoutToken: config.kserveWithoutToken))
    }

    func makeMonitor(name: String, settings: ModelSettings) -> ModelMonitor {
        ModelMonitor(name: name, settings: settings, store: store, metrics: metrics, logger: logger, clock: clock,
                     alertPolicy: alertPolicy,
                     remediation: remediation.flatMap { $0.config.applies(to: name) ? $0 : nil })
    }

    /// Runs until SIGTERM/SIGINT, then shuts down gracefully (in-flight requests finish,
    /// the store is closed).
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        try await restore()
        let app = makeApplication(onServerRunning: onServerRunning)
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await drainEvaluations()
        await remediation?.shutdown()
        try store.close()
        logger.notice("driftwatch stopped; store closed")
    }

    /// Waits for every model's background window evaluations.
    public func drainEvaluations() async {
        for m in await models.all() { await m.drain() }
    }

    func monitor(_ name: String) async throws -> ModelMonitor {
        guard isValidModelName(name) else { throw Problem.badRequest("model name \"\(name)\" must match \(modelNamePattern)") }
        guard let m = await models.monitor(name) else {
            throw Problem.notFound("no model named \"\(name)\": create it with PUT /v1/models/\(name)")
        }
        return m
    }
}

let driftwatchServiceVersion = driftwatchVersion

/// Closes time-based windows once a second.
struct WindowTimer: Service {
    let service: DriftService

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            for m in await service.models.all() { await m.tick() }
        }
    }
}

/// Moves stored batches' prediction ids into the id index in the background
/// (Store.indexPendingPredictionIDs), off the ingest path.
///
/// It waits until `batchesPerRun` batches are pending (or `maxDelay` has passed): each run
/// inserts sorted keys into the current generation's B-tree, and the pages a commit writes
/// grow with the tree, not with the ids, so few large runs cost far less than many small
/// ones (measured in `driftwatch bench ingest --unique-ids`, protobuf: runs every 20 ms of
/// ~13 batches indexed 134k ids/s and capped ingest at 88k observations/s; runs of 256
/// batches index ~800k ids/s). Until indexed, a lookup scans the pending batches' blobs.
struct PredictionIDIndexer: Service {
    let service: DriftService
    var batchesPerRun = 256
    var maxDelay: Duration = .seconds(2)

    func run() async throws {
        var lastRun = ContinuousClock.now
        // While the store fails (a full disk), back off 0.1 s → 30 s.
        var backoff = FaultBackoff(interval: 0.1)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let pending = try service.store.pendingPredictionIDBatches()
                if pending >= batchesPerRun || (pending > 0 && ContinuousClock.now - lastRun >= maxDelay) {
                    try await service.store.indexPredictionIDs(maxBatches: 2 * batchesPerRun)
                    lastRun = ContinuousClock.now
                    let failed = backoff.succeeded()
                    if failed > 0 { service.logger.notice("prediction id indexer works again", metadata: ["failed_runs": .stringConvertible(failed)]) }
                    if pending >= 2 * batchesPerRun { continue }
                }
            } catch {
                if backoff.failed() {
                    service.logger.error("prediction id indexer failed; backing off", metadata: [
                        "error": .string("\(error)"), "failed_runs": .stringConvertible(backoff.failures),
                    ])
                }
            }
            await backoff.pause()
        }
    }
}
