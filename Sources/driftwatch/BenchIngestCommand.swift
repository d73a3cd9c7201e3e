import DriftSimulation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import ArgumentParser
import DriftCore
import DriftIngest
import DriftServer
import Foundation
import Logging
import ServiceLifecycle
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load-test ingest over loopback: observations/s and acknowledgement latency per format.",
        discussion: """
            Starts the service in this process on a free port with a fresh data directory (or targets \
            --server), creates a 30-feature model with a baseline, then posts 500-row batches from \
            --concurrency clients for --duration seconds per format (JSON rows, JSON columnar, NDJSON, \
            protobuf). Every 202 is durable (committed to SQLite). Prints observations/s, p50/p99 latency \
            and resident memory before and after.
            """
    )

    @Option(help: "Seconds per format.") var duration: Double = 15
    @Option(help: "Concurrent senders.") var concurrency: Int = 8
    @Option(name: .customLong("batch-rows")) var batchRows: Int = 500
    @Option(help: "Formats: all, or a comma list of rows,columnar,ndjson,protobuf.") var formats: String = "all"
    @Option(help: "Output: text or json.") var format: BenchFormat = .text
    @Flag(name: .customLong("no-ids"), help: "Send no prediction ids (no id index writes).") var noIDs = false
    @Flag(name: .customLong("unique-ids"), help: "protobuf only: a fresh id for every row sent (as real traffic), instead of 16 batches' ids repeated.") var uniqueIDs = false
    @Option(help: "Store on PostgreSQL (postgres://…, an empty database) instead of SQLite in a temporary directory; its server's CPU is measured when it runs on this machine.")
    var store: String?

    func run() async throws {
        let chosen = formats == "all" ? ["rows", "columnar", "ndjson", "protobuf"] : splitList(formats)
        for f in chosen where !["rows", "columnar", "ndjson", "protobuf"].contains(f) {
            throw UserFacingError(message: "unknown format \(f): use rows, columnar, ndjson or protobuf")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("driftwatch-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cfg = ServerConfiguration()
        cfg.port = 0
        cfg.dataDir = dir
        cfg.store = store
        cfg.maxInflightIngest = max(64, concurrency * 2)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let service = try DriftService(config: cfg, logger: logger)
        try await service.restore()
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = service.makeApplication { continuation.yield($0.localAddress?.port ?? 0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = Task { try await group.run() }
        var port = 0
        for await p in stream { port = p; break }
        let base = "http://127.0.0.1:\(port)"

        // Model: 30 numeric features; window of 100k rows so evaluation runs during the load.
        let data = SyntheticDataSet(featureCount: 30)
        let names = data.features.map(\.name)
        let settings = "{\"features\":[" + names.map { "{\"name\":\"\($0)\",\"kind\":\"numeric\"}" }.joined(separator: ",")
            + "],\"window\":{\"rows\":100000},\"min_rows\":1000}"
        _ = try await send(base + "/v1/models/bench", "PUT", Data(settings.utf8), "application/json")
        let baseline = data.table(rows: 50_000, seed: 1, drifted: false, source: "bench")
        var csv = names.joined(separator: ",") + "\n"
        let columns = baseline.columns.map { c -> [Double] in if case .numeric(let n) = c { return n.values } else { return [] } }
        for r in 0..<baseline.rows { csv += columns.map { $0[r].isNaN ? "" : $0[r].description }.joined(separator: ",") + "\n" }
        _ = try await send(base + "/v1/models/bench/baseline", "PUT", Data(csv.utf8), "text/csv")

        // Pre-built bodies (16 distinct batches per format), so the client spends little CPU.
        let window = data.table(rows: batchRows * 16, seed: 2, drifted: false, source: "bench")
        let windowColumns = window.columns.map { c -> [Double] in if case .numeric(let n) = c { return n.values } else { return [] } }
        var results: [IngestBenchResult] = []
        let rssBefore = residentMiB()
        for f in chosen {
            let bodies = (0..<16).map { k in body(format: f, names: names, columns: windowColumns, from: k * batchRows, rows: batchRows) }
            var fresh: (@Sendable (Int, Int) -> Data)?
            if uniqueIDs && f == "protobuf" {
                // Same feature columns, new ids per request: encoding costs ~0.03 ms a batch.
                let templates = (0..<16).map { k in protobufBatch(names: names, columns: windowColumns, from: k * batchRows, rows: batchRows) }
                let rows = batchRows
                fresh = { sender, k in
                    var b = templates[k % templates.count]
                    b.ids = (0..<rows).map { "s\(sender)-\(k)-\($0)" }
                    return Data(encodeBatchForStorage(b))
                }
            }
            let cpuBefore = CPUTime.now()
            var r = try await load(base: base, format: f, bodies: bodies, fresh: fresh)
            let cpu = CPUTime.now() - cpuBefore
            let thousands = Double(max(r.observations, 1)) / 1000
            r.processCPUMsPer1000 = cpu.process * 1000 / thousands
            r.postgresCPUMsPer1000 = store == nil ? nil : cpu.postgres * 1000 / thousands
            r.rssAfterMiB = residentMiB()
            results.append(r)
        }
        let rssAfter = residentMiB()
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        try? service.store.close()

        switch format {
        case .json:
            let object = IngestBenchRun(results: results, rssBeforeMiB: rssBefore, rssAfterMiB: rssAfter, concurrency: concurrency,
                                        batchRows: batchRows, features: 30, durationS: duration)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(object), as: UTF8.self))
        case .text:
            let durable = store == nil ? "durable (SQLite WAL)" : "committed in PostgreSQL"
            print("driftwatch bench ingest — \(batchRows)-row batches × 30 features, \(concurrency) senders, \(Int(duration)) s per format, \(durable)")
            for r in results {
                let fmt = r.format.padding(toLength: 9)
                print("  \(fmt) \(Int(r.observationsPerS)) obs/s   p50 \(fixed1(r.p50Ms)) ms   p99 \(fixed1(r.p99Ms)) ms   (\(r.requests) requests, \(r.errors) errors, RSS \(fixed1(r.rssAfterMiB ?? 0)) MiB)")
                let postgres = r.postgresCPUMsPer1000.map { ", PostgreSQL \(fixed2($0)) ms" } ?? ""
                print("  \(String(repeating: " ", count: 9)) CPU per 1,000 observations: this process \(fixed2(r.processCPUMsPer1000 ?? 0)) ms (service and load generator)\(postgres)")
            }
            print("  resident memory: \(fixed1(rssBefore)) MiB before, \(fixed1(rssAfter)) MiB after")
        }
    }

    private func body(format: String, names: [String], columns: [[Double]], from: Int, rows: Int) -> (Data, String) {
        switch format {
        case "rows", "ndjson":
            var lines: [String] = []
            for r in from..<(from + rows) {
                let features = names.enumerated().map { i, n in "\"\(n)\":\(columns[i][r].isNaN ? "null" : columns[i][r].description)" }
                lines.append("{" + (noIDs ? "" : "\"id\":\"p\(r)\",") + "\"ts\":1764000000.5,\"features\":{\(features.joined(separator: ","))},\"prediction\":0.5}")
            }
            if format == "ndjson" { return (Data(lines.joined(separator: "\n").utf8), "application/x-ndjson") }
            return (Data(("{\"observations\":[" + lines.joined(separator: ",") + "]}").utf8), "application/json")
        case "columnar":
            let ids = noIDs ? "" : "\"ids\":[" + (from..<(from + rows)).map { "\"p\($0)\"" }.joined(separator: ",") + "],"
            let features = names.enumerated().map { i, n in
                "\"\(n)\":[" + columns[i][from..<(from + rows)].map { $0.isNaN ? "null" : $0.description }.joined(separator: ",") + "]"
            }
            return (Data(("{\(ids)\"features\":{\(features.joined(separator: ","))}}").utf8), "application/json")
        default:
            return (Data(encodeBatchForStorage(protobufBatch(names: names, columns: columns, from: from, rows: rows))), "application/x-protobuf")
        }
    }

    private func protobufBatch(names: [String], columns: [[Double]], from: Int, rows: Int) -> ObservationBatch {
        var cols: [String: IngestColumn] = [:]
        for (i, n) in names.enumerated() {
            let slice = Array(columns[i][from..<(from + rows)])
            let missing = slice.indices.filter { slice[$0].isNaN }
            cols[n] = .numbers(slice, missingRows: missing)
        }
        return ObservationBatch(count: rows, ids: (from..<(from + rows)).map { noIDs ? nil : "p\($0)" }, timestamps: Array(repeating: nil, count: rows),
                                endpoints: Array(repeating: .production, count: rows), features: cols, predictions: nil)
    }

    private func load(base: String, format: String, bodies: [(Data, String)], fresh: (@Sendable (Int, Int) -> Data)?) async throws -> IngestBenchResult {
        let url = base + "/v1/models/bench/observations"
        let deadline = Date().addingTimeInterval(duration)
        let rows = batchRows
        let started = Date()
        let perSender = try await withThrowingTaskGroup(of: ([Double], Int, Int).self) { group in
            for sender in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    var accepted = 0
                    var k = sender
                    while Date() < deadline {
                        var (data, type) = bodies[k % bodies.count]
                        if let fresh { data = fresh(sender, k) }
                        k += 1
                        let t0 = ContinuousClock.now
                        let (status, answer) = try await send(url, "POST", data, type)
                        let dt = ContinuousClock.now - t0
                        latencies.append(Double(dt.components.seconds) * 1e3 + Double(dt.components.attoseconds) / 1e15)
                        if status == 202 { accepted += rows } else {
                            errors += 1
                            if errors == 1 { FileHandle.standardError.write(Data("bench: \(status) \(String(decoding: answer.prefix(300), as: UTF8.self))\n".utf8)) }
                        }
                    }
                    return (latencies, errors, accepted)
                }
            }
            var all: [([Double], Int, Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        let elapsed = Date().timeIntervalSince(started)
        var latencies = perSender.flatMap(\.0)
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let accepted = perSender.reduce(0) { $0 + $1.2 }
        return IngestBenchResult(format: format, requests: latencies.count, errors: perSender.reduce(0) { $0 + $1.1 },
                                 observations: accepted, observationsPerS: Double(accepted) / elapsed,
                                 p50Ms: pct(0.5), p99Ms: pct(0.99), bytesPerRequest: bodies[0].0.count, uniqueIDs: fresh != nil)
    }
}

/// One HTTP call (the demo and the load generator) with AsyncHTTPClient: keep-alive
/// connections on NIO's event loops. URLSession on Linux (libcurl behind Dispatch queues) spent
/// more of the 2 cores on its own thread hand-offs than the server spent on ingest.
@Sendable
func send(_ url: String, _ method: String, _ body: Data, _ type: String) async throws -> (Int, Data) {
    var request = HTTPClientRequest(url: url)
    request.method = HTTPMethod(rawValue: method)
    request.headers.add(name: "Content-Type", value: type)
    request.body = .bytes(ByteBuffer(bytes: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let answer = try await response.body.collect(upTo: 64 << 20)
    return (Int(response.status.code), Data(answer.readableBytesView))
}

/// Resident set size of this process, MiB (from /proc; FileHandle, since String(contentsOfFile:)
/// reads only 4 KiB of procfs files).
func residentMiB() -> Double {
    guard let h = FileHandle(forReadingAtPath: "/proc/self/status"), let data = try? h.readToEnd() else { return 0 }
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kb / 1024
    }
    return 0
}

/// CPU seconds used so far by this process and by every PostgreSQL server process on the machine.
struct CPUTime {
    var process: Double
    var postgres: Double

    static func now() -> CPUTime {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let process = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return CPUTime(process: process, postgres: postgresSeconds())
    }

    static func - (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(process: a.process - b.process, postgres: a.postgres - b.postgres) }

    /// utime + stime of every process named `postgres` (/proc/PID/stat fields 14 and 15, in clock ticks).
    private static func postgresSeconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {  // no /proc: nothing to add
            guard let h = FileHandle(forReadingAtPath: "/proc/\(entry)/stat"), let data = try? h.readToEnd() else { continue }  // the process ended
            let text = String(decoding: data, as: UTF8.self)
            guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
                  text[text.index(after: open)..<close] == "postgres" else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            total += (user + system) / ticks
        }
        return total
    }
}

/// One format's figures of `driftwatch bench ingest --format json`.
struct IngestBenchResult: Encodable {
    var format: String
    var requests: Int
    var errors: Int
    var observations: Int
    var observationsPerS: Double
    var p50Ms: Double
    var p99Ms: Double
    var bytesPerRequest: Int
    var uniqueIDs: Bool
    var rssAfterMiB: Double?
    /// CPU of this process (the service and the in-process load generator) per 1,000 observations.
    var processCPUMsPer1000: Double?
    /// CPU of the PostgreSQL server's processes on this machine per 1,000 observations (nil on SQLite).
    var postgresCPUMsPer1000: Double?
    enum CodingKeys: String, CodingKey {
        case format, requests, errors, observations, observationsPerS = "observations_per_s", p50Ms = "p50_ms", p99Ms = "p99_ms"
        case bytesPerRequest = "bytes_per_request", uniqueIDs = "unique_ids", rssAfterMiB = "rss_after_mib"
        case processCPUMsPer1000 = "process_cpu_ms_per_1000", postgresCPUMsPer1000 = "postgres_cpu_ms_per_1000"
    }
}

/// `driftwatch bench ingest --format json`.
struct IngestBenchRun: Encodable {
    var results: [IngestBenchResult]
    var rssBeforeMiB: Double
    var rssAfterMiB: Double
    var concurrency: Int
    var batchRows: Int
    var features: Int
    var durationS: Double
    enum CodingKeys: String, CodingKey {
        case results, rssBeforeMiB = "rss_before_mib", rssAfterMiB = "rss_after_mib", concurrency, batchRows = "batch_rows", features
        case durationS = "duration_s"
    }
}
