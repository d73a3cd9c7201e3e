import Foundation

/// The service's JSON encoder: sorted keys and unescaped slashes, so the same value is the
/// same bytes (reports, outbox payloads, answers). A fresh encoder per use: JSONEncoder is a
/// class, not shared across tasks.
var reportEncoder: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
}
