import AsyncHTTPClient
import DriftCore
import Foundation
import NIOCore
import NIOHTTP1

/// Posts alerts to every configured Alertmanager (`POST /api/v2/alerts`). An HA pair does not
/// share alerts between its members (gossip carries silences and the notification log), so
/// each member gets every alert; one member accepting is a delivery.
public struct AlertmanagerClient: Sendable {
    public let urls: [String]
    public let timeoutSeconds: Double

    public init(urls: [String], timeoutSeconds: Double) {
        self.urls = urls
        self.timeoutSeconds = timeoutSeconds
    }

    /// Throws a (retryable) `DeliveryError` listing every member's failure when none accepted.
    public func post(_ alerts: [PostableAlert]) async throws {
        let body = try ActionJSON.wireEncoder.encode(alerts)
        let timeout = timeoutSeconds
        let outcomes = await withTaskGroup(of: String?.self) { group in
            for base in urls {
                group.addTask { await Self.postOne(base: base, body: body, timeout: timeout) }
            }
            var results: [String?] = []
            for await r in group { results.append(r) }
            return results
        }
        if outcomes.contains(where: { $0 == nil }) { return }
        throw DeliveryError(message: outcomes.compactMap { $0 }.sorted().joined(separator: "; "), retryable: true)
    }

    /// nil on success, else what went wrong (one line).
    private static func postOne(base: String, body: Data, timeout: Double) async -> String? {
        let url = base.withoutTrailingSlash + "/api/v2/alerts"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "driftwatch/\(driftwatchVersion)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let answer = try await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else {
                let text = String(buffer: answer).prefix(200).replacingOccurrences(of: "\n", with: " ")
                return "\(url): HTTP \(response.status.code) \(text)"
            }
            return nil
        } catch {
            return "\(url): \(error)"
        }
    }
}
