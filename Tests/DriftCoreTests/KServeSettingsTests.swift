import DriftCore
import Foundation
import XCTest

/// The `kserve` block of a model's settings: which response output is the prediction.
final class KServeSettingsTests: XCTestCase {
    private func settings(_ kserve: String) throws -> ModelSettings {
        let json = #"{"features":[{"name":"amount","kind":"numeric"}],"prediction":{"name":"score","kind":"numeric"},"kserve":\#(kserve)}"#
        let s = try JSONDecoder().decode(ModelSettings.self, from: Data(json.utf8))
        try s.validate()
        return s
    }

    func testOutputIsReadAndKeptThroughEncoding() throws {
        let s = try settings(#"{"output":"proba"}"#)
        XCTAssertEqual(s.kserve, KServeSpec(output: "proba"))
        let again = try JSONDecoder().decode(ModelSettings.self, from: JSONEncoder().encode(s))
        XCTAssertEqual(again.kserve?.output, "proba", "stored settings keep the block")
        XCTAssertEqual(try settings("{}").kserve, KServeSpec(output: nil), "an empty block: the default rule")
        let none = try JSONDecoder().decode(ModelSettings.self, from: Data(#"{"features":[{"name":"a","kind":"numeric"}]}"#.utf8))
        XCTAssertNil(none.kserve)
    }

    func testUnknownKeysAreRejectedByName() {
        func message(_ error: Error) -> String {
            guard case DecodingError.dataCorrupted(let context)? = error as? DecodingError else { return "\(error)" }
            return context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
        }
        XCTAssertThrowsError(try settings(#"{"outptu":"proba"}"#)) { error in
            XCTAssertEqual(message(error), #"kserve.outptu: unknown key; did you mean "output"?"#)
        }
        XCTAssertThrowsError(try settings(#"{"output":"p","max_rows":5,"input":"x"}"#)) { error in
            // Nothing near "input": the keys allowed there are listed.
            XCTAssertEqual(message(error), #"kserve.input: unknown key; the keys allowed here are "output""#)
        }
    }

    func testBadOutputsAreNamed() {
        XCTAssertThrowsError(try settings(#"{"output":""}"#)) { XCTAssertTrue("\($0)".contains("kserve.output must name an output"), "\($0)") }
        XCTAssertThrowsError(try settings(#"{"output":"a\u0001b"}"#)) { XCTAssertTrue("\($0)".contains("printable"), "\($0)") }
        let long = String(repeating: "x", count: 257)
        XCTAssertThrowsError(try settings(#"{"output":"\#(long)"}"#)) { XCTAssertTrue("\($0)".contains("1–256 bytes, got 257"), "\($0)") }
        XCTAssertThrowsError(try settings(#"{"output":5}"#), "a number is not an output name")
    }
}
