import DriftCore
import DriftIngest
import XCTest

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func decode(_ s: String, _ format: IngestFormat, defaultEndpoint: Endpoint = .production, maxRows: Int = 1_000_000) throws -> DecodedBatch {
    try decodeObservations(bytes(s), format: format, defaultEndpoint: defaultEndpoint, maxRows: maxRows)
}

/// The whole-request error message of decoding `s`, failing the test if it decodes.
func errorMessage(_ s: String, _ format: IngestFormat, maxRows: Int = 1_000_000, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try decode(s, format, maxRows: maxRows)
        XCTFail("expected an IngestDecodingError", file: file, line: line)
        return ""
    } catch let e as IngestDecodingError {
        return e.message
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return ""
    }
}

/// Numbers of a `.numbers` column, failing the test for `.cells`.
func numbers(_ c: IngestColumn?, file: StaticString = #filePath, line: UInt = #line) -> (values: [Double], missing: [Int]) {
    guard case .numbers(let v, let m)? = c else {
        XCTFail("expected a .numbers column, got \(String(describing: c))", file: file, line: line)
        return ([], [])
    }
    return (v, m)
}

func cells(_ c: IngestColumn?, file: StaticString = #filePath, line: UInt = #line) -> [Cell] {
    guard case .cells(let cells)? = c else {
        XCTFail("expected a .cells column, got \(String(describing: c))", file: file, line: line)
        return []
    }
    return cells
}

/// Column equality that compares doubles by bit pattern (NaN == NaN, -0.0 != 0.0).
func bitwiseEqual(_ a: IngestColumn?, _ b: IngestColumn?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (.numbers(let va, let ma)?, .numbers(let vb, let mb)?):
        return ma == mb && va.count == vb.count && zip(va, vb).allSatisfy { $0.bitPattern == $1.bitPattern }
    case (.cells(let ca)?, .cells(let cb)?):
        return ca.count == cb.count && zip(ca, cb).allSatisfy { x, y in
            switch (x, y) {
            case (.missing, .missing): return true
            case (.number(let p), .number(let q)): return p.bitPattern == q.bitPattern
            case (.text(let p), .text(let q)): return p == q
            default: return false
            }
        }
    default: return false
    }
}

func assertBitwiseEqual(_ a: ObservationBatch, _ b: ObservationBatch, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "count", file: file, line: line)
    XCTAssertEqual(a.ids, b.ids, "ids", file: file, line: line)
    XCTAssertEqual(a.timestamps.map { $0?.bitPattern }, b.timestamps.map { $0?.bitPattern }, "timestamps", file: file, line: line)
    XCTAssertEqual(a.endpoints, b.endpoints, "endpoints", file: file, line: line)
    XCTAssertEqual(Set(a.features.keys), Set(b.features.keys), "feature names", file: file, line: line)
    for (name, column) in a.features {
        XCTAssertTrue(bitwiseEqual(column, b.features[name]), "feature \(name): \(column) vs \(String(describing: b.features[name]))", file: file, line: line)
    }
    XCTAssertTrue(bitwiseEqual(a.predictions, b.predictions), "predictions: \(String(describing: a.predictions)) vs \(String(describing: b.predictions))", file: file, line: line)
}
