import ArgumentParser
import DriftCore
import DriftStore
import Foundation

/// The store alone, no HTTP and no decoding: how fast batches append and how fast the
/// background indexer makes their prediction ids findable, as the index grows.
struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure the SQLite store: batch appends and prediction-id indexing.")

    @Option(help: "Batches to append.") var batches = 8000
    @Option(help: "Rows (and prediction ids) per batch.") var rows = 500
    @Option(help: "Payload bytes per batch (an encoded 500-row × 30-feature batch is ~130 KB).") var payloadBytes = 130_000

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("driftwatch-bench-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStore(directory: directory)
        defer { try? store.close() }
        try store.upsertModel(name: "bench", settings: ModelSettings(features: [], prediction: nil), now: Date())
        let payload = Data((0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })
        var generator = SystemRandomNumberGenerator()
        var appendSeconds = 0.0, indexSeconds = 0.0, indexed = 0
        let clock = ContinuousClock()
        print("driftwatch bench store — \(batches) batches × \(rows) random ids, \(payloadBytes)-byte payloads")
        for b in 0..<batches {
            let ids = (0..<rows).map { (id: "req-\(generator.next() as UInt64)", row: $0) }
            let t0 = clock.now
            _ = try store.appendBatch(
                model: "bench", receivedAt: Date(), rows: rows, firstEventTime: nil, lastEventTime: nil,
                idempotencyKey: nil, payload: payload, predictionIDs: ids)
            appendSeconds += (clock.now - t0).seconds
            if b % 256 == 255 || b == batches - 1 {
                let t1 = clock.now
                indexed += try store.indexPendingPredictionIDs(maxBatches: 256)
                indexSeconds += (clock.now - t1).seconds
                if (b + 1) % 2048 == 0 || b == batches - 1 {
                    print(String(format: "  %8d ids: append %7.0f obs/s, index %8.0f ids/s (cumulative)",
                                 indexed, Double((b + 1) * rows) / appendSeconds, Double(indexed) / indexSeconds))
                }
            }
        }
    }
}
