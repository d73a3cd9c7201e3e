import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import XCTest

/// The crafted cases of issue 14's "What was found": each must get a clear 4xx answer
/// (problem+json), cost bounded memory and time, and leave what was stored before intact.
final class HostileInputTests: XCTestCase {
    /// A service with the demo model and its baseline, tight body timeouts and few ingest slots.
    private func withDemoModel(_ configure: @escaping (inout ServerConfiguration) -> Void = { _ in },
                               _ scenario: (LiveService) async throws -> Void) async throws {
        let s = try LiveService {
            $0.bodyIdleSeconds = 1
            $0.bodyTimeoutSeconds = 3
            $0.maxInflightIngest = 4
            configure(&$0)
        }
        try await s.running { s in
            var r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
            XCTAssertEqual(r.status, 201, r.text)
            r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 2000), contentType: "text/csv")
            XCTAssertEqual(r.status, 201, r.text)
            try await scenario(s)
        }
    }

    private func stored(_ s: LiveService) async throws -> Int {
        try await s.call("GET", "/v1/models/fraud").json["observations_stored"] as? Int ?? -1
    }

    func testADeclaredCountWithNoDataBehindItIsRefused() async throws {
        try await withDemoModel { s in
            var gen = FraudDemoData(seed: 3, idPrefix: "p")
            let first = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen))
            XCTAssertEqual(first.status, 202)
            // count = 1,000,000 (field 1, varint) and nothing else: four bytes.
            let r = try await s.call("POST", "/v1/models/fraud/observations", body: Data([0x08, 0xC0, 0x84, 0x3D]), contentType: "application/x-protobuf")
            assertProblem(r, 400, "count says 1000000 rows but no per-row field")
            let after = try await stored(s)
            XCTAssertEqual(after, 100, "nothing was stored for the empty claim")
        }
    }

    func testRowLimitsPerRequest() async throws {
        try await withDemoModel({ $0.maxRowsPerRequest = 100; $0.maxLabelRows = 10 }) { s in
            var gen = FraudDemoData(seed: 4, idPrefix: "p")
            assertProblem(try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(101, drift: false, gen: &gen)), 413, "the limit is 100 (max_rows_per_request)")
            let ok = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(100, drift: false, gen: &gen))
            XCTAssertEqual(ok.status, 202)
        }
    }

    func testSlowBodiesHoldNoIngestSlotAndAreTimedOut() async throws {
        try await withDemoModel { s in
            // Twice as many stalled senders as there are ingest slots: headers and one byte.
            var slow: [RawConnection] = []
            for _ in 0..<8 {
                let c = try RawConnection(port: s.port)
                try await c.send("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{")
                slow.append(c)
            }
            try await Task.sleep(for: .milliseconds(200))
            var gen = FraudDemoData(seed: 5, idPrefix: "p")
            for _ in 0..<6 {
                let r = try await s.call("POST", "/v1/models/fraud/observations", json: Demo.rows(50, drift: false, gen: &gen))
                XCTAssertEqual(r.status, 202, "a working sender is not starved by stalled ones: \(r.text)")
            }
            // Each stalled sender gets 408 within body_idle_seconds (1 s) and its connection closed.
            let started = Date()
            for c in slow {
                guard let r = try await c.readResponse() else { return XCTFail("closed without an answer") }
                XCTAssertEqual(r.status, 408, r.text)
                XCTAssertTrue(r.problemDetail?.contains("body_idle_seconds") ?? false, r.text)
                XCTAssertEqual(r.headers["connection"], "close")
                let closed = try await c.isClosedByServer()
                XCTAssertTrue(closed)
            }
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)
            let n = try await stored(s)
            XCTAssertEqual(n, 300)
        }
    }

    func testABodyThatTrickles() async throws {
        try await withDemoModel { s in
            // A byte every 0.5 s never trips the idle timeout, but the whole body has a deadline (3 s).
            let c = try RawConnection(port: s.port)
            try await c.send("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            let started = Date()
            var answered: RawResponse?
            let reader = Task { try await c.readResponse() }
            for _ in 0..<12 {
                try? await c.send(" ")
                try await Task.sleep(for: .milliseconds(500))
            }
            answered = try await reader.value
            XCTAssertEqual(answered?.status, 408, answered?.text ?? "closed")
            XCTAssertTrue(answered?.problemDetail?.contains("body_timeout_seconds") ?? false)
            XCTAssertLessThan(Date().timeIntervalSince(started), 7)
        }
    }

    func testAbsurdAndConflictingFramingIsAProblemAnsweredAtOnce() async throws {
        try await withDemoModel { s in
            // 2^63: past Int.max; refused before any body byte is read.
            var c = try RawConnection(port: s.port)
            try await c.send("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9223372036854775808\r\n\r\n")
            var r = try await c.readResponse()
            XCTAssertEqual(r?.status, 413, r?.text ?? "closed")
            XCTAssertTrue(r?.problemDetail?.contains("9223372036854775808") ?? false, r?.text ?? "")
            var closed = try await c.isClosedByServer()
            XCTAssertTrue(closed)

            // Over max_body_bytes but under the baseline limit: refused by the route, unread.
            c = try RawConnection(port: s.port)
            try await c.send("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{")
            r = try await c.readResponse()
            XCTAssertEqual(r?.status, 413, r?.text ?? "closed")
            closed = try await c.isClosedByServer()
            XCTAssertTrue(closed)

            let framing: [(String, Int, String)] = [
                ("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}", 400, "Content-Length"),
                ("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
                ("GET /v1/models/" + String(repeating: "a", count: 1 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431, "URL"),
                ("GET /v1/models HTTP/1.1\r\nHost: x\r\n" + (0..<2000).map { "X-H\($0): v\r\n" }.joined() + "\r\n", 431, "header"),
                ("POST /v1/models/fraud/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n", 400, "chunk"),
                ("BREW /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"),
                ("OPTIONS /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 405, "served with GET, HEAD"),
                ("TRACE /v1/models/fraud HTTP/1.1\r\nHost: x\r\n\r\n", 405, "served with PUT, GET, HEAD, DELETE"),
                ("OPTIONS /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not served"),
            ]
            for (request, status, fragment) in framing {
                let c = try RawConnection(port: s.port)
                try? await c.send(request)
                let r = try await c.readResponse()
                let what = String(request.prefix(120)).replacingOccurrences(of: "\r\n", with: " | ")
                XCTAssertEqual(r?.status, status, "\(what): \(r?.text ?? "closed without an answer")")
                XCTAssertEqual(r?.headers["content-type"], "application/problem+json", what)
                XCTAssertTrue(r?.problemDetail?.contains(fragment) ?? false, "\(what): \(r?.text ?? "")")
            }
            let n = try await stored(s)
            XCTAssertEqual(n, 0)
            let health = try await s.call("GET", "/healthz", contentType: nil)
            XCTAssertEqual(health.status, 200, "still serving")
        }
    }

    func testHeadOnEveryGetRoute() async throws {
        try await withDemoModel { s in
            let c = try RawConnection(port: s.port)
            for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/models", "/v1/models/fraud", "/v1/models/fraud/drift", "/models/fraud", "/"] {
                guard let get = try await c.request("GET", path), let head = try await c.request("HEAD", path) else { return XCTFail("\(path): closed") }
                XCTAssertEqual(head.status, get.status, path)
                XCTAssertTrue(head.body.isEmpty, path)
                XCTAssertEqual(head.headers["content-type"], get.headers["content-type"], path)
            }
            // HEAD on a POST-only route is a 405 that says what is served.
            let r = try await c.request("HEAD", "/v1/models/fraud/observations")
            XCTAssertEqual(r?.status, 405)
            XCTAssertEqual(r?.headers["allow"], "POST")
        }
    }

    func testNamesThatArePathSegmentsOrOptionsAreRefused() async throws {
        try await withDemoModel { s in
            let c = try RawConnection(port: s.port)
            for name in [".", "..", "-", "-x", ".hidden", "_x"] {
                let r = try await c.request("PUT", "/v1/models/\(name)", headers: ["Content-Type": "application/json"], body: Array(Demo.settings.utf8))
                XCTAssertTrue([400, 404].contains(r?.status ?? 0), "\(name): \(r?.text ?? "closed")")
                if r?.status == 400 { XCTAssertTrue(r?.problemDetail?.contains("must match") ?? false, r?.text ?? "") }
            }
            let models = try await s.call("GET", "/v1/models").json["models"] as? [[String: Any]]
            XCTAssertEqual(models?.count, 1)
        }
    }

    func testUnknownFeatureNamesAreBoundedAcrossBatches() async throws {
        try await withDemoModel { s in
            for batch in 0..<40 {
                let unknown = (0..<50).map { "\"junk_\(batch)_\($0)\":1" }.joined(separator: ",")
                let body = #"{"observations":[{"features":{"amount":1,"country":"DE",\#(unknown)},"prediction":0.5}]}"#
                let r = try await s.call("POST", "/v1/models/fraud/observations", json: body)
                XCTAssertEqual(r.status, 202, r.text)
            }
            let metrics = try await s.call("GET", "/metrics", contentType: nil).text
            let series = metrics.split(separator: "\n").filter { $0.hasPrefix("driftwatch_data_quality_violations_total{") && $0.contains("check=\"unknown_feature\"") }
            XCTAssertLessThanOrEqual(series.count, DriftMetrics.senderLabelValuesPerModel + 1, "2,000 names, bounded")
            XCTAssertTrue(series.contains { $0.contains("feature=\"_other\"") })
        }
    }

    func testBodiesDecodedByFoundationSayWhereTheyAreWrong() async throws {
        try await withDemoModel({ $0.remediation = nil }) { s in
            assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}],"detector":{"psi_treshold":0.2}}"#),
                          400, #"model settings: detector.psi_treshold: unknown key; did you mean "psi_threshold"?"#)
            assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"}], "windoww":{}}"#), 400, #"windoww: unknown key; did you mean "window"?"#)
            assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":"numeric"},]}"#), 400, "at byte")
            assertProblem(try await s.call("PUT", "/v1/models/x", json: #"{"features":[{"name":"a","kind":3}]}"#), 400, "features[0].kind")
            assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2"}"#), 400, "model_uri")
            assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2","model_uri":"s3://m", "extra":1}"#), 400, #"extra: unknown key; the keys allowed here are "version", "model_uri", "metrics", "mlflow_version""#)
            assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2",,}"#), 400, "at byte")
        }
    }
}
