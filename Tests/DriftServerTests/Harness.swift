import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import Logging
import ServiceLifecycle
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A live service on 127.0.0.1 and a free port, with a fresh data directory; HTTP through
/// URLSession (no AsyncHTTPClient: it would double the build).
final class LiveService: @unchecked Sendable {
    // @unchecked: `task` is set once in start() before any concurrent use and read only in stop().
    let service: DriftService
    let directory: String
    private(set) var port = 0
    private var task: Task<Void, Error>?
    private var group: ServiceGroup?

    init(configure: (inout ServerConfiguration) -> Void = { _ in }, directory: String? = nil) throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("dw-test-\(UUID().uuidString)").path
        self.directory = dir
        var cfg = ServerConfiguration()
        cfg.host = "127.0.0.1"
        cfg.port = 0
        cfg.dataDir = dir
        configure(&cfg)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        service = try DriftService(config: cfg, logger: logger)
    }

    func start() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = self.service
        try await service.restore()
        let app = service.makeApplication { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        for await p in stream {
            port = p
            break
        }
    }

    func stop() async {
        await service.drainEvaluations()
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        await service.remediation?.shutdown()
        try? service.store.close()
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts the service, runs `scenario`, and stops the service whether it passed or threw.
    func running(_ scenario: (LiveService) async throws -> Void) async throws {
        try await start()
        do { try await scenario(self) } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// Posts one window of the demo model (4 × 250 rows) and waits until window `seq` is evaluated.
    @discardableResult
    func postWindow(_ model: String, drift: Bool, gen: inout FraudDemoData, seq: Int) async throws -> [String: Any] {
        for _ in 0..<4 {
            let r = try await call("POST", "/v1/models/\(model)/observations", json: Demo.rows(250, drift: drift, gen: &gen))
            XCTAssertEqual(r.status, 202, r.text)
        }
        return try await self.drift(model, atLeast: seq)
    }

    /// Creates the demo model `fraud` with its baseline and posts one clean and two drifted
    /// windows: its episode 1 is confirmed (2 of 3 windows drifted).
    func confirmDemoEpisode() async throws {
        var r = try await call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 201, r.text)
        r = try await call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        var gen = FraudDemoData(seed: 7)
        try await postWindow("fraud", drift: false, gen: &gen, seq: 1)
        try await postWindow("fraud", drift: true, gen: &gen, seq: 2)
        try await postWindow("fraud", drift: true, gen: &gen, seq: 3)
    }

    /// Posts `batches` batches of 250 production rows and, for each row, a shadow row with the
    /// same prediction id and the score `shadowScore(productionScore, row)` (shadow first: the
    /// join works in either order).
    func postShadowPairs(_ model: String, batches: Int, gen: inout FraudDemoData, shadowScore: (Double, Int) -> Double) async throws {
        for _ in 0..<batches {
            var production: [String] = []
            var shadow: [String] = []
            for k in 0..<250 {
                var row = gen.next(drift: false)
                production.append(FraudDemoData.jsonRow(row, ts: 1_764_000_000))
                row.score = shadowScore(row.score, k)
                shadow.append(FraudDemoData.jsonRow(row, ts: 1_764_000_000).replacingOccurrences(of: #""endpoint":"production""#, with: #""endpoint":"shadow""#))
            }
            for body in [shadow, production] {
                let r = try await call("POST", "/v1/models/\(model)/observations", json: "{\"observations\":[" + body.joined(separator: ",") + "]}")
                XCTAssertEqual(r.status, 202, r.text)
            }
        }
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var data: Data
        var text: String { String(decoding: data, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
    }

    func call(_ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json",
              headers: [String: String] = [:]) async throws -> Reply {
        var r = URLRequest(url: URL(string: base + path)!)
        r.httpMethod = method
        r.httpBody = body
        if let contentType { r.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: r)
        let http = response as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h[String(describing: k).lowercased()] = String(describing: v) }
        return Reply(status: http.statusCode, headers: h, data: data)
    }

    /// The latest window report once window `seq` has been evaluated (evaluation runs in the
    /// background after the batch that fills a window is acknowledged).
    func drift(_ model: String, atLeast seq: Int) async throws -> [String: Any] {
        for _ in 0..<400 {
            let r = try await call("GET", "/v1/models/\(model)/drift")
            if let report = r.json["report"] as? [String: Any], (report["seq"] as? Int ?? 0) >= seq { return report }
            try await Task.sleep(for: .milliseconds(25))
        }
        XCTFail("window \(seq) of \(model) was not evaluated within 10 s")
        return [:]
    }

    func call(_ method: String, _ path: String, json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await call(method, path, body: Data(json.utf8), headers: headers)
    }
}

/// Asserts an RFC 9457 problem answer with a detail containing `fragment`.
func assertProblem(_ r: LiveService.Reply, _ status: Int, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, status, r.text, file: file, line: line)
    XCTAssertEqual(r.headers["content-type"], "application/problem+json", file: file, line: line)
    let detail = r.json["detail"] as? String ?? ""
    XCTAssertTrue(detail.contains(fragment), "detail \"\(detail)\" lacks \"\(fragment)\"", file: file, line: line)
    XCTAssertEqual(r.json["status"] as? Int, status, file: file, line: line)
}

enum Demo {
    static let settings = """
        {"features":[{"name":"amount","kind":"numeric"},{"name":"account_age_days","kind":"numeric"},
        {"name":"tx_last_24h","kind":"numeric"},{"name":"distance_km","kind":"numeric"},
        {"name":"merchant_category","kind":"categorical"},{"name":"country","kind":"categorical"}],
        "prediction":{"name":"score","kind":"numeric"},"window":{"rows":1000},"min_rows":200,
        "confirm":{"windows":2,"of":3},"resolve":{"clean_windows":2}}
        """

    static func baselineCSV(rows: Int = 5000, seed: UInt64 = 1) -> Data {
        var g = FraudDemoData(seed: seed, idPrefix: "b")
        var csv = FraudDemoData.csvHeader + "\n"
        for _ in 0..<rows { csv += FraudDemoData.csvLine(g.next(drift: false)) + "\n" }
        return Data(csv.utf8)
    }

    static func rows(_ n: Int, drift: Bool, gen: inout FraudDemoData, ts: Double = 1_764_000_000) -> String {
        "{\"observations\":[" + (0..<n).map { _ in FraudDemoData.jsonRow(gen.next(drift: drift), ts: ts) }.joined(separator: ",") + "]}"
    }
}
