import DriftStore
import Foundation

/// An outbox payload that does not decode as the type its kind promises.
struct CorruptActionPayload: Error, CustomStringConvertible {
    var key: String
    var reason: String
    var description: String { "outbox action \(key): payload does not decode: \(reason)" }
}

/// The JSON an outbox action keeps (sorted keys: the same decision is the same bytes).
func encodeStoredAction<T: Encodable>(_ payload: T) throws -> String {
    String(decoding: try reportEncoder.encode(payload), as: UTF8.self)
}

/// An action's payload as its type; a payload that does not decode is an error naming the action.
func decodeStoredAction<T: Decodable>(_ type: T.Type, _ action: ActionRecord) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(action.payloadJSON.utf8))
    } catch {
        throw CorruptActionPayload(key: action.key, reason: "\(error)")
    }
}
