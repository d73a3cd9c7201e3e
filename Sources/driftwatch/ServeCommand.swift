import ArgumentParser
import DriftServer
import Foundation
import Logging
import Metrics

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the drift-monitoring service (HTTP API, SQLite store, /metrics).",
        discussion: """
            Stores everything in DATA_DIR/driftwatch.sqlite (WAL). With no --tokens the API is open and \
            driftwatch refuses to listen on anything but loopback unless --insecure is given. SIGTERM/SIGINT \
            stop it gracefully.
            """
    )

    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port (0 = any free port; the chosen one is logged).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Directory of the SQLite store.") var dataDir: String?
    @Option(help: "JSON config file (host, port, data_dir, tokens_file, limits, models).") var config: String?
    @Option(help: "Tokens file: lines of `TOKEN scope[,scope…]` (ingest, read, admin).") var tokens: String?
    @Flag(help: "Allow an open API (no tokens) on a non-loopback address.") var insecure = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(name: .customLong("alertmanager-url"), help: "Push confirmed drift episodes to this Alertmanager (repeatable: an HA pair gets every alert).")
    var alertmanagerURLs: [String] = []
    @Option(name: .customLong("public-url"), help: "How people reach this service, for links in alerts (default http://HOST:PORT).")
    var publicURL: String?

    func run() async throws {
        var cfg = ServerConfiguration()
        do {
            if let config { cfg = try ServerConfiguration.load(file: config) }
        } catch let e as ServerConfigError {
            throw UserFacingError(message: e.message)
        }
        if let host { cfg.host = host }
        if let port { cfg.port = port }
        if let dataDir { cfg.dataDir = dataDir }
        if let tokens { cfg.tokensFile = tokens }
        if insecure { cfg.insecure = true }
        if let publicURL { cfg.publicURL = publicURL }
        if !alertmanagerURLs.isEmpty {
            var am = cfg.alertmanager ?? AlertmanagerConfiguration(urls: [])
            am.urls = alertmanagerURLs
            cfg.alertmanager = am
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw UserFacingError(message: "--log-level must be one of trace, debug, info, notice, warning, error")
        }
        try await runService(cfg, level: level)
    }
}

/// Bootstraps logging and metrics once per process and runs the service until SIGTERM.
func runService(_ cfg: ServerConfiguration, level: Logger.Level,
                onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = level
        return h
    }
    var log = Logger(label: "driftwatch")
    log.logLevel = level
    let logger = log
    let metrics = DriftMetrics()
    MetricsSystem.bootstrap(metrics.makeFactory())
    let service: DriftService
    do {
        service = try DriftService(config: cfg, logger: logger, metrics: metrics)
    } catch let e as ServerConfigError {
        throw UserFacingError(message: e.message)
    }
    try await service.run { channel in
        let port = channel.localAddress?.port ?? cfg.port
        logger.notice("driftwatch listening", metadata: ["address": .string("http://\(cfg.host):\(port)"), "data_dir": .string(cfg.dataDir)])
        await onRunning(port)
    }
}
