import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Sits between the HTTP/1 codec and Hummingbird's request handling and does two things
/// Hummingbird leaves out:
///
/// 1. A request the HTTP parser refuses before it becomes a request — conflicting
///    `Content-Length`s, `Content-Length` with `Transfer-Encoding: chunked`, a 1 MB URL, too
///    many headers, a bad method — gets an `application/problem+json` answer that says what was
///    wrong (Hummingbird writes an empty 400), then the connection is closed. An error in the
///    middle of a body (a bad chunk size) is passed on: the route reading the body answers it
///    (`BodyReader`), and the connection closes after that answer.
/// 2. A response whose head says `Connection: close` closes the connection once written: a
///    body that was refused unread (too large, too slow) must not be drained for minutes.
final class HTTPErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Heads read whose response's end has not been written yet.
    private var responsesOwed = 0
    /// A request's head was read and its end not yet.
    private var readingRequest = false
    private var closeAfterResponse = false
    /// A parse error seen while an earlier response was still being written: answered after it.
    private var deferredProblem: Problem?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            responsesOwed += 1
            readingRequest = true
        case .body: break
        case .end: readingRequest = false
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let problem = Self.problem(for: error) else {
            context.fireErrorCaught(error)
            return
        }
        if readingRequest {
            // The route is reading this body: let it see the error and answer; close after.
            closeAfterResponse = true
            context.fireErrorCaught(error)
            return
        }
        if responsesOwed > 0 {
            deferredProblem = problem
            closeAfterResponse = true
            return
        }
        write(problem, context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responsesOwed = Swift.max(0, responsesOwed - 1)
            guard responsesOwed == 0 else {
                context.write(data, promise: promise)
                return
            }
            if let problem = deferredProblem {
                deferredProblem = nil
                context.write(data, promise: promise)
                write(problem, context: context)
            } else if closeAfterResponse {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
            } else {
                context.write(data, promise: promise)
            }
        }
    }

    /// Writes a problem answer on a connection whose input can no longer be trusted, and closes it.
    private func write(_ problem: Problem, context: ChannelHandlerContext) {
        let body = problem.body
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        let head = HTTPResponse(status: problem.status, headerFields: fields)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    /// The answer to a request the HTTP parser refused; nil for errors that are not about the
    /// request's framing (those go on to Hummingbird).
    static func problem(for error: any Error) -> Problem? {
        guard let e = error as? HTTPParserError else { return nil }
        switch e {
        case .headerOverflow:
            return Problem(.init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                           "the request line or headers are too large (at most 80 KiB of headers, 1,000 header fields, and a URL within them): send fewer or shorter headers and a shorter URL")
        case .unexpectedContentLength:
            return Problem(.badRequest, "the request has both Content-Length and Transfer-Encoding, or several Content-Length headers that disagree: send exactly one of them")
        case .invalidContentLength:
            return Problem(.badRequest, "Content-Length must be a decimal number of bytes")
        case .invalidChunkSize:
            return Problem(.badRequest, "the chunked body is malformed (a chunk size is not hexadecimal digits): fix the Transfer-Encoding: chunked framing")
        case .invalidMethod:
            return Problem(.badRequest, "the request method is not a valid HTTP method token")
        case .invalidURL:
            return Problem(.badRequest, "the request target is not a valid URL path")
        case .invalidVersion:
            return Problem(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served")
        default:
            // The parser does not always say which rule broke (`unknown` for Content-Length
            // beside Transfer-Encoding): name the usual causes.
            return Problem(.badRequest, "the request is not valid HTTP/1.1 (\(e.debugDescription)): check the request line, the header syntax and the framing (one Content-Length, or Transfer-Encoding: chunked, not both)")
        }
    }
}
