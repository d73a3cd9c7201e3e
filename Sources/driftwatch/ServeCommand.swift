import ArgumentParser
import DriftCore
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
            stop it gracefully. Settings come from flags, then DRIFTWATCH_* environment variables \
            (DRIFTWATCH_MAX_BODY_BYTES=…, nested keys with a double underscore), then --config, then \
            the defaults; `driftwatch config check FILE` prints the result.
            """
    )

    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port (0 = any free port; the chosen one is logged).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Directory of the SQLite store.") var dataDir: String?
    @Option(help: "Shared PostgreSQL store of several replicas: postgres://user@host:5432/db[?password_file=FILE|password_env=VAR] (default: SQLite in --data-dir).")
    var store: String?
    @Option(help: "JSON config file (host, port, data_dir, tokens_file, limits, models).") var config: String?
    @Option(help: "Tokens file: lines of `TOKEN scope[,scope…]` (ingest, read, admin).") var tokens: String?
    @Flag(help: "Allow an open API (no tokens) on a non-loopback address.") var insecure = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(name: .customLong("alertmanager-url"), help: "Push confirmed drift episodes to this Alertmanager (repeatable: an HA pair gets every alert).")
    var alertmanagerURLs: [String] = []
    @Option(name: .customLong("public-url"), help: "How people reach this service, for links in alerts (default http://HOST:PORT).")
    var publicURL: String?

    func run() async throws {
        let cfg: ServerConfiguration
        do {
            cfg = try ServerConfiguration.resolve(file: config, environment: ProcessInfo.processInfo.environment, flags: flagValues)
        } catch let e as ServerConfigError {
            throw UserFacingError(message: e.message)
        }
        for skipped in ServerConfiguration.check(file: nil, environment: ProcessInfo.processInfo.environment).skippedEnvironment
            where !Self.nonConfigurationVariables.contains(skipped.name) {
            let hint = skipped.suggestion.map { "; did you mean \($0)?" } ?? ""
            FileHandle.standardError.write(Data("driftwatch: ignoring \(skipped.name): it names no configuration key\(hint)\n".utf8))
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw UserFacingError(message: "--log-level must be one of trace, debug, info, notice, warning, error")
        }
        try await runService(cfg, level: level)
    }

    /// DRIFTWATCH_* variables that are not configuration: the CLI client's token and the
    /// binary the manifest validator runs.
    static let nonConfigurationVariables: Set<String> = ["DRIFTWATCH_TOKEN", "DRIFTWATCH_BIN"]

    /// The flags given, as values at configuration key paths: the top layer of
    /// `ServerConfiguration.resolve` (flags > DRIFTWATCH_* > file > defaults).
    var flagValues: [(path: String, value: ConfigurationValue)] {
        var flags: [(path: String, value: ConfigurationValue)] = []
        if let host { flags.append(("host", .string(host))) }
        if let port { flags.append(("port", .int(port))) }
        if let dataDir { flags.append(("data_dir", .string(dataDir))) }
        if let store { flags.append(("store", .string(store))) }
        if let tokens { flags.append(("tokens_file", .string(tokens))) }
        if insecure { flags.append(("insecure", .bool(true))) }
        if let publicURL { flags.append(("public_url", .string(publicURL))) }
        if !alertmanagerURLs.isEmpty { flags.append(("alertmanager.urls", .array(alertmanagerURLs.map(ConfigurationValue.string)))) }
        return flags
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
        logger.notice("driftwatch listening", metadata: ["address": .string("http://\(cfg.host):\(port)"), "store": .string(cfg.storeDescription)])
        await onRunning(port)
    }
}
