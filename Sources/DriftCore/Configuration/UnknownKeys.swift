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

/// Refuses a settings object that holds a key `Keys` does not declare: a typo such as
/// `"psi_treshold"` would otherwise be ignored and the default used without a word. The error
/// sits at the unknown key's coding path (so its message names the full path) and suggests the
/// nearest known key: `detector.psi_treshold: unknown key; did you mean "psi_threshold"?`.
/// Call it first in `init(from:)` (or use `Decoder.strictContainer(keyedBy:)`).
///
/// While a `ConfigurationErrorCollector` is collecting, every unknown key is recorded and
/// decoding goes on; otherwise the first one (in key order) is thrown.
///
/// - Throws: `DecodingError.dataCorrupted` at the unknown key's coding path.
public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(in decoder: any Decoder, allowed: Keys.Type) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    let known = Keys.allCases.map(\.stringValue)
    let knownSet = Set(known)
    let unknown = container.allKeys.map(\.stringValue).filter { !knownSet.contains($0) }.sorted()
    for key in unknown {
        let error = DecodingError.dataCorrupted(DecodingError.Context(
            codingPath: decoder.codingPath + [AnyCodingKey(key)],
            debugDescription: unknownKeyMessage(key, known: known)))
        guard let collector = ConfigurationErrorCollector.current else { throw error }
        collector.record(error)
    }
}

/// `unknown key; did you mean "gpus"?`, or the keys allowed when none is near.
func unknownKeyMessage(_ key: String, known: [String]) -> String {
    if let near = nearestName(to: key, in: known) { return "unknown key; did you mean \"\(near)\"?" }
    let list = known.map { "\"\($0)\"" }.joined(separator: ", ")
    return known.isEmpty ? "unknown key; this object takes no keys" : "unknown key; the keys allowed here are \(list)"
}

/// The candidate nearest to `name` by edit distance (Levenshtein, case-insensitive) when it is
/// near enough to be a typo — at most 2 edits, or a third of the name — or a candidate that
/// starts with `name` (`resend` → `resend_seconds`); nil otherwise.
public func nearestName(to name: String, in candidates: [String]) -> String? {
    let lowered = name.lowercased()
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(lowered, candidate.lowercased())
        if best.map({ d < $0.distance }) ?? true { best = (candidate, d) }
    }
    if let best, best.distance <= max(2, name.count / 3) { return best.name }
    if name.count >= 3, let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(lowered) }) { return prefixed }
    return nil
}

/// Levenshtein distance between two strings (by Unicode scalar).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}
