import DriftSimulation
import DriftCore
import DriftIngest
@testable import DriftServer
import Foundation
import XCTest

/// A seeded mutation fuzzer over every body the service parses: observations (JSON rows,
/// columnar, NDJSON, protobuf), KServe v1/v2 CloudEvents, labels (rows, columnar, NDJSON),
/// model settings, baselines (CSV and JSON) and candidates — valid bodies mutated byte by byte
/// and token by token, sent on keep-alive connections. Every answer must be 2xx or a 4xx
/// problem (never a 5xx, never a dropped connection without an answer), and what was stored
/// before must all be there afterwards.
///
/// `DRIFTWATCH_FUZZ_CASES` (default 20,000) and `DRIFTWATCH_FUZZ_SEED` (default 14) set the run;
/// a failure prints the case's seed, target and body so it can be replayed.
final class HostileFuzzTests: XCTestCase {
    struct Target {
        var name: String
        var method: String
        var path: String
        var headers: [String: String]
        var seeds: [[UInt8]]
        /// Accepted rows of a 2xx answer count toward the witness model's stored observations.
        var countsObservations: Bool
    }

    func testMutatedBodiesNeverBreakTheService() async throws {
        let env = ProcessInfo.processInfo.environment
        let cases = env["DRIFTWATCH_FUZZ_CASES"].flatMap(Int.init) ?? 20_000
        let seed = env["DRIFTWATCH_FUZZ_SEED"].flatMap(UInt64.init) ?? 14
        let s = try LiveService {
            $0.kserveWithoutToken = true
            $0.bodyIdleSeconds = 2
            $0.maxRowsPerRequest = 5000
        }
        try await s.running { s in
            // The witness: a model with a baseline, stored batches and a closed window.
            var settings = try JSONSerialization.jsonObject(with: Data(Demo.settings.utf8)) as? [String: Any] ?? [:]
            settings["quality"] = ["task": "binary", "label": "label"]
            var r = try await s.call("PUT", "/v1/models/fraud", body: try JSONSerialization.data(withJSONObject: settings))
            XCTAssertEqual(r.status, 201, r.text)
            var csv = "amount,account_age_days,tx_last_24h,distance_km,merchant_category,country,score,label\n"
            var g = FraudDemoData(seed: 1, idPrefix: "b")
            for i in 0..<2000 { csv += FraudDemoData.csvLine(g.next(drift: false)) + ",\(i % 2)\n" }
            r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv")
            XCTAssertEqual(r.status, 201, r.text)
            var gen = FraudDemoData(seed: 2, idPrefix: "w")
            _ = try await s.postWindow("fraud", drift: false, gen: &gen, seq: 1)
            let before = try await s.call("GET", "/v1/models/fraud").json
            let storedBefore = before["observations_stored"] as? Int ?? -1
            let windowBefore = try await s.call("GET", "/v1/models/fraud/windows?limit=1").text
            XCTAssertGreaterThanOrEqual(storedBefore, 1000)

            let targets = try Self.targets(gen: &gen)
            var rng = SeededGenerator(seed: seed)
            var conn = try RawConnection(port: s.port)
            var statuses: [Int: Int] = [:]
            var acceptedRows = 0
            var failures = 0
            var timeByTarget: [String: Double] = [:]
            for k in 0..<cases {
                let caseStart = Date()
                defer { timeByTarget[targets[k % targets.count].name, default: 0] += Date().timeIntervalSince(caseStart) }
                let target = targets[k % targets.count]
                let original = target.seeds[Int(rng.next() % UInt64(target.seeds.count))]
                let body = Mutator.mutate(original, rng: &rng)
                var answer: RawResponse?
                do {
                    answer = try await conn.request(target.method, target.path, headers: target.headers, body: body)
                } catch {
                    answer = nil
                }
                guard let r = answer else {
                    // The server may close a connection after a problem it answered (framing
                    // errors); a closed connection without any answer is a failure.
                    failures += 1
                    if failures <= 5 { XCTFail("case \(k) (\(target.name)): connection closed without an answer; body \(Self.show(body))") }
                    if env["DRIFTWATCH_FUZZ_TRACE"] != nil {
                        print("fuzz: case \(k) (\(target.name)): no answer; body \(Self.show(body))")
                        print("fuzz: fz is \(try await s.call("GET", "/v1/models/fz").text)")
                    }
                    conn = try RawConnection(port: s.port)
                    continue
                }
                statuses[r.status, default: 0] += 1
                if r.status >= 500 || r.status < 200 || (r.status >= 400 && r.headers["content-type"] != "application/problem+json") {
                    failures += 1
                    if failures <= 10 { XCTFail("case \(k) (\(target.name)): \(r.status) \(r.text.prefix(300)); body \(Self.show(body))") }
                }
                if target.countsObservations, (200..<300).contains(r.status),
                   let o = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any],
                   o["duplicate"] as? Bool != true {
                    acceptedRows += o["accepted"] as? Int ?? 0
                }
                if r.headers["connection"] == "close" { conn = try RawConnection(port: s.port) }
            }
            XCTAssertEqual(failures, 0, "statuses: \(statuses.sorted { $0.key < $1.key })")
            XCTAssertGreaterThan(statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +), cases / 50, "some mutations stay valid")
            XCTAssertGreaterThan(statuses.filter { (400..<500).contains($0.key) }.values.reduce(0, +), cases / 2, "most are refused")

