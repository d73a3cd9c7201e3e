import DriftCore
import DriftIngest
import SwiftProtobuf
import XCTest

final class ProtobufIngestTests: XCTestCase {
    private func column(_ name: String, numbers: [Double] = [], texts: [String] = [], missing: [UInt32] = [], textRows: [UInt32] = []) -> Driftwatch_V1_Column {
        var c = Driftwatch_V1_Column()
        c.name = name
        c.numbers = numbers
        c.texts = texts
        c.missingRows = missing
        c.textRows = textRows
        return c
    }

    private func encoded(_ m: Driftwatch_V1_ObservationBatch) throws -> [UInt8] { try m.serializedBytes() }

    private func protobufError(_ m: Driftwatch_V1_ObservationBatch, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            _ = try decodeObservations(try encoded(m), format: .protobuf)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch let e as IngestDecodingError {
            return e.message
        }
    }

    func testSidecarMessage() throws {
        var m = Driftwatch_V1_ObservationBatch()
        m.count = 4
        m.ids = ["a", "", "c", "d"]
        m.missingIds = [1]
        m.timestamps = [1_732_870_000, 0, 1_732_870_002.5, 1_732_870_003]
        m.missingTimestamps = [1]
        m.endpoint = .canary
        m.endpoints = [.unspecified, .shadow, .production, .unspecified]
        m.features = [
            column("amount", numbers: [1.5, 0, -2, .infinity], missing: [1]),
            column("country", texts: ["DE", "", "FR", "DE"], missing: [1]),
            column("age", numbers: [30, 0, 0, 41], texts: ["", "", "unknown", ""], missing: [1], textRows: [2]),
            column("empty"),
        ]
        m.predictions = column("", numbers: [0.1, 0.2, 0.3, 0.4])
        let d = try decodeObservations(try encoded(m), format: .protobuf)
        XCTAssertEqual(d.rejected, [])
        let b = d.batch
        XCTAssertEqual(b.count, 4)
        XCTAssertEqual(b.ids, ["a", nil, "c", "d"])
        XCTAssertEqual(b.timestamps, [1_732_870_000, nil, 1_732_870_002.5, 1_732_870_003])
        XCTAssertEqual(b.endpoints, [.canary, .shadow, .production, .canary])
        let amount = numbers(b.features["amount"])
        XCTAssertEqual(amount.missing, [1])
        XCTAssertTrue(amount.values[1].isNaN, "a sender's placeholder becomes NaN")
        XCTAssertEqual(amount.values[3], .infinity)
        XCTAssertEqual(cells(b.features["country"]), [.text("DE"), .missing, .text("FR"), .text("DE")])
        XCTAssertEqual(cells(b.features["age"]), [.number(30), .missing, .text("unknown"), .number(41)])
        XCTAssertEqual(numbers(b.features["empty"]).missing, [0, 1, 2, 3])
        XCTAssertEqual(numbers(b.predictions).values, [0.1, 0.2, 0.3, 0.4])
    }

    func testCountInferredAndDefaults() throws {
        var m = Driftwatch_V1_ObservationBatch()
        m.features = [column("x", numbers: [1, 2, 3])]
        let d = try decodeObservations(try encoded(m), format: .protobuf, defaultEndpoint: .shadow)
        XCTAssertEqual(d.batch.count, 3)
        XCTAssertEqual(d.batch.endpoints, [.shadow, .shadow, .shadow])
        XCTAssertEqual(d.batch.ids, [nil, nil, nil])
        XCTAssertNil(d.batch.predictions)
    }

    func testBadRowsRejected() throws {
        var m = Driftwatch_V1_ObservationBatch()
        m.count = 3
        m.timestamps = [1, .nan, 3]
        m.endpoints = [.production, .production, Driftwatch_V1_Endpoint(rawValue: 9) ?? .unspecified]
        m.features = [column("x", numbers: [10, 20, 30], missing: [0])]
        let d = try decodeObservations(try encoded(m), format: .protobuf)
        XCTAssertEqual(d.rejected.map(\.row), [1, 2])
        XCTAssertTrue(d.rejected[0].reason.contains("not a finite"), d.rejected[0].reason)
        XCTAssertTrue(d.rejected[1].reason.contains("unknown endpoint number 9"), d.rejected[1].reason)
        XCTAssertEqual(d.batch.count, 1)
        XCTAssertEqual(numbers(d.batch.features["x"]).missing, [0])
        XCTAssertEqual(d.batch.timestamps, [1])
    }

