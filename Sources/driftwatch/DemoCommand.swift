import DriftSimulation
import ArgumentParser
import DriftCore
import DriftServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the service with a demo fraud model: a baseline, then a live stream that drifts.",
        discussion: """
            Starts `driftwatch serve` in this process, creates model `fraud-demo` through the HTTP API \
            (baseline of 20,000 transactions), then streams 1,000 observations/s: clean for ~10 windows, \
            drifted (larger amounts, a new country, higher scores) for ~10, clean again — so the episode goes \
            ok → suspected → confirmed → resolved within a minute. The service keeps running afterwards: \
            try /metrics and /v1/models/fraud-demo/drift. Ctrl-C stops it.
            """
    )

    @Option var host = "127.0.0.1"
    @Option var port = 8080
    @Option(name: .customLong("data-dir")) var dataDir = "./driftwatch-demo-data"
    @Flag(help: "Stop after the demo stream ends (for scripts); default: keep serving.") var once = false
    @Option(help: "Cycles of clean → drifted → clean.") var cycles = 1

    func run() async throws {
        var cfg = ServerConfiguration()
        cfg.host = host
        cfg.port = port
        cfg.dataDir = dataDir
        let once = self.once
        let cycles = self.cycles
        let host = cfg.host
        try await runService(cfg, level: .notice) { port in
            Task {
                do {
                    try await streamDemo(base: "http://\(host):\(port)", cycles: cycles)
                    if once { kill(getpid(), SIGTERM) }
                } catch {
                    FileHandle.standardError.write(Data("demo: \(error)\n".utf8))
                    kill(getpid(), SIGTERM)
                }
            }
        }
    }
}

private func request(_ method: String, _ url: String, body: Data? = nil, contentType: String = "application/json") async throws -> (Int, Data) {
    try await send(url, method, body ?? Data(), contentType)
}

func streamDemo(base: String, cycles: Int) async throws {
    let model = "fraud-demo"
    let settings = """
        {"features":[{"name":"amount","kind":"numeric"},{"name":"account_age_days","kind":"numeric"},
        {"name":"tx_last_24h","kind":"numeric"},{"name":"distance_km","kind":"numeric"},
        {"name":"merchant_category","kind":"categorical"},{"name":"country","kind":"categorical"}],
        "prediction":{"name":"score","kind":"numeric"},"window":{"rows":1000},"min_rows":200,
        "confirm":{"windows":2,"of":3},"resolve":{"clean_windows":3}}
        """
    var (status, data) = try await request("PUT", "\(base)/v1/models/\(model)", body: Data(settings.utf8))
    guard status == 200 || status == 201 else { throw UserFacingError(message: "PUT model: \(status) \(String(decoding: data, as: UTF8.self))") }
    var gen = FraudDemoData(seed: 7, idPrefix: "train")
    var csv = FraudDemoData.csvHeader + "\n"
    for _ in 0..<20_000 { csv += FraudDemoData.csvLine(gen.next(drift: false)) + "\n" }
    (status, data) = try await request("PUT", "\(base)/v1/models/\(model)/baseline", body: Data(csv.utf8), contentType: "text/csv")
    guard status == 201 else { throw UserFacingError(message: "PUT baseline: \(status) \(String(decoding: data, as: UTF8.self))") }
    print("demo: model \(model) created with a 20,000-row baseline; streaming 1,000 observations/s to \(base)")

    var live = FraudDemoData(seed: UInt64(Date().timeIntervalSince1970), idPrefix: "live")
    var lastState = "ok"
    for cycle in 0..<cycles {
        for (phase, drift, seconds) in [("clean", false, 10), ("drifted", true, 10), ("clean", false, 12)] {
            print("demo: cycle \(cycle + 1), \(phase) traffic for \(seconds) s")
            for _ in 0..<(seconds * 4) {
                let now = Date().timeIntervalSince1970
                let rows = (0..<250).map { _ in FraudDemoData.jsonRow(live.next(drift: drift), ts: now) }
                let body = "{\"observations\":[" + rows.joined(separator: ",") + "]}"
                (status, data) = try await request("POST", "\(base)/v1/models/\(model)/observations", body: Data(body.utf8))
                guard status == 202 else { throw UserFacingError(message: "POST observations: \(status) \(String(decoding: data, as: UTF8.self))") }
                if let closed = try JSONDecoder().decode(DemoIngestAnswer.self, from: data).windowClosed {
                    // The window is evaluated in the background: wait for its report.
                    for _ in 0..<100 {
                        let (driftStatus, d) = try await request("GET", "\(base)/v1/models/\(model)/drift")
                        guard driftStatus == 200 else { throw UserFacingError(message: "GET drift: \(driftStatus) \(String(decoding: d, as: UTF8.self))") }
                        let answer: DemoDriftAnswer
                        do {
                            answer = try JSONDecoder().decode(DemoDriftAnswer.self, from: d)
                        } catch {
                            throw UserFacingError(message: "GET /v1/models/\(model)/drift: unreadable answer: \(error)")
                        }
                        // Until the window's report is there, the answer has none (or an older one).
                        guard let report = answer.report, report.seq == closed,
                              let state = report.episodeState else {
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        let drifted = report.features.filter(\.drifted).map(\.name)
                        let share = report.summary.driftedShare
                        let mark = state != lastState ? "  ← episode \(lastState) → \(state)" : ""
                        print("demo: window \(closed): drifted share \(String(format: "%.2f", share)) \(drifted.isEmpty ? "" : "[\(drifted.joined(separator: ", "))]") state \(state)\(mark)")
                        lastState = state
                        break
                    }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
    print("demo: done streaming. Try: curl \(base)/v1/models/\(model)/drift | curl \(base)/metrics | curl \(base)/v1/models/\(model)/episodes")
}

/// The part of the observations answer the demo reads.
struct DemoIngestAnswer: Decodable {
    var windowClosed: Int?
    enum CodingKeys: String, CodingKey { case windowClosed = "window_closed" }
}

/// The part of `GET /v1/models/{model}/drift` the demo prints.
struct DemoDriftAnswer: Decodable {
    struct Report: Decodable {
        struct Summary: Decodable {
            var driftedShare: Double
            enum CodingKeys: String, CodingKey { case driftedShare = "drifted_share" }
        }
        struct Feature: Decodable {
            var name: String
            var drifted: Bool
        }
        var seq: Int
        var summary: Summary
        var episodeState: String?
        var features: [Feature]
        enum CodingKeys: String, CodingKey { case seq, summary, episodeState = "episode_state", features }
    }
    var report: Report?
}
