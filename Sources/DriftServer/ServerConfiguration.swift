import DriftCore
import DriftStore
import Foundation

/// `driftwatch serve` settings: flags, or a JSON config file (`--config`), flags winning.
public struct ServerConfiguration: Sendable, Codable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var dataDir: String = "./driftwatch-data"
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
    public var durability: String = "process_crash"
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
        case host, port, dataDir = "data_dir", tokensFile = "tokens_file", insecure
        case maxBodyBytes = "max_body_bytes", maxDecodedBytes = "max_decoded_bytes", maxBaselineBytes = "max_baseline_bytes"
        case maxInflightIngest = "max_inflight_ingest", maxRowsPerRequest = "max_rows_per_request", maxLabelRows = "max_label_rows"
        case maxKServeValues = "max_kserve_values"
        case maxBufferedBodyBytes = "max_buffered_body_bytes", bodyTimeoutSeconds = "body_timeout_seconds"
        case bodyIdleSeconds = "body_idle_seconds", idleTimeoutSeconds = "idle_timeout_seconds", maxModels = "max_models"
        case durability, models, publicURL = "public_url", alertmanager, remediation
        case kserveWithoutToken = "kserve_without_token"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ServerConfiguration()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir) ?? d.dataDir
        tokensFile = try c.decodeIfPresent(String.self, forKey: .tokensFile)
        insecure = try c.decodeIfPresent(Bool.self, forKey: .insecure) ?? d.insecure
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        maxDecodedBytes = try c.decodeIfPresent(Int.self, forKey: .maxDecodedBytes) ?? d.maxDecodedBytes
        maxBaselineBytes = try c.decodeIfPresent(Int.self, forKey: .maxBaselineBytes) ?? d.maxBaselineBytes
        maxInflightIngest = try c.decodeIfPresent(Int.self, forKey: .maxInflightIngest) ?? d.maxInflightIngest
        maxRowsPerRequest = try c.decodeIfPresent(Int.self, forKey: .maxRowsPerRequest) ?? d.maxRowsPerRequest
        maxLabelRows = try c.decodeIfPresent(Int.self, forKey: .maxLabelRows) ?? d.maxLabelRows
        maxKServeValues = try c.decodeIfPresent(Int.self, forKey: .maxKServeValues) ?? d.maxKServeValues
        maxBufferedBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBufferedBodyBytes) ?? d.maxBufferedBodyBytes
        bodyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyTimeoutSeconds) ?? d.bodyTimeoutSeconds
        bodyIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyIdleSeconds) ?? d.bodyIdleSeconds
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? d.idleTimeoutSeconds
        maxModels = try c.decodeIfPresent(Int.self, forKey: .maxModels) ?? d.maxModels
        durability = try c.decodeIfPresent(String.self, forKey: .durability) ?? d.durability
        models = try c.decodeIfPresent([String: ModelSettings].self, forKey: .models)
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL)
        alertmanager = try c.decodeIfPresent(AlertmanagerConfiguration.self, forKey: .alertmanager)
        remediation = try c.decodeIfPresent(RemediationConfiguration.self, forKey: .remediation)
        kserveWithoutToken = try c.decodeIfPresent(Bool.self, forKey: .kserveWithoutToken) ?? false
    }

    public static func load(file: String) throws -> ServerConfiguration {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ServerConfigError(message: "\(file): cannot read the config file")
        }
        do {
            return try JSONDecoder().decode(ServerConfiguration.self, from: data)
        } catch let e as DecodingError {
            throw ServerConfigError(message: "\(file): \(describe(e))")
        }
    }

    public func validate() throws {
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
        guard durability == "process_crash" || durability == "power_loss" else {
            throw ServerConfigError(message: "durability must be process_crash or power_loss, got \(durability)")
        }
        if let publicURL, !isHTTPURL(publicURL) {
            throw ServerConfigError(message: "public_url must be an http(s) URL, got \"\(publicURL)\"")
        }
        try alertmanager?.validate()
        try remediation?.validate()
        for (name, settings) in models ?? [:] {
            guard isValidModelName(name) else { throw ServerConfigError(message: "model name \"\(name)\" must match \(modelNamePattern)") }
            do { try settings.validate() } catch { throw ServerConfigError(message: "models.\(name): \(error)") }
        }
    }

    /// The base of links to this service (alerts' generatorURL).
    var resolvedPublicURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h == "0.0.0.0" ? "127.0.0.1" : h):\(port)"
    }

    var storeDurability: StoreDurability { durability == "power_loss" ? .powerLoss : .processCrash }

    /// True for 127.0.0.0/8, ::1 and localhost.
    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// `alertmanager` in the config file: where and how confirmed episodes are pushed.
