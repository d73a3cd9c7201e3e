import Foundation

/// A JSON value of a configuration document, to lay flags and environment variables over a
/// file before the whole is decoded strictly once.
public enum ConfigurationValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ConfigurationValue])
    case object([String: ConfigurationValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Probe the JSON type: only a type mismatch means "not this one"; any other failure throws.
        func ifOfType<T: Decodable>(_ type: T.Type) throws -> T? {
            do { return try c.decode(T.self) } catch DecodingError.typeMismatch { return nil }
        }
        if c.decodeNil() {
            self = .null
        } else if let b = try ifOfType(Bool.self) {
            self = .bool(b)
        } else if let d = try ifOfType(Double.self) {
            // Whole numbers stay integers (configuration integers are far below 2^53).
            self = Int(exactly: d).map { .int($0) } ?? .double(d)
        } else if let s = try ifOfType(String.self) {
            self = .string(s)
        } else if let a = try ifOfType([ConfigurationValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: ConfigurationValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value at a dotted path (`alertmanager.urls`), nil when absent.
    public func value(at path: [String]) -> ConfigurationValue? {
        guard let first = path.first else { return self }
        guard case .object(let o) = self, let child = o[first] else { return nil }
        return child.value(at: Array(path.dropFirst()))
    }

    /// Sets the value at a dotted path, making the objects on the way (a null or scalar on the
    /// way is replaced by an object).
    public mutating func set(_ value: ConfigurationValue, at path: [String]) {
        guard let first = path.first else {
            self = value
            return
        }
        var o: [String: ConfigurationValue] = [:]
        if case .object(let existing) = self { o = existing }
        var child = o[first] ?? .null
        child.set(value, at: Array(path.dropFirst()))
        o[first] = child
        self = .object(o)
    }
}

/// The sources of a configuration in their one order of precedence: command-line flags over
/// `DRIFTWATCH_*` environment variables over the config file over the defaults.
///
/// Why not apple/swift-configuration (1.4.0, resolved through Hummingbird): its `ConfigReader`
/// answers one scalar key at a time, with no Codable decoding of nested blocks, no per-model
/// dictionaries and no way to learn that a file holds a key nobody reads — so every key would be
/// listed a second time beside the structs, and unknown keys would pass silently, which is what
/// this issue removes. (It also needs macOS 15, the package declares macOS 14.) This layer is
/// the part of it driftwatch needs: flags and environment are laid over the file's JSON as
/// values at key paths, and the result is decoded strictly once, so an environment variable or
/// flag goes through the same checks as the file.
public struct ConfigurationLayers: Sendable {
    /// The prefix of environment variables that set configuration keys.
    public static let environmentPrefix = "DRIFTWATCH_"

    /// The config file's document; an empty object without a file.
    public var file: ConfigurationValue
    /// `DRIFTWATCH_*` variables (all of the environment may be given; others are skipped).
    public var environment: [String: String]
    /// Flag values by dotted key path (`port`, `alertmanager.urls`).
    public var flags: [(path: String, value: ConfigurationValue)]

    public init(file: ConfigurationValue = .object([:]), environment: [String: String] = [:],
                flags: [(path: String, value: ConfigurationValue)] = []) {
        self.file = file
        self.environment = environment
        self.flags = flags
    }

    /// The key path an environment variable names: `DRIFTWATCH_MAX_BODY_BYTES` → `max_body_bytes`,
    /// `DRIFTWATCH_ALERTMANAGER__URLS` → `alertmanager.urls` (a double underscore nests).
    public static func keyPath(ofEnvironmentVariable name: String) -> [String]? {
        guard name.hasPrefix(environmentPrefix), name.count > environmentPrefix.count else { return nil }
        let rest = name.dropFirst(environmentPrefix.count).lowercased()
        let parts = rest.components(separatedBy: "__")
        return parts.contains(where: \.isEmpty) ? nil : parts
    }

    /// The merged document, and the `DRIFTWATCH_*` variables that name no top-level key of
    /// `knownKeys` (skipped: the CLI's own `DRIFTWATCH_TOKEN` shares the prefix), each with the
    /// variable it was probably meant to be.
    ///
    /// An environment value is a string where `defaults` holds a string at that path, else it
    /// is read as JSON (`8080`, `true`, `["http://am:9093"]`), falling back to the string.
    public func merged(knownKeys: [String], defaults: ConfigurationValue) -> (document: ConfigurationValue, skipped: [(name: String, suggestion: String?)]) {
        var doc = file
        var skipped: [(name: String, suggestion: String?)] = []
        for name in environment.keys.sorted() where name.hasPrefix(Self.environmentPrefix) {
            guard let raw = environment[name] else { continue }
            guard let path = Self.keyPath(ofEnvironmentVariable: name), let top = path.first, knownKeys.contains(top) else {
                let stem = name.dropFirst(Self.environmentPrefix.count).lowercased()
                let near = nearestName(to: stem, in: knownKeys).map { Self.environmentPrefix + $0.uppercased() }
                skipped.append((name, near))
                continue
            }
            doc.set(Self.environmentValue(raw, default: defaults.value(at: path)), at: path)
        }
        for flag in flags {
            doc.set(flag.value, at: flag.path.split(separator: ".").map(String.init))
        }
        return (doc, skipped)
    }

    /// A variable's text as a value: the text itself for a string key; otherwise its JSON
    /// (`9000`, `true`, `["http://am:9093"]`), or the text when it is not JSON (`http://am:9093`
    /// for a list key is then refused by the strict decode, naming the key).
    static func environmentValue(_ raw: String, default: ConfigurationValue?) -> ConfigurationValue {
        if case .string = `default` { return .string(raw) }
        do {
            return try JSONDecoder().decode(ConfigurationValue.self, from: Data(raw.utf8))
        } catch {
            return .string(raw)
        }
    }
}
