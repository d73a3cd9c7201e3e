import CompressNIO
import DriftCore
import DriftIngest
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Decode-rate micro-benchmark: 500-row × 30-feature batches in every format, against
// Foundation's JSONDecoder on the same JSON. Plain code, no XCTest, so that a release-built
// scratch executable can run it too; `IngestBenchmarkTests` runs it small in the test suite.
//
// Release figures: a throwaway package whose executable target includes this file, run with
// `swift run -c release` (see the DriftIngest notes in the README).

public enum IngestBenchmark {
    /// Synthetic traffic: `rows` observations of `features` numeric features with full
    /// shortest-round-trip doubles (the hard case for number parsing), an id, a timestamp, a
    /// score and an endpoint.
    public struct Payloads {
        public var rows: [UInt8]
        public var ndjson: [UInt8]
        public var columnar: [UInt8]
        public var protobuf: [UInt8]
        public var batch: ObservationBatch
    }

    /// - Parameter decimals: round feature values to this many decimals (shorter numbers, as
    ///   many real features are); nil keeps full precision.
    public static func makePayloads(rows: Int = 500, features: Int = 30, decimals: Int? = nil, seed: UInt64 = 42) -> Payloads {
        var g = SeededGenerator(seed: seed)
        let names = (0..<features).map { "f\($0 < 10 ? "0" : "")\($0)" }
        var values = [[Double]](repeating: [], count: features)
        var ids = [String](), ts = [Double](), predictions = [Double]()
        for r in 0..<rows {
            ids.append("pred-\(100_000 + r)")
            ts.append(1_732_870_000 + Double(r) * 0.25)
            predictions.append(g.uniform())
            for f in 0..<features {
                // Mixed magnitudes as real features have (amounts, ratios, counts).
                let x: Double
                switch f % 3 {
                case 0: x = 100 + 35 * g.normal()
                case 1: x = g.uniform()
                default: x = exp(2 * g.normal())
                }
                if let decimals {
                    let scale = pow(10, Double(decimals))
                    values[f].append((x * scale).rounded() / scale)
                } else {
                    values[f].append(x)
                }
            }
        }
        var rowsText = "{\"observations\":["
        var ndjson = ""
        for r in 0..<rows {
            var row = "{\"id\":\"\(ids[r])\",\"ts\":\(ts[r]),\"features\":{"
            for f in 0..<features {
                if f > 0 { row += "," }
                row += "\"\(names[f])\":\(values[f][r])"
            }
            row += "},\"prediction\":\(predictions[r]),\"endpoint\":\"production\"}"
            rowsText += (r > 0 ? "," : "") + row
            ndjson += row + "\n"
        }
        rowsText += "]}"
        var columnar = "{\"ids\":[" + ids.map { "\"\($0)\"" }.joined(separator: ",") + "],"
        columnar += "\"ts\":[" + ts.map { "\($0)" }.joined(separator: ",") + "],\"features\":{"
        columnar += (0..<features).map { f in
            "\"\(names[f])\":[" + values[f].map { "\($0)" }.joined(separator: ",") + "]"
        }.joined(separator: ",")
        columnar += "},\"predictions\":[" + predictions.map { "\($0)" }.joined(separator: ",") + "],\"endpoint\":\"production\"}"

        var featureColumns: [String: IngestColumn] = [:]
        for f in 0..<features { featureColumns[names[f]] = .numbers(values[f], missingRows: []) }
        let batch = ObservationBatch(
            count: rows, ids: ids, timestamps: ts, endpoints: Array(repeating: .production, count: rows),
            features: featureColumns, predictions: .numbers(predictions, missingRows: []))
        return Payloads(rows: Array(rowsText.utf8), ndjson: Array(ndjson.utf8), columnar: Array(columnar.utf8),
                        protobuf: encodeBatchForStorage(batch), batch: batch)
    }

    // Foundation baseline shapes.
    struct FoundationRow: Decodable {
        var id: String?
        var ts: Double?
        var features: [String: Double?]
        var prediction: Double?
        var endpoint: String?
    }
    struct FoundationRows: Decodable { var observations: [FoundationRow] }
    struct FoundationColumnar: Decodable {
        var ids: [String]
        var ts: [Double]
        var features: [String: [Double]]
        var predictions: [Double]
        var endpoint: String
    }

