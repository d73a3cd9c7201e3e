import DriftCore
import DriftIngest
import DriftStore
import Foundation

/// `driftwatch serve` settings, from one precedence (`resolve`): flags over `DRIFTWATCH_*`
/// environment variables over the JSON config file (`--config`) over the defaults written here.
public struct ServerConfiguration: Sendable, Codable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var dataDir: String = "./driftwatch-data"
    /// The shared store of several replicas: `postgres://user@host:5432/db[?password_file=…]`
    /// (``PostgresLocation``). Nil (the default): the embedded SQLite store in `data_dir`.
    public var store: String?
    /// On PostgreSQL, apply missing schema migrations at start (under an advisory lock). When
    /// false, a replica whose schema is behind waits, not ready, until `driftwatch migrate` ran.
    public var migrateOnStart: Bool = true
    /// File of `TOKEN scope[,scope…]` lines; none = open API (loopback only unless insecure).
    public var tokensFile: String?
    /// Allow listening on a non-loopback address without tokens.
    public var insecure: Bool = false
    /// Largest request body accepted (bytes, after gzip: `maxDecodedBytes`).
    public var maxBodyBytes: Int = 16 << 20
    public var maxDecodedBytes: Int = 64 << 20
    /// Largest baseline upload (a training set is much larger than an ingest batch), also after gzip.
    public var maxBaselineBytes: Int = 1 << 30
    /// Ingest requests being stored at once before new ones get 429 + Retry-After.
    public var maxInflightIngest: Int = 64
    /// Observations in one request (every format); more is a 413 saying to split the batch.
    public var maxRowsPerRequest: Int = 100_000
    /// Labels in one request.
    public var maxLabelRows: Int = 100_000
    /// Values in one KServe event (rows × columns over its tensors; its rows are bounded by
    /// `max_rows_per_request`): bounds the JSON tree a v1/v2 body becomes.
    public var maxKServeValues: Int = 2_000_000
    /// Bytes of request bodies held at once while they arrive (baselines aside): past it, 503.
    public var maxBufferedBodyBytes: Int = 512 << 20
    /// A request body must arrive whole within this many seconds (else 408, connection closed).
    public var bodyTimeoutSeconds: Double = 30
    /// …and with no pause longer than this between its bytes.
    public var bodyIdleSeconds: Double = 10
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeoutSeconds: Double = 75
    /// Models the service holds at most (each has its own series in /metrics).
    public var maxModels: Int = 1000
    /// `power_loss` fsyncs every commit (SQLite synchronous=FULL); `process_crash` (default)
    /// survives kill -9 without an fsync per batch.
    public var durability: StoreDurability = .processCrash
    /// Models to create at start-up (settings by model name), for GitOps-style configuration.
    public var models: [String: ModelSettings]?
    /// Where people reach this service (links in alerts); default `http://HOST:PORT`.
    public var publicURL: String?
    /// Push confirmed drift episodes to Alertmanager; off when nil or without URLs.
    public var alertmanager: AlertmanagerConfiguration?
    /// Retraining, shadow scoring and the validation gate on confirmed drift; off when nil.
    public var remediation: RemediationConfiguration?
    /// Accept `POST /v1/kserve` without a token even when tokens are configured: KServe's
    /// payload logger cannot send an Authorization header. Restrict who reaches the port
    /// (a NetworkPolicy) instead.
    public var kserveWithoutToken: Bool = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, dataDir = "data_dir", store, migrateOnStart = "migrate_on_start", tokensFile = "tokens_file", insecure
        case maxBodyBytes = "max_body_bytes", maxDecodedBytes = "max_decoded_bytes", maxBaselineBytes = "max_baseline_bytes"
        case maxInflightIngest = "max_inflight_ingest", maxRowsPerRequest = "max_rows_per_request", maxLabelRows = "max_label_rows"
        case maxKServeValues = "max_kserve_values"
        case maxBufferedBodyBytes = "max_buffered_body_bytes", bodyTimeoutSeconds = "body_timeout_seconds"
        case bodyIdleSeconds = "body_idle_seconds", idleTimeoutSeconds = "idle_timeout_seconds", maxModels = "max_models"
        case durability, models, publicURL = "public_url", alertmanager, remediation
        case kserveWithoutToken = "kserve_without_token"
    }

    public init() {}

    /// Absent keys take the defaults above; unknown keys and wrong types are errors at their path.
    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = ServerConfiguration()
        host = try c.value(.host, or: d.host)
        port = try c.value(.port, or: d.port)
        dataDir = try c.value(.dataDir, or: d.dataDir)
        store = try c.optional(.store)
        migrateOnStart = try c.value(.migrateOnStart, or: d.migrateOnStart)
        tokensFile = try c.optional(.tokensFile)
        insecure = try c.value(.insecure, or: d.insecure)
        maxBodyBytes = try c.value(.maxBodyBytes, or: d.maxBodyBytes)
        maxDecodedBytes = try c.value(.maxDecodedBytes, or: d.maxDecodedBytes)
        maxBaselineBytes = try c.value(.maxBaselineBytes, or: d.maxBaselineBytes)
        maxInflightIngest = try c.value(.maxInflightIngest, or: d.maxInflightIngest)
        maxRowsPerRequest = try c.value(.maxRowsPerRequest, or: d.maxRowsPerRequest)
        maxLabelRows = try c.value(.maxLabelRows, or: d.maxLabelRows)
        maxKServeValues = try c.value(.maxKServeValues, or: d.maxKServeValues)
        maxBufferedBodyBytes = try c.value(.maxBufferedBodyBytes, or: d.maxBufferedBodyBytes)
        bodyTimeoutSeconds = try c.value(.bodyTimeoutSeconds, or: d.bodyTimeoutSeconds)
        bodyIdleSeconds = try c.value(.bodyIdleSeconds, or: d.bodyIdleSeconds)
        idleTimeoutSeconds = try c.value(.idleTimeoutSeconds, or: d.idleTimeoutSeconds)
        maxModels = try c.value(.maxModels, or: d.maxModels)
        durability = try c.value(.durability, or: d.durability)
        // Each model on its own, so that collecting finds the errors of every model.
        let entries: [String: CollectedEntry<ModelSettings>]? = try c.optional(.models)
        models = entries?.compactMapValues(\.value)
        publicURL = try c.optional(.publicURL)
        alertmanager = try c.optional(.alertmanager)
        remediation = try c.optional(.remediation)
        kserveWithoutToken = try c.value(.kserveWithoutToken, or: d.kserveWithoutToken)
    }

    /// The configuration of a file alone (defaults under it), checked; every problem thrown,
    /// one `FILE: path: message` per line.
    public static func load(file: String) throws -> ServerConfiguration {
        try resolve(file: file)
    }

    /// The configuration from every source in the one precedence: `flags` (values by dotted key
    /// path, e.g. `alertmanager.urls`) over `DRIFTWATCH_*` variables of `environment` over the
    /// config `file` over the defaults. Decoded strictly and validated.
    ///
    /// - Throws: `ServerConfigError` listing every problem, one `FILE: path: message` per line.
    public static func resolve(file: String? = nil, environment: [String: String] = [:],
                               flags: [(path: String, value: ConfigurationValue)] = []) throws -> ServerConfiguration {
        let checked = check(file: file, environment: environment, flags: flags)
        guard let config = checked.configuration, checked.issues.isEmpty else {
            let origin = file ?? "configuration"
            throw ServerConfigError(message: checked.issues.map { "\(origin): \($0)" }.joined(separator: "\n"))
        }
        return config
    }

    /// What `driftwatch config check` reports: the effective configuration, or every problem
    /// (the decoding problems, each at its key path, sorted by path; when there are none, the
    /// validation problems of each block), and
    /// the `DRIFTWATCH_*` variables skipped because they name no key.
    public static func check(file: String?, environment: [String: String] = [:],
                             flags: [(path: String, value: ConfigurationValue)] = [])
        -> (configuration: ServerConfiguration?, issues: [ConfigurationIssue], skippedEnvironment: [(name: String, suggestion: String?)]) {
        var layers = ConfigurationLayers(environment: environment, flags: flags)
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                return (nil, [ConfigurationIssue(path: "", message: "cannot read the config file")], [])
            }
            do {
                // The strict parser of request bodies first: Foundation's accepts trailing commas
                // and gives no position.
                try checkJSONSyntax(Array(data))
                layers.file = try JSONDecoder().decode(ConfigurationValue.self, from: data)
            } catch let e as IngestDecodingError {
                return (nil, [ConfigurationIssue(path: "", message: "not valid JSON: \(e.message)")], [])
            } catch {
                return (nil, [ConfigurationIssue(path: "", message: "not valid JSON (\(jsonSyntaxReason(error)))")], [])
            }
            guard case .object = layers.file else {
                return (nil, [ConfigurationIssue(path: "", message: "expected a JSON object")], [])
            }
        }
        let defaults: ConfigurationValue
        do { defaults = try JSONDecoder().decode(ConfigurationValue.self, from: JSONEncoder().encode(ServerConfiguration())) } catch {
            return (nil, [ConfigurationIssue(path: "", message: "internal error: \(error)")], [])
        }
        let merged = layers.merged(knownKeys: CodingKeys.allCases.map(\.stringValue), defaults: defaults)
        let collector = ConfigurationErrorCollector()
        let decoded = collector.collect { () throws -> ServerConfiguration in
            try JSONDecoder().decode(ServerConfiguration.self, from: JSONEncoder().encode(merged.document))
        }
        // By path: a stable order (dictionaries such as `models` decode in no fixed order).
        var issues = collector.issues.enumerated().sorted { ($0.element.path, $0.offset) < ($1.element.path, $1.offset) }.map(\.element)
        if let decoded, issues.isEmpty {
            issues = decoded.validationErrors().map { ConfigurationIssue(path: "", message: $0.message) }
        }
        return (issues.isEmpty ? decoded : nil, issues, merged.skipped)
    }

    /// Checks everything; the first problem thrown (see `validationErrors` for all of them).
    public func validate() throws {
        if let first = validationErrors().first { throw first }
    }

    /// The problems of each block: the server's own settings, alertmanager, remediation and
    /// each model (the first problem of each, since one often implies the next).
    public func validationErrors() -> [ServerConfigError] {
        var errors: [ServerConfigError] = []
        func run(_ check: () throws -> Void) {
            do { try check() } catch let e as ServerConfigError { errors.append(e) } catch { errors.append(ServerConfigError(message: "\(error)")) }
        }
        run(validateServer)
        run { try alertmanager?.validate() }
        run { try remediation?.validate() }
        for (name, settings) in (models ?? [:]).sorted(by: { $0.key < $1.key }) {
            run {
                guard isValidModelName(name) else { throw ServerConfigError(message: "model name \"\(name)\" must match \(modelNamePattern)") }
                do { try settings.validate() } catch { throw ServerConfigError(message: "models.\(name): \(error)") }
            }
        }
        return errors
    }

    func validateServer() throws {
        guard (0...65535).contains(port) else { throw ServerConfigError(message: "port must be 0–65535, got \(port)") }
        guard maxBodyBytes > 0, maxDecodedBytes >= maxBodyBytes else {
            throw ServerConfigError(message: "max_body_bytes must be > 0 and ≤ max_decoded_bytes")
        }
        guard maxBaselineBytes > 0 else { throw ServerConfigError(message: "max_baseline_bytes must be > 0") }
        guard maxInflightIngest >= 1 else { throw ServerConfigError(message: "max_inflight_ingest must be ≥ 1") }
        guard (1...10_000_000).contains(maxRowsPerRequest) else { throw ServerConfigError(message: "max_rows_per_request must be 1–10000000, got \(maxRowsPerRequest)") }
        guard (1...10_000_000).contains(maxLabelRows) else { throw ServerConfigError(message: "max_label_rows must be 1–10000000, got \(maxLabelRows)") }
        guard (1...100_000_000).contains(maxKServeValues) else { throw ServerConfigError(message: "max_kserve_values must be 1–100000000, got \(maxKServeValues)") }
        guard maxBufferedBodyBytes >= maxBodyBytes else {
            throw ServerConfigError(message: "max_buffered_body_bytes (\(maxBufferedBodyBytes)) must be ≥ max_body_bytes (\(maxBodyBytes))")
        }
        for (key, value) in [("body_timeout_seconds", bodyTimeoutSeconds), ("body_idle_seconds", bodyIdleSeconds), ("idle_timeout_seconds", idleTimeoutSeconds)] {
            guard value >= 0.1 && value <= 3600 else { throw ServerConfigError(message: "\(key) must be between 0.1 and 3600, got \(value)") }
        }
        guard bodyIdleSeconds <= bodyTimeoutSeconds else { throw ServerConfigError(message: "body_idle_seconds must be ≤ body_timeout_seconds") }
        guard (1...100_000).contains(maxModels) else { throw ServerConfigError(message: "max_models must be 1–100000, got \(maxModels)") }
        if let store {
            do {
                // The syntax only: the password's file or variable belongs to the machine that serves.
                _ = try PostgresLocation(url: store, resolvingPassword: false)
            } catch let e as DriftStoreError {
                throw ServerConfigError(message: "store: \(e.description.replacingOccurrences(of: "invalid argument: ", with: ""))")
            }
        }
        if let publicURL, !isHTTPURL(publicURL) {
            throw ServerConfigError(message: "public_url must be an http(s) URL, got \"\(publicURL)\"")
        }
    }

    /// The base of links to this service (alerts' generatorURL).
    var resolvedPublicURL: String {
        if let publicURL { return publicURL.withoutTrailingSlash }
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h == "0.0.0.0" ? "127.0.0.1" : h):\(port)"
    }


    /// True for 127.0.0.0/8, ::1 and localhost.
    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

func isHTTPURL(_ s: String) -> Bool {
    guard let u = URL(string: s), let scheme = u.scheme?.lowercased(), let host = u.host, !host.isEmpty else { return false }
    return scheme == "http" || scheme == "https"
}

func isPrometheusLabelName(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
}

/// Why JSON text did not parse, in one line.
func jsonSyntaxReason(_ error: any Error) -> String {
    guard case DecodingError.dataCorrupted(let ctx) = error else { return "\(error)" }
    if let underlying = ctx.underlyingError as NSError?, let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
    return ctx.debugDescription
}

/// A decoding error in words: which key (its full path), what was wrong.
func describe(_ error: DecodingError) -> String { describeConfigurationError(error) }