public struct AlertmanagerConfiguration: Sendable, Codable, Equatable {
    /// Alertmanager base URLs (`http://am:9093`); several for an HA pair — each gets every alert.
    public var urls: [String]
    /// Per-request timeout.
    public var timeoutSeconds: Double = 5
    /// Labels added to every pushed alert (e.g. `team`, `cluster`).
    public var labels: [String: String] = [:]
    /// While an episode stays confirmed its alert is re-sent this often (Alertmanager expects
    /// active alerts every 30 s–3 min; each push says the alert ends 4 intervals later).
    public var resendSeconds: Double = 60
    /// Delivery attempts of one firing/resolved notice before it is parked as failed.
    public var maxAttempts: Int = 30
    /// `severity` label of the pushed alert.
    public var severity: String = "critical"

    public init(urls: [String]) { self.urls = urls }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case urls, timeoutSeconds = "timeout_seconds", labels, resendSeconds = "resend_seconds"
        case maxAttempts = "max_attempts", severity
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AlertmanagerConfiguration(urls: [])
        urls = try c.decode([String].self, forKey: .urls)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? d.timeoutSeconds
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? d.labels
        resendSeconds = try c.decodeIfPresent(Double.self, forKey: .resendSeconds) ?? d.resendSeconds
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        severity = try c.decodeIfPresent(String.self, forKey: .severity) ?? d.severity
    }

    public func validate() throws {
        for url in urls where !isHTTPURL(url) {
            throw ServerConfigError(message: "alertmanager.urls: \"\(url)\" is not an http(s) URL")
        }
        guard timeoutSeconds > 0, timeoutSeconds <= 300 else {
            throw ServerConfigError(message: "alertmanager.timeout_seconds must be in (0, 300], got \(timeoutSeconds)")
        }
        guard resendSeconds >= 1, resendSeconds <= 180 else {
            throw ServerConfigError(message: "alertmanager.resend_seconds must be 1–180 (Alertmanager forgets alerts not re-sent), got \(resendSeconds)")
        }
        guard maxAttempts >= 1 else { throw ServerConfigError(message: "alertmanager.max_attempts must be ≥ 1") }
        for name in labels.keys.sorted() {
            guard isPrometheusLabelName(name), !name.hasPrefix("__") else {
                throw ServerConfigError(message: "alertmanager.labels: \"\(name)\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)")
            }
            guard !["alertname", "model", "severity"].contains(name) else {
                throw ServerConfigError(message: "alertmanager.labels: \"\(name)\" is set by driftwatch itself")
            }
        }
        guard !severity.isEmpty else { throw ServerConfigError(message: "alertmanager.severity must not be empty") }
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

/// A decoding error in words: which field, what was wrong.
func describe(_ error: DecodingError) -> String {
    func path(_ c: [CodingKey]) -> String {
        guard !c.isEmpty else { return "the document" }
        var out = ""
        for key in c {
            if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
        }
        return out
    }
    switch error {
    case .typeMismatch(let t, let ctx): return "\(path(ctx.codingPath)): expected \(t)"
    case .valueNotFound(let t, let ctx): return "\(path(ctx.codingPath)): expected \(t), found null"
    case .keyNotFound(let k, let ctx): return "\(path(ctx.codingPath + [k])): required field is missing"
    case .dataCorrupted(let ctx):
        if let underlying = ctx.underlyingError { return "\(path(ctx.codingPath)): \(ctx.debugDescription) (\(underlying.localizedDescription))" }
        return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
    @unknown default: return "\(error)"
    }
}