            // Still serving, and nothing stored before is lost.
            await s.service.drainEvaluations()
            let after = try await s.call("GET", "/v1/models/fraud").json
            XCTAssertEqual(after["observations_stored"] as? Int, storedBefore + acceptedRows, "stored = before + accepted")
            let oldest = try await s.call("GET", "/v1/models/fraud/windows?limit=1000").json["windows"] as? [[String: Any]] ?? []
            let first = try JSONSerialization.jsonObject(with: Data(windowBefore.utf8)) as? [String: Any]
            let window1 = (first?["windows"] as? [[String: Any]])?.first
            XCTAssertEqual(oldest.last?["seq"] as? Int, window1?["seq"] as? Int, "the first window is still stored")
            XCTAssertEqual(oldest.last?["rows"] as? Int, window1?["rows"] as? Int)
            let health = try await s.call("GET", "/healthz", contentType: nil)
            XCTAssertEqual(health.status, 200)
            print("fuzz: seconds by target \(timeByTarget.sorted { $0.value > $1.value }.map { "\($0.key) \(String(format: "%.1f", $0.value))" })")
            print("fuzz: \(cases) cases, seed \(seed), statuses \(statuses.sorted { $0.key < $1.key }), accepted rows \(acceptedRows)")
        }
    }

    static func show(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        return "\(body.count) bytes: \(text.debugDescription)"
    }

    static func targets(gen: inout FraudDemoData) throws -> [Target] {
        func rows(_ n: Int) -> String { Demo.rows(n, drift: false, gen: &gen) }
        let json = ["Content-Type": "application/json"]
        let jsonRows = (0..<4).map { _ in Array(rows(5).utf8) }
        let columnar: [[UInt8]] = (0..<3).map { k in
            Array(#"{"ids":["c\#(k)a","c\#(k)b"],"ts":[1764000000,"2026-11-29T12:00:00Z"],"features":{"amount":[12.5,null],"account_age_days":[100,3],"tx_last_24h":[1,2],"distance_km":[3.5,1e3],"merchant_category":["grocery","travel"],"country":["DE","FR"]},"predictions":[0.1,0.9],"endpoint":"production"}"#.utf8)
        }
        var ndjson: [[UInt8]] = []
        for _ in 0..<3 {
            let lines = (0..<4).map { _ in FraudDemoData.jsonRow(gen.next(drift: false), ts: 1_764_000_000) }
            ndjson.append(Array(lines.joined(separator: "\n").utf8))
        }
        var protobuf: [[UInt8]] = []
        for _ in 0..<3 {
            let decoded = try decodeObservations(Array(rows(6).utf8), format: .jsonRows)
            protobuf.append(encodeBatchForStorage(decoded.batch))
        }
        func ce(_ type: String, _ id: String) -> [String: String] {
            ["Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": id, "ce-source": "fuzz",
             "ce-type": "org.kubeflow.serving.inference.\(type)", "ce-inferenceservicename": "fraud", "ce-namespace": "ml",
             "ce-component": "predictor", "ce-endpoint": "default"]
        }
        let kserveRequests: [[UInt8]] = [
            Array(#"{"instances":[[120.5,300,2,4.5,"grocery","DE"],[80.0,20,1,2.0,"travel","FR"]]}"#.utf8),
            Array(#"{"inputs":[{"name":"input-0","shape":[2,6],"datatype":"BYTES","data":[[120.5,300,2,4.5,"grocery","DE"],[80.0,20,1,2.0,"travel","FR"]]}]}"#.utf8),
            Array(#"{"id":"r1","inputs":[{"name":"amount","shape":[2],"datatype":"FP64","data":[1.5,2.5]},{"name":"country","shape":[2],"datatype":"BYTES","data":["DE","US"]}]}"#.utf8),
        ]
        let kserveResponses: [[UInt8]] = [
            Array(#"{"predictions":[0.1,0.8]}"#.utf8),
            Array(#"{"predictions":[[0.9,0.1],[0.2,0.8]]}"#.utf8),
            Array(#"{"model_name":"fraud","id":"r1","outputs":[{"name":"output-0","shape":[2],"datatype":"FP64","data":[0.1,0.8]}]}"#.utf8),
            Array(#"{"outputs":[{"name":"predict","shape":[2,2],"datatype":"FP32","data":[0.9,0.1,0.2,0.8]}]}"#.utf8),
        ]
        let labels: [[UInt8]] = [
            Array(#"{"labels":[{"id":"w-1","label":1,"ts":1764000000},{"id":"w-2","label":0}]}"#.utf8),
            Array(#"{"ids":["w-3","w-4"],"labels":[true,false],"ts":[1764000000,1764000001]}"#.utf8),
        ]
        let labelsNDJSON: [[UInt8]] = [Array("{\"id\":\"w-5\",\"label\":1}\n{\"id\":\"w-6\",\"label\":0,\"ts\":1764000000}".utf8)]
        let settings: [[UInt8]] = [
            Array(#"{"features":[{"name":"a","kind":"numeric"},{"name":"c","kind":"categorical"}],"prediction":{"name":"p","kind":"numeric"},"window":{"rows":50},"min_rows":20,"detector":{"alpha":0.05,"psi_threshold":0.1,"binning":"quantile","bins":10,"calibration":"fixed"},"confirm":{"windows":2,"of":3},"resolve":{"clean_windows":2},"retention_hours":24}"#.utf8),
            Array(#"{"features":[{"name":"a","kind":"numeric"}],"window":{"seconds":60},"quality":{"task":"regression","label":"y"},"prediction":{"name":"p","kind":"numeric"}}"#.utf8),
        ]
        let baselineCSV: [[UInt8]] = [Array("a,c,p\n1.5,x,0.1\n2.5,y,0.2\n3.5,x,0.3\n\"4,5\",\"y\nz\",0.4\n".utf8)]
        let baselineJSON: [[UInt8]] = [Array(#"{"features":{"a":[1,2,3,4],"c":["x","y","x","y"]},"predictions":[0.1,0.2,0.3,0.4]}"#.utf8)]
        let candidates: [[UInt8]] = [Array(#"{"version":"v2","model_uri":"s3://models/fraud/v2","metrics":{"auc":0.91},"mlflow_version":"2"}"#.utf8)]
        return [
            Target(name: "observations json rows", method: "POST", path: "/v1/models/fraud/observations", headers: json, seeds: jsonRows, countsObservations: true),
            Target(name: "observations columnar", method: "POST", path: "/v1/models/fraud/observations", headers: json, seeds: columnar, countsObservations: true),
            Target(name: "observations ndjson", method: "POST", path: "/v1/models/fraud/observations", headers: ["Content-Type": "application/x-ndjson"], seeds: ndjson, countsObservations: true),
            Target(name: "observations protobuf", method: "POST", path: "/v1/models/fraud/observations", headers: ["Content-Type": "application/x-protobuf"], seeds: protobuf, countsObservations: true),
            Target(name: "kserve request", method: "POST", path: "/v1/kserve", headers: ce("request", "fz-req"), seeds: kserveRequests, countsObservations: true),
            Target(name: "kserve response", method: "POST", path: "/v1/kserve", headers: ce("response", "fz-res"), seeds: kserveResponses, countsObservations: true),
            Target(name: "labels", method: "POST", path: "/v1/models/fraud/labels", headers: json, seeds: labels, countsObservations: false),
            Target(name: "labels ndjson", method: "POST", path: "/v1/models/fraud/labels", headers: ["Content-Type": "application/x-ndjson"], seeds: labelsNDJSON, countsObservations: false),
            Target(name: "settings", method: "PUT", path: "/v1/models/fz", headers: json, seeds: settings, countsObservations: false),
            Target(name: "baseline csv", method: "PUT", path: "/v1/models/fz/baseline", headers: ["Content-Type": "text/csv"], seeds: baselineCSV, countsObservations: false),
            Target(name: "baseline json", method: "PUT", path: "/v1/models/fz/baseline", headers: json, seeds: baselineJSON, countsObservations: false),
            Target(name: "candidates", method: "POST", path: "/v1/models/fraud/candidates", headers: json, seeds: candidates, countsObservations: false),
        ]
    }
}

/// Byte- and token-level mutations of a valid body.
enum Mutator {
    static let tokens: [String] = [
        "1e999", "-1e400", "NaN", "Infinity", "-0", "null", "true", "false", "[]", "{}", "\"\"", "\"\\ud800\"", "\"\\u0000\"",
        "99999999999999999999999999", "-9223372036854775809", "18446744073709551616", "0.1e-400", "1E+2", "\"DE\"",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600), String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300),
        "\"" + String(repeating: "x", count: 5000) + "\"", "\"\u{202E}é\u{0301}😀\"", "[0,999999999999,999999999999]", "\"shape\":[0,999999999999,999999999999]",
        "\"shape\":[4611686018427387904,4]", "\u{FEFF}", "\r\n", "\"observations\":", "\"features\":", "\"inputs\":", ",", ":", "\"", "\\",
    ]

    static func mutate(_ original: [UInt8], rng: inout SeededGenerator) -> [UInt8] {
        var b = original
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 9 {
            case 0 where !b.isEmpty: b[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
            case 1 where !b.isEmpty: b[at] = [0x00, 0xFF, 0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x5C, 0x2D, 0x65, 0x39, 0x0A, 0x80][Int(rng.next() % 14)]
            case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 3 where !b.isEmpty:
                let n = Swift.min(b.count - at, 1 + Int(rng.next() % 16))
                b.removeSubrange(at..<(at + n))
            case 4 where !b.isEmpty:
                let n = Swift.min(b.count - at, 1 + Int(rng.next() % 64))
                b.insert(contentsOf: b[at..<(at + n)], at: at)
            case 5: b = Array(b.prefix(at))
            case 6, 7: b.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: at)
            default:
                // A number in the body replaced by an extreme one (protobuf: a varint byte bumped).
                if let i = b.indices.dropFirst(at).first(where: { (0x30...0x39).contains(b[$0]) }) {
                    b.replaceSubrange(i...i, with: Array(["999999999999", "-1", "0", "1e308", "4294967296"][Int(rng.next() % 5)].utf8))
                } else if !b.isEmpty {
                    b[at] |= 0x80
                }
            }
        }
        return b
    }
}
