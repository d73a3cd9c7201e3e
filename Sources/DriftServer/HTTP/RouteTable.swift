import HTTPTypes
import Hummingbird

/// Who may call a route. Every route declares it where it is registered (`DriftService.routes`),
/// so authorization follows the matched route, never the text of the path.
public enum RouteAccess: Sendable, Equatable, CustomStringConvertible {
    /// Probes, Prometheus and the API description: no token, ever.
    case open
    /// A bearer token holding this scope (when tokens are configured; `admin` implies the others).
    case scope(Scope)
    /// KServe's payload logger: an `ingest` token, or none at all with `kserve_without_token`
    /// (the logger cannot send an Authorization header).
    case kserveLogger

    /// The scope a token needs, nil for open routes.
    public var requiredScope: Scope? {
        switch self {
        case .open: nil
        case .scope(let s): s
        case .kserveLogger: .ingest
        }
    }

    public var description: String {
        switch self {
        case .open: "open"
        case .scope(let s): s.rawValue
        case .kserveLogger: "ingest (or none with kserve_without_token)"
        }
    }
}

/// One route of the HTTP API: what the OpenAPI document lists and the router serves.
public struct APIRoute: Sendable {
    public typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    public let method: HTTPRequest.Method
    /// Hummingbird's pattern (`/v1/models/:model`); `openAPIPath` gives `{model}`.
    public let path: String
    public let access: RouteAccess
    let handler: Handler

    init(_ method: HTTPRequest.Method, _ path: String, _ access: RouteAccess, _ handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.access = access
        self.handler = handler
    }

    /// The path as OpenAPI writes it: `:model` → `{model}`.
    public var openAPIPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            .joined(separator: "/")
    }

    /// True when `requestPath` has this route's shape (literal segments equal, parameters any
    /// non-empty segment).
    func matches(path requestPath: Substring) -> Bool {
        let pattern = path.split(separator: "/")
        let given = requestPath.split(separator: "/")
        guard pattern.count == given.count else { return false }
        return zip(pattern, given).allSatisfy { p, g in p.hasPrefix(":") || p == g }
    }
}

/// Registers every route with its authorization in front of its handler, and answers a path
/// that exists under another method with 405 and `Allow`.
struct RouteTable: Sendable {
    let routes: [APIRoute]
    let authorizer: Authorizer

    func register(on router: Router<BasicRequestContext>) {
        for route in routes {
            let authorizer = self.authorizer
            router.on(RouterPath(route.path), method: route.method) { request, context in
                try authorizer.authorize(request, route.access)
                return try await route.handler(request, context)
            }
        }
    }

    /// The methods a path is served with (for 405 answers); empty when no route has its shape.
    func methods(for path: Substring) -> [HTTPRequest.Method] {
        var out: [HTTPRequest.Method] = []
        for r in routes where r.matches(path: path) && !out.contains(r.method) {
            out.append(r.method)
            if r.method == .get && !out.contains(.head) { out.append(.head) }
        }
        return out
    }
}
