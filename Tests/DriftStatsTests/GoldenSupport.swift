import Foundation
import XCTest

/// Fixtures copied from ../shared/fixtures/stats (scipy 1.17.1, numpy 2.4.6, Evidently 0.7.23;
/// see Tests/Fixtures/stats/README.md), found relative to this file so `swift test` needs
/// nothing outside the checkout.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/stats")

    /// JSONDecoder parses numbers exactly (JSONSerialization does not); non-finite expected
    /// values are strings in the fixtures.
    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(T.self, from: data)
    }
}

struct GoldenFile<Case: Decodable>: Decodable {
    var family: String
    var cases: [Case]
}

/// |got − want| ≤ atol + rtol·|want|, with equal infinities and NaNs accepted.
func assertClose(_ got: Double, _ want: Double, rtol: Double = 1e-9, atol: Double = 1e-12,
                 _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    if got == want || (got.isNaN && want.isNaN) { return }
    let ok = abs(got - want) <= atol + rtol * abs(want)
    XCTAssertTrue(ok, "\(what()): got \(got), want \(want) (diff \(abs(got - want)))", file: file, line: line)
}

func assertClose(_ got: [Double], _ want: [Double], rtol: Double = 1e-9, atol: Double = 1e-12,
                 _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, "\(what()): length", file: file, line: line)
    for (i, (g, w)) in zip(got, want).enumerated() {
        assertClose(g, w, rtol: rtol, atol: atol, "\(what())[\(i)]", file: file, line: line)
    }
}
