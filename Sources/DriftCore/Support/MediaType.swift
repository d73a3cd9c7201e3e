import Foundation

/// The media type of a Content-Type header value: before any `;` parameters, trimmed,
/// lowercased (`"Application/JSON; charset=utf-8"` → `"application/json"`).
public func mediaType(of contentType: String) -> String {
    let head = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    return head.trimmingCharacters(in: .whitespaces).lowercased()
}
