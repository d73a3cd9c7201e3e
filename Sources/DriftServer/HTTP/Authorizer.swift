import Foundation
import HTTPTypes
import Hummingbird

/// What a bearer token may do.
public enum Scope: String, Sendable, CaseIterable {
    /// post observations, KServe events and labels
    case ingest
    /// GET the API
    case read
    /// create/delete models, upload baselines, force evaluation (implies read and ingest)
    case admin
}

/// Bearer tokens and their scopes, from a file of lines `TOKEN scope[,scope…]` (`#` comments).
public struct TokenTable: Sendable {
    private let entries: [(token: [UInt8], scopes: Set<Scope>)]

    public var isEmpty: Bool { entries.isEmpty }

    public init(entries: [(String, Set<Scope>)] = []) {
        self.entries = entries.map { (Array($0.0.utf8), $0.1) }
    }

    public init(file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ServerConfigError(message: "\(file): cannot read the tokens file")
        }
        var parsed: [(String, Set<Scope>)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2 else { throw ServerConfigError(message: "\(file):\(n + 1): expected `TOKEN scope[,scope…]`") }
            guard parts[0].utf8.count >= 16 else { throw ServerConfigError(message: "\(file):\(n + 1): token shorter than 16 characters") }
            var scopes = Set<Scope>()
            for s in parts[1].split(separator: ",") {
                guard let scope = Scope(rawValue: String(s)) else {
                    throw ServerConfigError(message: "\(file):\(n + 1): unknown scope \"\(s)\" (ingest, read, admin)")
                }
                scopes.insert(scope)
            }
            parsed.append((String(parts[0]), scopes))
        }
        self.init(entries: parsed)
    }

    /// Scopes of a presented token. Compares against every entry in constant time per byte,
    /// so timing says nothing about how much of a token matched.
    public func scopes(for presented: String) -> Set<Scope>? {
        let p = Array(presented.utf8)
        var found: Set<Scope>?
        for e in entries {
            var diff = UInt8(e.token.count == p.count ? 0 : 1)
            for i in 0..<e.token.count { diff |= e.token[i] ^ (i < p.count ? p[i] : 0) }
            if diff == 0 { found = e.scopes }
        }
        if var f = found, f.contains(.admin) { f.formUnion([.read, .ingest]); found = f }
        return found
    }
}

/// A server configuration that cannot be used (or could not be read), in words: what to change.
public struct ServerConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Checks a request's bearer token against the access its matched route declares.
/// With no tokens configured every route is open (the service then listens on loopback only,
/// unless `--insecure`).
struct Authorizer: Sendable {
    let tokens: TokenTable
    /// `kserve_without_token`: KServe's payload logger sends no Authorization header.
    var kserveWithoutToken = false

    func authorize(_ request: Request, _ access: RouteAccess) throws {
        guard !tokens.isEmpty, let needed = access.requiredScope else { return }
        if access == .kserveLogger && kserveWithoutToken { return }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            var p = Problem(.unauthorized, "this route needs a bearer token with scope \"\(needed.rawValue)\" (Authorization: Bearer TOKEN)")
            p.headers[.wwwAuthenticate] = "Bearer"
            throw p
        }
        guard let scopes = tokens.scopes(for: String(header.dropFirst(7))) else {
            var p = Problem(.unauthorized, "unknown bearer token: use a token from the tokens file")
            p.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            throw p
        }
        guard scopes.contains(needed) else {
            throw Problem(.forbidden, "the token lacks scope \"\(needed.rawValue)\" for \(request.method) \(request.uri.path): use a token with that scope")
        }
    }
}
