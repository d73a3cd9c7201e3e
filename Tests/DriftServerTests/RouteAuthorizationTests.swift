import DriftCore
@testable import DriftServer
import Foundation
import HTTPTypes
import XCTest

/// Authorization follows the matched route: every route of the table × every method × no,
/// unknown, ingest, read and admin tokens. A route is added to the table with its access or
/// not at all, so a new route is walked here without anyone listing it.
final class RouteAuthorizationTests: XCTestCase {
    static let tokens: [(name: String, token: String, scopes: Set<Scope>)] = [
        ("ingest", "ingest-token-0123456789", [.ingest]),
        ("read", "read-token-0123456789ab", [.read]),
        ("admin", "admin-token-0123456789a", [.admin, .read, .ingest]),
    ]

    static func tokensFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-tokens-\(UUID().uuidString)").path
        let text = tokens.map { "\($0.token) \($0.name)" }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testEveryRouteTimesEveryTokenTimesEveryMethod() async throws {
        try await walk(kserveWithoutToken: false)
    }

    func testKServeWithoutTokenOpensOnlyTheKServeRoute() async throws {
        try await walk(kserveWithoutToken: true)
    }

    private func walk(kserveWithoutToken: Bool) async throws {
        let file = try Self.tokensFile()
        let s = try LiveService { $0.tokensFile = file; $0.kserveWithoutToken = kserveWithoutToken }
        try await s.running { s in
            let routes = s.service.routeTable.routes
            XCTAssertGreaterThanOrEqual(routes.count, 23, "the whole API is in the table")
            let conn = try RawConnection(port: s.port)
            var checked = 0
            let methods: [HTTPRequest.Method] = [.get, .head, .put, .post, .delete]
            var seenPaths = Set<String>()
            for route in routes where seenPaths.insert(route.path).inserted {
                let path = route.path.replacingOccurrences(of: ":model", with: "walk").replacingOccurrences(of: ":episode", with: "1")
                let served = routes.filter { $0.path == route.path }
                for method in methods {
                    let owner = served.first { $0.method == method || ($0.method == .get && method == .head) }
                    let presented: [(String, String?, Set<Scope>?)] = [("no token", nil, nil), ("unknown token", "not-a-token-0123456789", nil)]
                        + Self.tokens.map { ($0.name, $0.token, $0.scopes) }
                    for (label, token, scopes) in presented {
                        var headers: [String: String] = ["Content-Type": "application/json"]
                        if let token { headers["Authorization"] = "Bearer \(token)" }
                        guard let r = try await conn.request(method.rawValue, path, headers: headers, body: Array("{}".utf8)) else {
                            return XCTFail("\(method) \(path) with \(label): connection closed without an answer")
                        }
                        checked += 1
                        let what = "\(method) \(path) with \(label) → \(r.status) \(r.text)"
                        guard let owner else {
                            XCTAssertEqual(r.status, 405, what)
                            XCTAssertNotNil(r.headers["allow"], what)
                            continue
                        }
                        if method != .head { XCTAssertEqual(r.headers["content-type"]?.hasPrefix("application/problem+json"), r.status >= 400, what) }
                        switch owner.access {
                        case .open:
                            XCTAssertFalse([401, 403].contains(r.status), what)
                        case .kserveLogger where kserveWithoutToken:
                            XCTAssertFalse([401, 403].contains(r.status), what)
                        case .scope, .kserveLogger:
                            let needed = owner.access.requiredScope ?? .admin
                            switch scopes {
                            case nil: XCTAssertEqual(r.status, 401, what)
                            case let granted? where granted.contains(needed): XCTAssertFalse([401, 403].contains(r.status), what)
                            case _?: XCTAssertEqual(r.status, 403, what)
                            }
                        }
                    }
                }
            }
            // The attack that started this: an ingest token on paths whose last segment looks
            // like an ingest route.
            let ingest = ["Authorization": "Bearer ingest-token-0123456789", "Content-Type": "application/json"]
            for (method, path) in [("PUT", "/v1/models/observations"), ("DELETE", "/v1/models/labels"), ("PUT", "/v1/models/candidates")] {
                let r = try await conn.request(method, path, headers: ingest, body: Array(Demo.settings.utf8))
                XCTAssertEqual(r?.status, 403, "\(method) \(path) with an ingest token: \(r?.text ?? "closed")")
            }
            XCTAssertGreaterThan(checked, 400)
        }
    }
}
