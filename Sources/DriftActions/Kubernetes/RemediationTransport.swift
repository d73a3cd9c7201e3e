import AsyncHTTPClient
import DriftCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// HTTP to the Kubernetes API server, Argo Server and retraining webhooks: bearer tokens read
/// at every call (projected service-account tokens rotate), the cluster CA trusted.
public final class RemediationTransport: Sendable {
    /// A base URL and the file holding its bearer token.
    public struct Endpoint: Sendable, Equatable {
        public var url: String
        public var tokenFile: String?
        public init(url: String, tokenFile: String?) {
            self.url = url
            self.tokenFile = tokenFile
        }
    }

    public let kubernetes: Endpoint?
    public let argo: Endpoint?
    let client: HTTPClient

    /// `caFile`: PEM bundle to trust (the API server's); nil = the system roots.
    public init(kubernetes: Endpoint?, caFile: String?, argo: Endpoint?) {
        self.kubernetes = kubernetes
        self.argo = argo
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        var c = OutboundHTTP.configuration()
        c.tlsConfiguration = tls
        c.timeout.read = .seconds(30)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    public func shutdown() async { try? await client.shutdown() }

    /// Performs the call; returns normally when done (2xx or an `alsoDone` status). Throws a
    /// `DeliveryError` saying whether a retry can help.
    public func perform(_ call: RemediationHTTPCall) async throws {
        let url: String
        var token: String?
        switch call.target {
        case .kubernetes:
            guard let kubernetes else { throw DeliveryError(message: "no Kubernetes access configured", retryable: false) }
            url = kubernetes.url.withoutTrailingSlash + call.path
            token = try kubernetes.tokenFile.map(readToken)
        case .argo:
            guard let argo else { throw DeliveryError(message: "no Argo configured", retryable: false) }
            url = argo.url.withoutTrailingSlash + call.path
            token = try argo.tokenFile.map(readToken)
        case .webhook:
            url = call.path
        }
        let (status, text) = try await request(call.method, url, body: call.body, token: token, contentType: call.contentType)
        if (200..<300).contains(status) || call.alsoDone.contains(status) { return }
        throw DeliveryError.http("\(call.method) \(url)", status: status, text: text)
    }

    /// GET a Kubernetes object as `T` (nil on 404). An answer that does not decode is an error.
    public func get<T: Decodable>(_ type: T.Type, path: String) async throws -> T? {
        guard let kubernetes else { return nil }
        let (status, text) = try await request("GET", kubernetes.url.withoutTrailingSlash + path, body: nil,
                                               token: try kubernetes.tokenFile.map(readToken), contentType: nil)
        if status == 404 { return nil }
        guard (200..<300).contains(status) else { throw DeliveryError(message: "GET \(path): HTTP \(status)", status: status, retryable: true) }
        return try ActionJSON.decode(type, from: text, what: "GET \(path)")
    }

    /// A retraining Job's state (running, succeeded, failed; nil = gone).
    public func jobState(namespace: String, name: String) async throws -> RemediationState? {
        try await get(JobStatusResponse.self, path: "/apis/batch/v1/namespaces/\(namespace)/jobs/\(name)")?.state
    }

    private func request(_ method: String, _ url: String, body: String?, token: String?, contentType: String?) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), String(buffer: answer))
        } catch {
            throw DeliveryError.transport("\(method) \(url)", error)
        }
    }

    private func readToken(_ path: String) throws -> String { try readBearerToken(file: path, of: "API") }
}
