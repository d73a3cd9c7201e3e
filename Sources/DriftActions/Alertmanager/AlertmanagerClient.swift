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

    /// What one member made of a post.
    enum MemberOutcome: Sendable {
        case accepted
        /// It answered with an error status (the line says which).
        case answered(status: Int, String)
        /// No HTTP answer (refused, reset, timed out).
        case unreachable(String)
    }

    /// Throws a `DeliveryError` listing every member's failure when none accepted: `unreachable`
    /// when no member answered at all, not retryable when every member refused the alert with
    /// a status no retry fixes (a 400: the alert itself is invalid).
    public func post(_ alerts: [PostableAlert]) async throws {
        let body = try ActionJSON.wireEncoder.encode(alerts)
        let timeout = timeoutSeconds
        let outcomes = await withTaskGroup(of: MemberOutcome.self) { group in
            for base in urls {
                group.addTask { await Self.postOne(base: base, body: body, timeout: timeout) }
            }
            var results: [MemberOutcome] = []
            for await r in group { results.append(r) }
            return results
        }
        var answered: [String] = []
        var unreachable: [String] = []
        var retryable = false
        var status: Int?
        for outcome in outcomes {
            switch outcome {
            case .accepted: return
            case .answered(let code, let line):
                answered.append(line)
                status = code
                retryable = retryable || DeliveryError.isRetryable(status: code)
            case .unreachable(let line):
                unreachable.append(line)
                retryable = true
            }
        }
        throw DeliveryError(message: (answered + unreachable).sorted().joined(separator: "; "), status: status,
                            retryable: retryable, unreachable: answered.isEmpty)
    }

    private static func postOne(base: String, body: Data, timeout: Double) async -> MemberOutcome {
        let url = base.withoutTrailingSlash + "/api/v2/alerts"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "driftwatch/\(driftwatchVersion)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await OutboundHTTP.client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let answer = try await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else {
                let text = String(buffer: answer).prefix(200).replacingOccurrences(of: "\n", with: " ")
                return .answered(status: Int(response.status.code), "\(url): HTTP \(response.status.code) \(text)")
            }
            return .accepted
        } catch {
            return .unreachable("\(url): \(error)")
        }
    }
}
