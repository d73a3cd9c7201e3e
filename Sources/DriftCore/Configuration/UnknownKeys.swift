/// A coding key for whatever key a document holds, to list the keys a type does not know.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Refuses a settings object that holds a key `Keys` does not declare, naming the key and
/// the keys that are allowed: a typo such as `"psi_treshold"` would otherwise be ignored and
/// the default used without a word. Call it first in `init(from:)`.
///
/// - Throws: `DecodingError.dataCorrupted` at the unknown key's coding path.
public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(in decoder: any Decoder, allowed: Keys.Type) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    let known = Set(Keys.allCases.map(\.stringValue))
    let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    guard let first = unknown.first else { return }
    let allowedList = Keys.allCases.map { "\"\($0.stringValue)\"" }.joined(separator: ", ")
    throw DecodingError.dataCorrupted(DecodingError.Context(
        codingPath: decoder.codingPath + [AnyCodingKey(first)],
        debugDescription: "unknown key \"\(first)\"; the keys allowed here are \(allowedList)"))
}
