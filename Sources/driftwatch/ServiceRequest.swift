import DriftCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request from the CLI to a running driftwatch service: the bearer token (`--token`, else
/// DRIFTWATCH_TOKEN), the answer's status and body, and one-line errors. AsyncHTTPClient retries
/// a refused connection until `timeout`, so a short one for reads a person waits on.
func requestService(_ method: HTTPMethod, url: String, server: String, token: String?, body: ByteBuffer? = nil,
                    contentType: String? = nil, timeout: TimeAmount) async throws -> (status: UInt, data: Data) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    if let t = token ?? ProcessInfo.processInfo.environment["DRIFTWATCH_TOKEN"] { request.headers.add(name: "Authorization", value: "Bearer \(t)") }
    if let body { request.body = .bytes(body) }
    do {
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let answer = try await response.body.collect(upTo: 64 << 20)
        return (response.status.code, Data(buffer: answer))
    } catch {
        throw UserFacingError(message: "cannot reach \(server): \(error)")
    }
}

/// The one-line error for an unexpected status, with the problem+json `detail` when there is one.
func serviceError(url: String, status: UInt, data: Data) -> UserFacingError {
    /// The part of a problem+json body the message shows.
    struct Problem: Decodable { var detail: String? }
    // Not every error body is problem+json (a proxy's page): then its first line.
    let body = ErrorBody<Problem>(data)
    let detail = body.structured?.detail
        ?? body.text?.split(whereSeparator: \.isNewline).first.map { String($0.prefix(200)) }
    return UserFacingError(message: "\(url): HTTP \(status)\(detail.map { ": " + $0 } ?? "")")
}

/// A service answer for a command with `--format table|json`: with json the body is printed as
/// it came and nil returned; otherwise it is decoded as `T` (an answer that does not decode is a
/// one-line error naming the URL).
func decodeServiceAnswer<T: Decodable>(_ type: T.Type, data: Data, url: String, format: String) throws -> T? {
    if format == "json" {
        FileHandle.standardOutput.write(data)
        print()
        return nil
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw UserFacingError(message: "\(url): unreadable answer: \(error)")
    }
}
