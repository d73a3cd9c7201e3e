import DriftSimulation
import DriftCore
import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real binary: `driftwatch serve` killed with SIGKILL mid-stream loses no acknowledged
/// batch; graceful SIGTERM; `promtool check metrics` on the real /metrics.
/// Synchronous tests on purpose: a child started from an async test can inherit a blocked
/// SIGTERM mask (../shared/notes/swift-stack.md).
final class ServeBinaryTests: XCTestCase {
    final class Server {
        let process = Process()
        let port: Int
        private let log = LogBuffer()

        final class LogBuffer: @unchecked Sendable {
            // @unchecked: every access goes through `lock`.
            private let lock = NSLock()
            private var text = ""
            func append(_ s: String) { lock.lock(); text += s; lock.unlock() }
            var value: String { lock.lock(); defer { lock.unlock() }; return text }
        }

        init(dataDir: String, arguments: [String] = []) throws {
            process.executableURL = Bundle.main.bundleURL.appendingPathComponent("driftwatch")
            process.arguments = ["serve", "--port", "0", "--data-dir", dataDir, "--log-level", "notice"] + arguments
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            let log = self.log
            err.fileHandleForReading.readabilityHandler = { h in
                let d = h.availableData
                if !d.isEmpty { log.append(String(decoding: d, as: UTF8.self)) }
            }
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            var found: Int?
            while found == nil && Date() < deadline && process.isRunning {
                if let range = log.value.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    found = Int(log.value[range].split(separator: ":").last ?? "")
                }
                usleep(20_000)
            }
            guard let found else {
                process.terminate()
                throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(log.value)"])
            }
            port = found
        }

        var logText: String { log.value }

        func kill(_ signal: Int32) {
            Foundation.kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL); usleep(200_000) }
        }
    }

    /// Blocking HTTP call (URLSession + semaphore), for synchronous tests.
    func call(_ port: Int, _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
              headers: [String: String] = [:], timeout: TimeInterval = 30) -> (status: Int, data: Data) {
        Self.blockingCall(port, method, path, body: body, contentType: contentType, headers: headers, timeout: timeout)
    }

    static func blockingCall(_ port: Int, _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
                             headers: [String: String] = [:], timeout: TimeInterval = 30) -> (status: Int, data: Data) {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: timeout)
        r.httpMethod = method
        r.httpBody = body
        r.setValue(contentType, forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data) = (0, Data())
        URLSession.shared.dataTask(with: r) { data, response, _ in
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    func json(_ d: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] ?? [:] }

    func testSIGKILLMidStreamLosesNoAcknowledgedBatch() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-kill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(dataDir: dir)
        let settings = #"{"features":[{"name":"amount","kind":"numeric"},{"name":"account_age_days","kind":"numeric"},{"name":"tx_last_24h","kind":"numeric"},{"name":"distance_km","kind":"numeric"},{"name":"merchant_category","kind":"categorical"},{"name":"country","kind":"categorical"}],"prediction":{"name":"score","kind":"numeric"},"window":{"rows":100000},"min_rows":100}"#
        XCTAssertEqual(call(server.port, "PUT", "/v1/models/fraud", body: Data(settings.utf8)).status, 201)
        var g = FraudDemoData(seed: 3)
        var csv = FraudDemoData.csvHeader + "\n"
        for _ in 0..<2000 { csv += FraudDemoData.csvLine(g.next(drift: false)) + "\n" }
        XCTAssertEqual(call(server.port, "PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv").status, 201)

        // Two senders stream 200-row batches with idempotency keys; SIGKILL lands mid-stream.
        var bodies: [String: Data] = [:]
        for i in 0..<1200 {
            let rows = (0..<200).map { _ in FraudDemoData.jsonRow(g.next(drift: false), ts: 1_764_000_000) }
            bodies["batch-\(i)"] = Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8)
        }
        let acked = Acked()
        let port = server.port
        let keys = bodies.keys.sorted()
        let payloads = bodies
        let pid = server.process.processIdentifier
        // SIGKILL once 100 batches are acknowledged, while both senders are mid-request.
        DispatchQueue.global().async {
            let deadline = Date().addingTimeInterval(60)
            while acked.count < 100 && Date() < deadline { usleep(1000) }
            _ = Foundation.kill(pid, SIGKILL)
        }
        DispatchQueue.concurrentPerform(iterations: 2) { sender in
            for (n, key) in keys.enumerated() where n % 2 == sender {
                let r = Self.blockingCall(port, "POST", "/v1/models/fraud/observations", body: payloads[key], headers: ["Idempotency-Key": key], timeout: 5)
                if r.status == 202 { acked.add(key) } else if r.status == 0 { break }
            }
        }
        server.kill(SIGKILL)
        let acknowledged = acked.keys
        XCTAssertGreaterThan(acknowledged.count, 0, "some batches were acknowledged before the kill")
        XCTAssertLessThan(acknowledged.count, keys.count, "the kill landed mid-stream")

        let restarted = try Server(dataDir: dir)
        defer { restarted.kill(SIGTERM) }
        let status = json(call(restarted.port, "GET", "/v1/models/fraud").data)
        let stored = status["observations_stored"] as? Int ?? -1
        XCTAssertGreaterThanOrEqual(stored, acknowledged.count * 200, "every acknowledged row is stored")
        XCTAssertEqual((status["window"] as? [String: Any])?["rows"] as? Int, stored, "the open window was rebuilt from the store")
        // Each acknowledged batch is there: re-sending it with its key is a duplicate.
        for key in acknowledged {
            let r = call(restarted.port, "POST", "/v1/models/fraud/observations", body: bodies[key], headers: ["Idempotency-Key": key])
            XCTAssertEqual(r.status, 202)
            XCTAssertEqual(json(r.data)["duplicate"] as? Bool, true, "acknowledged \(key) was lost")
        }
    }

    final class Acked: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var set = Set<String>()
        func add(_ k: String) { lock.lock(); set.insert(k); lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return set.count }
        var keys: [String] { lock.lock(); defer { lock.unlock() }; return set.sorted() }
    }

    func testGracefulSIGTERMAndPromtoolCheckMetrics() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-term-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(dataDir: dir)
        var g = FraudDemoData(seed: 4)
        var csv = FraudDemoData.csvHeader + "\n"
        for _ in 0..<1000 { csv += FraudDemoData.csvLine(g.next(drift: false)) + "\n" }
        XCTAssertEqual(call(server.port, "PUT", "/v1/models/fraud/baseline?prediction=score", body: Data(csv.utf8), contentType: "text/csv").status, 201)
        let rows = (0..<300).map { _ in FraudDemoData.jsonRow(g.next(drift: true), ts: 1_764_000_000) }
        XCTAssertEqual(call(server.port, "POST", "/v1/models/fraud/observations", body: Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8)).status, 202)
        XCTAssertEqual(call(server.port, "POST", "/v1/models/fraud/evaluate").status, 200)
        let metrics = call(server.port, "GET", "/metrics").data
        XCTAssertGreaterThan(metrics.count, 1000)

        // promtool exits 0 on empty input, so the input was checked to be non-empty above.
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try XCTUnwrap(promtool, "promtool not installed: scripts/install-deps.sh installs Debian's prometheus package")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(metrics)
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "promtool check metrics: \(text)")

        server.kill(SIGTERM)
        XCTAssertEqual(server.process.terminationReason, .exit, "stopped by its own graceful shutdown, not killed")
        XCTAssertEqual(server.process.terminationStatus, 0, server.logText)
        XCTAssertTrue(server.logText.contains("store closed"), server.logText)
    }
}

