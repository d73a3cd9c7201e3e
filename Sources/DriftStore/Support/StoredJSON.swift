import DriftCore
import Foundation

/// How both backends keep domain values in their text columns: JSON with sorted keys
/// (stable bytes, so a re-encoded value compares equal). Decoding never falls back: a value
/// that does not decode is ``DriftStoreError/corruptRecord(table:key:reason:)`` naming the table
/// and the row, so a damaged row is found instead of silently switching a feature off.
enum StoredJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, table: String, key: @autoclosure () -> String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw DriftStoreError.corruptRecord(table: table, key: key(), reason: "\(T.self): \(describe(error))")
        }
    }

    /// A decoding error as one line: the coding path and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let k, let c):
            return "\(path(c.codingPath + [k])): missing"
        @unknown default:
            return "\(error)"
        }
    }
}

/// How both backends keep an episode's or transition's evidence: its payload's JSON; the
/// episode's kind says which payload it is.
enum StoredEvidence {
    static func json(_ evidence: EpisodeEvidence) throws -> String {
        switch evidence {
        case .drift(let t): try StoredJSON.encode(t)
        case .quality(let q): try StoredJSON.encode(q)
        }
    }

    static func decode(_ json: String, kind: EpisodeKind, table: String, key: @autoclosure () -> String) throws -> EpisodeEvidence {
        switch kind {
        case .drift: .drift(try StoredJSON.decode(EpisodeTransition.self, json, table: table, key: key()))
        case .qualityDegraded: .quality(try StoredJSON.decode(QualityEvidence.self, json, table: table, key: key()))
        }
    }
}

/// A text column holding one of an enum's raw values; anything else is a corrupt record.
func storedEnum<E: RawRepresentable>(_ type: E.Type, _ text: String, column: String, table: String, key: @autoclosure () -> String) throws -> E
where E.RawValue == String {
    guard let value = E(rawValue: text) else {
        throw DriftStoreError.corruptRecord(table: table, key: key(), reason: "\(column) \"\(text)\" is not a \(E.self)")
    }
    return value
}
