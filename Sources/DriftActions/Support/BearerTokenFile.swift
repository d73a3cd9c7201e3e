import Foundation

/// A bearer token kept in a mounted file (a projected service-account token, a Secret), read at
/// every call because such tokens rotate. A file that cannot be read is a retryable delivery
/// error naming the file and why (the mount may be back at the next attempt).
func readBearerToken(file path: String, of peer: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    } catch {
        throw DeliveryError(message: "cannot read the \(peer) token file \(path): \(error.localizedDescription)", retryable: true)
    }
}
