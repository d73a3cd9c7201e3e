import Foundation

// Strict, defaulted decoding of configuration blocks (the server's config file and model
// settings). Each block is one struct whose memberwise/default initialiser holds its defaults;
// `init(from:)` reads every key with `value(_:or:)` against an instance built from those
// defaults, so a default is written once. Unknown keys are errors at their full path with the
// nearest known key suggested; type errors name the path too.

/// One problem in a configuration document: where (`remediation.retrain.job.gpu`) and what.
public struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key (`models.fraud.features[0].kind`); empty for the document.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The issue a decoding error describes.
    public init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(let type, let ctx):
            self.init(path: codingPathText(ctx.codingPath), message: "expected \(expectedKind(type))")
        case .valueNotFound(let type, let ctx):
            self.init(path: codingPathText(ctx.codingPath), message: "expected \(expectedKind(type)), found null")
        case .keyNotFound(let key, let ctx):
            self.init(path: codingPathText(ctx.codingPath + [key]), message: "required field is missing")
        case .dataCorrupted(let ctx):
            // JSONDecoder's words for 1.5 (or 1e30) where an integer belongs.
            let said = ctx.debugDescription + (ctx.underlyingError.map { " \($0)" } ?? "")
            if said.contains("does not fit in") || said.contains("numberIsNotRepresentable") {
                self.init(path: codingPathText(ctx.codingPath), message: "expected an integer")
            } else if let underlying = ctx.underlyingError {
                self.init(path: codingPathText(ctx.codingPath), message: "\(ctx.debugDescription) (\(underlying.localizedDescription))")
            } else {
                self.init(path: codingPathText(ctx.codingPath), message: ctx.debugDescription)
            }
        @unknown default:
            self.init(path: "", message: "\(error)")
        }
    }

    /// `path: message` (the message alone for the document as a whole).
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A decoding error in words: which key (its full path), what was wrong.
public func describeConfigurationError(_ error: DecodingError) -> String { ConfigurationIssue(error).description }

/// `a.b[0].c` from a coding path.
func codingPathText(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
    }
    return out
}

/// What a JSON value of `type` looks like, for "expected …".
func expectedKind(_ type: Any.Type) -> String {
    if type == Bool.self { return "true or false" }
    if type == String.self { return "a string" }
    if [Int.self, Int64.self, Int32.self, UInt.self, UInt64.self].contains(where: { $0 == type }) { return "an integer" }
    if type == Double.self || type == Float.self { return "a number" }
    let name = String(describing: type)
    if name.hasPrefix("Array") || name.hasPrefix("[") && !name.contains(":") { return "an array" }
    if name.hasPrefix("Dictionary") || name.hasPrefix("[") { return "an object" }
    return name
}

/// Gathers every configuration error of one decode instead of stopping at the first
/// (`driftwatch config check` prints them all). While one is current (`collect`), the strict
/// decoding helpers record an error and go on with the default; without one they throw, so the
/// HTTP API still answers with the first problem.
// @unchecked Sendable is safe: the only mutable state, `collected`, is read and written only
// under `lock` (Synchronization's Mutex needs macOS 15; the package supports 14).
public final class ConfigurationErrorCollector: @unchecked Sendable {
    /// The collector of the decode running on this task, if any.
    @TaskLocal public static var current: ConfigurationErrorCollector?

    private let lock = NSLock()
    private var collected: [ConfigurationIssue] = []

    public init() {}

    /// The issues recorded so far, in the order found.
    public var issues: [ConfigurationIssue] { lock.withLock { collected } }

    /// Records a decoding error (or any error, at `path`).
    public func record(_ error: any Error, at path: [any CodingKey] = []) {
        let issue: ConfigurationIssue
        if let e = error as? DecodingError {
            issue = ConfigurationIssue(e)
        } else if "\(error)".contains("numberIsNotRepresentableInSwift") {
            // swift-foundation's JSONDecoder throws its own error for 1.5 where an integer belongs.
            issue = ConfigurationIssue(path: codingPathText(path), message: "expected an integer")
        } else {
            issue = ConfigurationIssue(path: codingPathText(path), message: "\(error)")
        }
        lock.withLock { collected.append(issue) }
    }

