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
    /// `power_loss` fsyncs every commit (SQLite synchronous=FULL); `process_crash` (default)
    /// survives kill -9 without an fsync per batch.
    public var durability: String = "process_crash"
    /// Models to create at start-up (settings by model name), for GitOps-style configuration.
    public var models: [String: ModelSettings]?

    enum CodingKeys: String, CodingKey {
        case host, port, dataDir = "data_dir", tokensFile = "tokens_file", insecure
        case maxBodyBytes = "max_body_bytes", maxDecodedBytes = "max_decoded_bytes", maxBaselineBytes = "max_baseline_bytes"
        case maxInflightIngest = "max_inflight_ingest", durability, models
    }

    public init() {}

    public init(from decoder: Decoder) throws {
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
        durability = try c.decodeIfPresent(String.self, forKey: .durability) ?? d.durability
        models = try c.decodeIfPresent([String: ModelSettings].self, forKey: .models)
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
        guard durability == "process_crash" || durability == "power_loss" else {
            throw ServerConfigError(message: "durability must be process_crash or power_loss, got \(durability)")
        }
        for (name, settings) in models ?? [:] {
            guard isValidModelName(name) else { throw ServerConfigError(message: "model name \"\(name)\" must match [A-Za-z0-9_.-]{1,128}") }
            do { try settings.validate() } catch { throw ServerConfigError(message: "models.\(name): \(error)") }
        }
    }

    var storeDurability: StoreDurability { durability == "power_loss" ? .powerLoss : .processCrash }

    /// True for 127.0.0.0/8, ::1 and localhost.
    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// A decoding error in words: which field, what was wrong.
func describe(_ error: DecodingError) -> String {
    func path(_ c: [CodingKey]) -> String {
        c.isEmpty ? "the document" : c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
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
