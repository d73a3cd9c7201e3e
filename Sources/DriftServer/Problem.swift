import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: every error the API returns is `application/problem+json` with a
/// title and a detail a person can act on.
public struct Problem: Error, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var headers: HTTPFields = [:]
    public var extra: [String: String] = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil) {
        self.status = status
        self.detail = detail
        self.title = title ?? status.reasonPhrase
    }

    public static func badRequest(_ d: String) -> Problem { Problem(.badRequest, d) }
    public static func notFound(_ d: String) -> Problem { Problem(.notFound, d) }
    public static func conflict(_ d: String) -> Problem { Problem(.conflict, d) }
    public static func unprocessable(_ d: String) -> Problem { Problem(.unprocessableContent, d) }

    public var response: Response {
        var object: [String: Any] = [
            "type": "about:blank", "title": title, "status": Int(status.code), "detail": detail,
        ]
        for (k, v) in extra { object[k] = v }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var h = headers
        h[.contentType] = "application/problem+json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error thrown by a route (and the router's own 404/405) into a problem response.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let p as Problem {
            return p.response
        } catch let e as HTTPError {
            let detail: String
            switch e.status {
            case .notFound: detail = "no route for \(request.method) \(request.uri.path)"
            case .contentTooLarge: detail = "request body is larger than the configured limit"
            default: detail = e.body ?? e.status.reasonPhrase
            }
            var p = Problem(e.status, detail)
            p.headers = e.headers
            return p.response
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string("\(error)"), "path": .string(request.uri.path)])
            return Problem(.internalServerError, "internal error: \(error)").response
        }
    }
}

func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try reportEncoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