    func testWholeRequestErrors() throws {
        var m = Driftwatch_V1_ObservationBatch()
        m.count = 3
        m.features = [column("x", numbers: [1, 2])]
        XCTAssertEqual(try protobufError(m), "protobuf batch: feature \"x\" numbers has 2 entries but the batch has 3 rows")
        m.features = [column("x", numbers: [1, 2, 3], missing: [2, 1])]
        XCTAssertTrue(try protobufError(m).contains("ascending row indices"))
        m.features = [column("x", numbers: [1, 2, 3]), column("x", numbers: [1, 2, 3])]
        XCTAssertTrue(try protobufError(m).contains("appears twice"))
        m.features = [column("", numbers: [1, 2, 3])]
        XCTAssertTrue(try protobufError(m).contains("empty name"))
        m.features = []
        m.ids = ["a"]
        XCTAssertTrue(try protobufError(m).contains("ids has 1 entries"))

        do {
            _ = try decodeObservations([0xFF, 0xFF, 0xFF], format: .protobuf)
            XCTFail("expected an error")
        } catch let e as IngestDecodingError {
            XCTAssertTrue(e.message.hasPrefix("the body is not a valid driftwatch.v1.ObservationBatch"), e.message)
        }
        var big = Driftwatch_V1_ObservationBatch()
        big.count = 11
        XCTAssertThrowsError(try decodeObservations(try encoded(big), format: .protobuf, maxRows: 10))
    }
}

final class StorageCodecTests: XCTestCase {
    func testExactRoundTrip() throws {
        let nanPayload = Double(bitPattern: 0x7FF8_0000_0000_1234)
        let batch = ObservationBatch(
            count: 5,
            ids: ["a", nil, "", "d", "ü€😀"],
            timestamps: [1.5, nil, -0.0, 1e300, 0],
            endpoints: [.production, .canary, .shadow, .production, .canary],
            features: [
                "num": .numbers([.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude], missingRows: []),
                "withMissing": .numbers([1, nanPayload, 3, 0.1, 7], missingRows: [1, 3]),
                "text": .cells([.text("DE"), .missing, .text(""), .text("FR"), .missing]),
                "mixed": .cells([.number(-0.0), .text("x"), .missing, .number(nanPayload), .text("")]),
                "allNumberCells": .cells([.number(1), .number(2), .missing, .number(3), .number(4)]),
                "allMissingCells": .cells([.missing, .missing, .missing, .missing, .missing]),
                "allMissingNumbers": .numbers([.nan, .nan, .nan, .nan, .nan], missingRows: [0, 1, 2, 3, 4]),
                "": .numbers([1, 2, 3, 4, 5], missingRows: []),
            ],
            predictions: .cells([.text("fraud"), .number(0.5), .missing, .text("ok"), .number(1)]))
        let blob = encodeBatchForStorage(batch)
        let back = try decodeStoredBatch(blob)
        assertBitwiseEqual(back, batch)
        guard case .numbers(let v, _)? = back.features["withMissing"] else { return XCTFail("kind") }
        XCTAssertEqual(v[1].bitPattern, nanPayload.bitPattern, "even ignored slots keep their bits")
        XCTAssertEqual(encodeBatchForStorage(back), blob, "encoding is deterministic")
    }

    func testUniformEndpointsNoIdsNoTimestampsNoPredictions() throws {
        let batch = ObservationBatch(
            count: 3, ids: [nil, nil, nil], timestamps: [nil, nil, nil], endpoints: [.shadow, .shadow, .shadow],
            features: ["x": .numbers([1, 2, 3], missingRows: [])], predictions: nil)
        let back = try decodeStoredBatch(encodeBatchForStorage(batch))
        assertBitwiseEqual(back, batch)
        XCTAssertNil(back.predictions)
        let empty = try decodeStoredBatch(encodeBatchForStorage(.empty))
        assertBitwiseEqual(empty, .empty)
    }

    func testDecodedTrafficRoundTrips() throws {
        let p = IngestBenchmark.makePayloads(rows: 50, features: 7)
        for (body, format) in [(p.rows, IngestFormat.jsonRows), (p.columnar, .jsonColumnar), (p.ndjson, .ndjson), (p.protobuf, .protobuf)] {
            let batch = try decodeObservations(body, format: format).batch
            assertBitwiseEqual(try decodeStoredBatch(encodeBatchForStorage(batch)), batch)
            assertBitwiseEqual(batch, p.batch)
        }
    }

    func testCorruptBlobThrows() {
        XCTAssertThrowsError(try decodeStoredBatch([0x0A, 0xFF]))
        var m = Driftwatch_V1_ObservationBatch()
        m.count = 2
        m.ids = ["only one"]
        XCTAssertThrowsError(try decodeStoredBatch(try m.serializedBytes()))
    }
}
