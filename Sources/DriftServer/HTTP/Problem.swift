import DriftCore
import DriftIngest
import DriftStore
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

    public init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil) {
        self.status = status
        self.detail = detail
        self.title = title ?? status.reasonPhrase
    }

    public static func badRequest(_ d: String) -> Problem { Problem(.badRequest, d) }
    public static func notFound(_ d: String) -> Problem { Problem(.notFound, d) }
    public static func conflict(_ d: String) -> Problem { Problem(.conflict, d) }
    public static func unprocessable(_ d: String) -> Problem { Problem(.unprocessableContent, d) }

    /// 405 for a path served under other methods, with `Allow` listing them (RFC 9110).
    static func methodNotAllowed(_ request: Request, allowed: [HTTPRequest.Method]) -> Problem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        var p = Problem(.methodNotAllowed, "\(request.uri.path) is served with \(list), not \(request.method)")
        p.headers[.allow] = list
        return p
    }

    /// This problem, and the connection closed after the answer: for bodies refused unread
    /// (too large, too slow), which must not be drained (HTTPErrorHandler closes it).
    public func closingConnection() -> Problem {
        var p = self
        p.headers[.connection] = "close"
        return p
    }

    /// The RFC 9457 document.
    struct Document: Codable, Equatable {
        var type: String
        var title: String
        var status: Int
        var detail: String
    }

    var body: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Four strings and an integer always encode.
        let document = Document(type: "about:blank", title: title, status: Int(status.code), detail: detail)
        return (try? encoder.encode(document)).map(Array.init) ?? Array("{\"status\":\(status.code)}".utf8)
    }

    public var response: Response {
        let bytes = body
        var h = headers
        h[.contentType] = "application/problem+json"
        h[.contentLength] = String(bytes.count)
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Turns every error thrown by a route (and the router's own 404) into a problem response; a
/// path served under other methods answers 405 with `Allow`.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each path is served with (the route table), for 405 answers.
    let methods: @Sendable (Substring) -> [HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let p as Problem {
            return p.response
        } catch DriftStoreError.unavailable(let fault, let message) {
            return Problem.storeUnavailable(fault, message: message).response
        } catch DriftStoreError.fenced(let message) {
            // This process is stepping down; the replica that took over answers the retry.
            var p = Problem(.serviceUnavailable, "\(message); retry: another driftwatch serves this database now")
            p.headers[.retryAfter] = "2"
            return p.response
        } catch DriftStoreError.unknownModel(let name) {
            // The model was deleted while this request was being handled (a DELETE racing it).
            return Problem.notFound("no model named \"\(name)\": it was deleted while this request was being handled; create it with PUT /v1/models/\(name)").response
        } catch let e as HTTPError {
            var p: Problem
            switch e.status {
            case .notFound:
                let allowed = methods(request.uri.path[...])
                if allowed.isEmpty {
                    p = Problem(.notFound, "no route for \(request.method) \(request.uri.path): see GET /openapi.json for the API")
                } else {
                    p = Problem.methodNotAllowed(request, allowed: allowed)
                }
            case .contentTooLarge: p = Problem(e.status, "request body is larger than the configured limit")
            default: p = Problem(e.status, e.body ?? e.status.reasonPhrase)
            }
            for field in e.headers where p.headers[field.name] == nil { p.headers[field.name] = field.value }
            return p.response
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string("\(error)"), "path": .string(request.uri.path)])
            return Problem(.internalServerError, "internal error: \(error)").response
        }
    }
}

func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try reportEncoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json", .contentLength: String(data.count)],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension Problem {
    /// The answer to a body that could not be decoded: 413 when it holds more rows than one
    /// request may (split it), else 400; `what` names the body ("labels", "KServe request body").
    init(_ error: IngestDecodingError, what: String? = nil) {
        let detail = what.map { "\($0): \(error.message)" } ?? error.message
        switch error.kind {
        case .malformed: self.init(.badRequest, detail)
        case .tooManyRows: self.init(.contentTooLarge, detail)
        }
    }
}

/// Decodes a JSON settings-like body (model settings, candidates) into its type. A syntax
/// error names its byte offset, a type or key error its field (`detector.alpha: expected Double`),
/// a validation error its rule; all are 400/422 problems that say what to change.
func decodeJSONBody<T: Decodable>(_ type: T.Type, _ body: [UInt8], what: String) throws -> T {
    do {
        try checkJSONSyntax(body)
    } catch {
        throw Problem.badRequest("\(what): \(error.message)")
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(body))
    } catch let e as DecodingError {
        throw Problem.badRequest("\(what): \(describe(e))")
    } catch let e as ConfigError {
        throw Problem.unprocessable("\(what): \(e.message)")
    }
}

extension Problem {
    /// Seconds a client waits before retrying a request the store could not take.
    static let storeRetryAfterSeconds = 10

    /// 503 for a store that cannot work now: the cause, what to do, and that nothing of the
    /// request was kept, with `Retry-After` (a retry of the same request is safe).
    static func storeUnavailable(_ fault: StoreFault, message: String) -> Problem {
        var p = Problem(.serviceUnavailable,
                        "the store cannot write (\(fault.rawValue): \(message)): nothing of this request was stored; retry after \(storeRetryAfterSeconds) s. Operator: \(fault.remedy)")
        p.headers[.retryAfter] = String(storeRetryAfterSeconds)
        return p
    }
}