/// `driftwatch baseline` against the built service: a CSV upload, and one-line errors (MLflow not
/// configured for the model, no source, two sources). The MLflow path itself is tested against a
/// real tracking server in DriftServerTests.MLflowTests.
final class BaselineCLITests: XCTestCase {
    func testBaselineUploadAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-bl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ServeBinaryTests.Server(dataDir: dir + "/data")
        defer { server.kill(SIGTERM) }
        var g = FraudDemoData(seed: 6)
        var csv = FraudDemoData.csvHeader + "\n"
        for _ in 0..<500 { csv += FraudDemoData.csvLine(g.next(drift: false)) + "\n" }
        try csv.write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        let url = "http://127.0.0.1:\(server.port)"

        let upload = try runDriftwatch(["baseline", "--model", "fraud", "--server", url, "--file", dir + "/train.csv", "--prediction", "score"])
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertEqual(upload.stdout, "baseline version 1 of fraud: 500 rows, 6 features and the prediction score\n")

        let noMLflow = try runDriftwatch(["baseline", "--model", "fraud", "--server", url, "--mlflow"])
        XCTAssertEqual(noMLflow.status, 2)
        XCTAssertTrue(noMLflow.stderr.hasPrefix("driftwatch: "), noMLflow.stderr)
        XCTAssertTrue(noMLflow.stderr.contains("HTTP 422: model fraud has no MLflow settings"), noMLflow.stderr)
        XCTAssertEqual(noMLflow.stderr.split(separator: "\n").count, 1)

        for arguments in [["baseline", "--model", "fraud", "--server", url],
                          ["baseline", "--model", "fraud", "--server", url, "--file", dir + "/train.csv", "--mlflow-run", "abc"]] {
            let run = try runDriftwatch(arguments)
            XCTAssertEqual(run.status, 2, run.stderr)
            XCTAssertTrue(run.stderr.contains("give exactly one of --file, --mlflow-run or --mlflow"), run.stderr)
        }
    }
}
