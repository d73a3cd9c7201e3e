import DriftCore
import DriftIngest
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Numbers must come out bit-exact: the decoder's Eisel–Lemire path is checked against the
/// shortest round-trip text of random doubles and against the C library's strtod (correctly
/// rounded on glibc) on random and adversarial decimal strings.
final class NumberExactnessTests: XCTestCase {
    private func decodeNumbers(_ texts: [String]) throws -> [Double] {
        let body = "{\"features\":{\"x\":[" + texts.joined(separator: ",") + "]}}"
        let d = try decode(body, .jsonColumnar)
        XCTAssertEqual(d.rejected, [])
        return numbers(d.batch.features["x"]).values
    }

    private func strtodValue(_ text: String) -> Double {
        text.withCString { strtod($0, nil) }
    }

    func testShortestReprOfRandomDoublesRoundTrips() throws {
        var g = SeededGenerator(seed: 7)
        var values: [Double] = []
        while values.count < 20_000 {
            let x = Double(bitPattern: g.next())
            if x.isFinite { values.append(x) }
        }
        // Ordinary magnitudes too, where most traffic is.
        for _ in 0..<20_000 { values.append((g.uniform() - 0.5) * pow(10, Double(Int(g.next() % 24)) - 8)) }
        let parsed = try decodeNumbers(values.map { "\($0)" })
        XCTAssertEqual(parsed.count, values.count)
        var mismatches = 0
        for (a, b) in zip(values, parsed) where a.bitPattern != b.bitPattern {
            if mismatches < 5 { XCTFail("\(a) parsed as \(b)") }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0)

        // The rows format goes through the same reader.
        let rows = "{\"observations\":[" + values.prefix(2000).map { "{\"features\":{\"x\":\($0)}}" }.joined(separator: ",") + "]}"
        let fromRows = numbers(try decode(rows, .jsonRows).batch.features["x"]).values
        XCTAssertEqual(fromRows.map(\.bitPattern), values.prefix(2000).map(\.bitPattern))
    }

    func testRandomDecimalStringsMatchStrtod() throws {
        var g = SeededGenerator(seed: 11)
        var texts: [String] = []
        for _ in 0..<30_000 {
            let digitCount = 1 + Int(g.next() % 22)
            var digits = String(1 + g.next() % 9)
            for _ in 1..<digitCount { digits += String(g.next() % 10) }
            let point = Int(g.next() % UInt64(digitCount + 1))
            var text = digits
            if point < digitCount { text.insert(".", at: text.index(text.startIndex, offsetBy: point == 0 ? 0 : point)) }
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasSuffix(".") { text.removeLast() }
            let exponent = Int(g.next() % 700) - 350
            if g.next() % 4 != 0 { text += "e\(exponent)" }
            if g.next() % 2 == 0 { text = "-" + text }
            texts.append(text)
        }
        let parsed = try decodeNumbers(texts)
        var mismatches = 0
        for (t, v) in zip(texts, parsed) where v.bitPattern != strtodValue(t).bitPattern {
            if mismatches < 5 { XCTFail("\(t): got \(v), strtod \(strtodValue(t))") }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testHardCases() throws {
        let texts = [
            "0", "-0", "0.0", "0e10", "0.000", "1", "-1", "1.5", "1e23", "9007199254740993", "9007199254740992",
            "9007199254740991", "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
            "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
            "1e308", "1e309", "1e400", "1e-400", "-1e-400", "8.988465674311579e307", "0.1", "0.2", "0.3",
            "7.2057594037927933e16", "9.5e-5", "5e-324", "3e-324", "1e-323",
            "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124",
            "1.00000000000000011102230246251565404236316680908203126",
            "0.000000000000000000000000000000000000001", "100000000000000000000000",
            "4503599627370496.5", "4503599627370497.5", "2.5e-1", "6.02214076e23", "1732870000.5",
            "0.8444218515250481", "123.45678901234567", "1e-22", "1e22", "1e-23", "12345678901234567e-10",
        ]
        let parsed = try decodeNumbers(texts)
        for (t, v) in zip(texts, parsed) {
            XCTAssertEqual(v.bitPattern, strtodValue(t).bitPattern, "\(t): got \(v), strtod \(strtodValue(t))")
        }
        XCTAssertEqual(parsed[1].bitPattern, (-0.0).bitPattern)
        XCTAssertEqual(parsed[9], 9007199254740992, "halfway: ties to even")
        XCTAssertEqual(parsed[24], .infinity)
        XCTAssertEqual(parsed[27], -0.0)
    }
}