    /// Runs `body` with this collector current; returns its value (nil when it threw, the
    /// error then recorded too).
    public func collect<T>(_ body: () throws -> T) -> T? {
        Self.$current.withValue(self) {
            do { return try body() } catch {
                record(error)
                return nil
            }
        }
    }
}

/// Strict containers for configuration blocks.
extension Decoder {
    /// The keyed container of a configuration block, after refusing keys `Keys` does not declare
    /// (see `rejectUnknownKeys`).
    public func strictContainer<Keys: CodingKey & CaseIterable>(keyedBy keys: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        try rejectUnknownKeys(in: self, allowed: keys)
        return try container(keyedBy: keys)
    }
}

/// Reading a configuration block's keys against its defaults.
extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` (the block's default) when the key is absent. A present
    /// but invalid value is an error; while collecting it is recorded and the default kept.
    public func value<T: Decodable>(_ key: Key, or fallback: @autoclosure () -> T) throws -> T {
        do {
            return try decodeIfPresent(T.self, forKey: key) ?? fallback()
        } catch {
            guard let collector = ConfigurationErrorCollector.current else { throw error }
            collector.record(error, at: codingPath + [key])
            return fallback()
        }
    }

    /// A value with a closed set of spellings (an enum, also one declared in DriftStats, which
    /// cannot adopt `ConfigurationEnum`): a wrong spelling lists the right ones and suggests the
    /// nearest. Absent: `fallback`.
    public func value<T: RawRepresentable & CaseIterable & Decodable>(_ key: Key, or fallback: @autoclosure () -> T) throws -> T
    where T.RawValue == String {
        do {
            guard let text = try decodeIfPresent(String.self, forKey: key) else { return fallback() }
            guard let v = T(rawValue: text) else { throw spellingError(text, T.allCases.map(\.rawValue), at: codingPath + [key]) }
            return v
        } catch {
            guard let collector = ConfigurationErrorCollector.current else { throw error }
            collector.record(error, at: codingPath + [key])
            return fallback()
        }
    }

    /// An optional value: nil when absent or null (while collecting, also when invalid).
    public func optional<T: Decodable>(_ key: Key) throws -> T? {
        try value(key, or: nil as T?)
    }

    /// A required value: missing or invalid is an error (it cannot be defaulted, so it is thrown
    /// even while collecting; the enclosing optional block records it).
    public func required<T: Decodable>(_ key: Key) throws -> T {
        try decode(T.self, forKey: key)
    }
}

/// A configuration value with a closed set of spellings: decoding anything else is an error
/// that lists them and suggests the nearest (`expected one of job, argo, webhook; got "jobs";
/// did you mean "job"?`).
public protocol ConfigurationEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

/// Decoding by spelling, with the spellings listed (and the nearest suggested) on a mistake.
extension ConfigurationEnum {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else { throw spellingError(text, Self.allCases.map(\.rawValue), at: decoder.codingPath) }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// `expected one of a, b; got "x"; did you mean "a"?` at `path`.
func spellingError(_ text: String, _ names: [String], at path: [any CodingKey]) -> DecodingError {
    var message = "expected one of \(names.joined(separator: ", ")); got \"\(text)\""
    if let near = nearestName(to: text, in: names) { message += "; did you mean \"\(near)\"?" }
    return DecodingError.dataCorrupted(DecodingError.Context(codingPath: path, debugDescription: message))
}

/// Decodes each entry of a configuration dictionary on its own, so that while collecting, one
/// bad entry (one model's settings) does not hide the errors of the others.
public struct CollectedEntry<Value: Decodable>: Decodable {
    /// The entry, nil when it failed while collecting.
    public var value: Value?

    public init(from decoder: any Decoder) throws {
        guard let collector = ConfigurationErrorCollector.current else {
            value = try Value(from: decoder)
            return
        }
        do { value = try Value(from: decoder) } catch {
            collector.record(error, at: decoder.codingPath)
            value = nil
        }
    }
}

/// The encoder of effective configurations: sorted keys (a stable order), indented, `/` kept.
public func configurationEncoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return e
}
