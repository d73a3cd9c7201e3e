import HTTPTypes
import Hummingbird

/// The first middleware: refuses, before anything else looks at a request, what no route
/// serves and what no body limit allows — so that a hostile request costs neither a metric
/// series (Hummingbird's metrics label every method a client invents) nor a wait for a body
/// that will never be accepted.
struct RequestGuard<Context: RequestContext>: RouterMiddleware {
    /// The methods any route serves (HEAD with every GET).
    static var servedMethods: Set<HTTPRequest.Method> { [.get, .head, .put, .post, .delete] }

    /// The largest body any route accepts (`max_baseline_bytes`).
    let largestBody: Int
    /// The methods each path is served with (the route table): another method on a served path
    /// is 405 with `Allow`, as RFC 9110 has it for a method the resource does not support.
    let methods: @Sendable (Substring) -> [HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.servedMethods.contains(request.method) else {
            let allowed = methods(request.uri.path[...])
            if !allowed.isEmpty { return Problem.methodNotAllowed(request, allowed: allowed).response }
            var p = Problem(.notImplemented, "method \(request.method) is not served: use GET, HEAD, PUT, POST or DELETE as GET /openapi.json lists")
            p.headers[.allow] = "GET, HEAD, PUT, POST, DELETE"
            return p.response
        }
        if let declared = request.headers[.contentLength] {
            // The HTTP parser checked the digits; a count past Int.max (2^63 and up) is refused
            // here rather than waited for.
            guard let length = Int(declared), length <= largestBody else {
                return Problem(.contentTooLarge, "Content-Length \(declared) is over the largest body any route accepts (\(largestBody) bytes)")
                    .closingConnection().response
            }
        }
        return try await next(request, context)
    }
}
