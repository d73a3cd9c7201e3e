import Foundation

/// The JSON encodings of everything the actions send and store. One place, so what
/// `remediation render` prints, what the outbox stores and what the dispatcher sends are the
/// same bytes.
public enum ActionJSON {
    /// Sorted keys, slashes unescaped: Kubernetes, Argo and webhook bodies, stored payloads.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Sorted keys, slashes escaped (as these bodies always were): Alertmanager and MLflow bodies.
    public static var wireEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }

    /// `value` as a string through `encoder`.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes `text`; a failure is an error naming what was being read.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, what: String) throws -> T {
        try decode(type, from: Data(text.utf8), what: what)
    }

    /// Decodes `data`; a failure is a (non-retryable) delivery error naming what was being read.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw DeliveryError(message: "\(what): unreadable JSON (\(error))", retryable: false)
        }
    }
}

/// RFC 3339 with fractional seconds (Alertmanager times, MLflow tags).
public func rfc3339(_ d: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: d)
}

/// RFC 3339 to the second, from Unix seconds (retraining env vars and annotations).
public func isoTime(_ t: Double) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date(timeIntervalSince1970: t))
}