    public struct Result: CustomStringConvertible {
        public var name: String
        public var bytes: Int
        public var rows: Int
        public var secondsPerBatch: Double
        public var rowsPerSecond: Double { Double(rows) / secondsPerBatch }
        public var description: String {
            let ms = secondsPerBatch * 1000
            let mbs = Double(bytes) / secondsPerBatch / 1_000_000
            return name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%9.3f ms/batch %12.0f rows/s %8.1f MB/s  (%d bytes)", ms, rowsPerSecond, mbs, bytes)
        }
    }

    /// This thread's CPU time: a rate per core that other processes on a shared machine do not
    /// distort the way wall-clock time does.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Best of `rounds` timings (thread CPU time) of `iterations` calls each.
    static func measure(_ name: String, bytes: Int, rows: Int, iterations: Int, rounds: Int = 5, _ body: () throws -> Void) rethrows -> Result {
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = cpuSeconds()
            for _ in 0..<iterations { try body() }
            let elapsed = cpuSeconds() - start
            best = Swift.min(best, elapsed / Double(iterations))
        }
        return Result(name: name, bytes: bytes, rows: rows, secondsPerBatch: best)
    }

    /// Runs every decoder on the same traffic; returns one result per line.
    public static func run(rows: Int = 500, features: Int = 30, decimals: Int? = nil, iterations: Int = 50, includeFoundation: Bool = true) throws -> [Result] {
        let p = makePayloads(rows: rows, features: features, decimals: decimals)
        var results: [Result] = []
        var sink = 0
        results.append(try measure("DriftIngest JSON rows", bytes: p.rows.count, rows: rows, iterations: iterations) {
            sink &+= try decodeObservations(p.rows, format: .jsonRows).batch.count
        })
        results.append(try measure("DriftIngest NDJSON", bytes: p.ndjson.count, rows: rows, iterations: iterations) {
            sink &+= try decodeObservations(p.ndjson, format: .ndjson).batch.count
        })
        results.append(try measure("DriftIngest JSON columnar", bytes: p.columnar.count, rows: rows, iterations: iterations) {
            sink &+= try decodeObservations(p.columnar, format: .jsonColumnar).batch.count
        })
        var plain = ByteBufferAllocator().buffer(bytes: p.rows)
        var zipped = try plain.compress(with: .gzip())
        let gzippedRows = zipped.readBytes(length: zipped.readableBytes) ?? []
        results.append(try measure("gunzip + DriftIngest JSON rows", bytes: gzippedRows.count, rows: rows, iterations: iterations) {
            sink &+= try decodeObservations(try gunzip(gzippedRows, maxOutput: 1 << 26), format: .jsonRows).batch.count
        })
        results.append(try measure("DriftIngest protobuf", bytes: p.protobuf.count, rows: rows, iterations: iterations * 10) {
            sink &+= try decodeObservations(p.protobuf, format: .protobuf).batch.count
        })
        results.append(measure("storage encode", bytes: p.protobuf.count, rows: rows, iterations: iterations * 10) {
            sink &+= encodeBatchForStorage(p.batch).count
        })
        results.append(try measure("storage decode", bytes: p.protobuf.count, rows: rows, iterations: iterations * 10) {
            sink &+= try decodeStoredBatch(p.protobuf).count
        })
        if includeFoundation {
            let rowsData = Data(p.rows), columnarData = Data(p.columnar)
            let decoder = JSONDecoder()
            results.append(try measure("Foundation JSONDecoder rows", bytes: p.rows.count, rows: rows, iterations: Swift.max(1, iterations / 5)) {
                sink &+= try decoder.decode(FoundationRows.self, from: rowsData).observations.count
            })
            results.append(try measure("Foundation JSONDecoder columnar", bytes: p.columnar.count, rows: rows, iterations: Swift.max(1, iterations / 5)) {
                sink &+= try decoder.decode(FoundationColumnar.self, from: columnarData).ids.count
            })
        }
        if sink == 42 { print("") }  // keeps the optimiser from dropping the work
        return results
    }
}
