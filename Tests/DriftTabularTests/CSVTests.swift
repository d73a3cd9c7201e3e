import DriftCore
@testable import DriftTabular
import XCTest

final class CSVTests: XCTestCase {
    private func records(_ text: String, chunkSize: Int = 1 << 22) throws -> [[String]] {
        var reader = CSVRecordReader(source: "t.csv", chunkSize: chunkSize, read: inMemoryReader(Array(text.utf8)))
        var out: [[String]] = []
        while try reader.nextRecord({ fields, _ in out.append(fields.map { String(decoding: $0, as: UTF8.self) }) }) {}
        return out
    }

    private func inMemoryReader(_ bytes: [UInt8]) -> (UnsafeMutableRawBufferPointer) throws -> Int {
        final class Cursor { var offset = 0 }
        let cursor = Cursor()
        return { dst in
            let n = min(dst.count, bytes.count - cursor.offset)
            for k in 0..<n { dst[k] = bytes[cursor.offset + k] }
            cursor.offset += n
            return n
        }
    }

    func testRFC4180QuotingCRLFAndBlankLines() throws {
        let text = "a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"multi\nline\",\r\n3,,last"
        let expected = [["a", "b", "c"], ["1", "x,y", "say \"hi\""], ["2", "multi\nline", ""], ["3", "", "last"]]
        XCTAssertEqual(try records(text), expected)
        // Same records whatever the chunk boundaries.
        for chunk in [1, 2, 3, 5, 7, 64] {
            XCTAssertEqual(try records(text, chunkSize: chunk), expected, "chunk \(chunk)")
        }
    }

    func testErrorsNameTheLine() throws {
        XCTAssertThrowsError(try readCSVTable(bytes: Array("a,b\n1,2\n3\n".utf8), source: "x.csv")) { error in
            XCTAssertEqual((error as? InputError)?.description, "x.csv:3: expected 2 fields as in the header, found 1")
        }
        XCTAssertThrowsError(try readCSVTable(bytes: Array("a,b\n1,\"2\n".utf8), source: "x.csv")) { error in
            XCTAssertEqual((error as? InputError)?.description, "x.csv:2: unterminated quoted field at end of file")
        }
        XCTAssertThrowsError(try readCSVTable(bytes: Array("a,a\n1,2\n".utf8), source: "x.csv")) { error in
            XCTAssertEqual((error as? InputError)?.description, "x.csv:1: duplicate column name \"a\" in the header")
        }
        XCTAssertThrowsError(try readCSVTable(bytes: [], source: "x.csv")) { error in
            XCTAssertEqual((error as? InputError)?.description, "x.csv: empty file: a header row is required")
        }
        XCTAssertThrowsError(try readCSVTable(bytes: Array("a,b\n1,\"2\"x\n".utf8), source: "x.csv")) { error in
            XCTAssertEqual((error as? InputError)?.line, 2)
        }
        XCTAssertThrowsError(try readCSVTable(path: "/nonexistent/file.csv")) { error in
            XCTAssertTrue((error as? InputError)?.description.hasPrefix("/nonexistent/file.csv: cannot open") ?? false)
        }
    }

    func testKindInferenceMissingAndQualityCounts() throws {
        let text = "\u{FEFF}amount,country,flag,score\n1.5,DE,1,nan\n,FR,0,inf\n2.5,DE,1,-inf\n3,,0,0.5\n"
        let table = try readCSVTable(bytes: Array(text.utf8), source: "t.csv")
        XCTAssertEqual(table.rows, 4)
        XCTAssertEqual(table.columns.map(\.name), ["amount", "country", "flag", "score"])
        XCTAssertEqual(table.columns.map(\.kind), [.numeric, .categorical, .numeric, .numeric])
        guard case .numeric(let amount) = table.columns[0], case .categorical(let country) = table.columns[1],
              case .numeric(let score) = table.columns[3] else { return XCTFail("kinds") }
        XCTAssertEqual(amount.finiteValues(), [1.5, 2.5, 3])
        XCTAssertEqual(amount.quality.missing, 1)
        XCTAssertEqual(country.counts(), ["DE": 2, "FR": 1])
        XCTAssertEqual(country.quality.missing, 1)
        XCTAssertEqual(score.quality.nan, 1)
        XCTAssertEqual(score.quality.positiveInfinity, 1)
        XCTAssertEqual(score.quality.negativeInfinity, 1)
        XCTAssertEqual(score.quality.usable, 1)

        // Forced categorical; and a numeric column read against a fixed kind counts text as wrong type.
        let forced = try readCSVTable(bytes: Array(text.utf8), source: "t.csv", plan: CSVColumnPlan(categorical: ["flag"], ignore: ["score"]))
        XCTAssertEqual(forced.columns.map(\.kind), [.numeric, .categorical, .categorical])
        let window = try readCSVTable(bytes: Array("amount\n1\nabc\n2\n".utf8), source: "w.csv",
                                      plan: CSVColumnPlan(fixedKinds: ["amount": .numeric]))
        guard case .numeric(let w) = window.columns[0] else { return XCTFail("kind") }
        XCTAssertEqual(w.quality.wrongType, 1)
        XCTAssertEqual(w.finiteValues(), [1, 2])
    }

    func testColumnWithTextLateInTheFileBecomesCategoricalWithOriginalLabels() throws {
        var text = "code\n"
        for i in 0..<1000 { text += "0\(i % 7)\n" }
        text += "X1\n"
        let table = try readCSVTable(bytes: Array(text.utf8), source: "t.csv")
        guard case .categorical(let c) = table.columns[0] else { return XCTFail("expected categorical") }
        XCTAssertEqual(c.counts()["03"], 143)
        XCTAssertEqual(c.counts()["X1"], 1)
        XCTAssertEqual(c.quality.wrongType, 0)
    }

    func testNumberParsingIsCorrectlyRounded() {
        func parse(_ s: String) -> ParsedNumber {
            Array(s.utf8).withUnsafeBufferPointer { parseNumber($0) }
        }
        var g = SeededGenerator(seed: 1)
        for _ in 0..<20_000 {
            let digits = Int(g.next() % 17) + 1
            var s = g.next() % 2 == 0 ? "-" : ""
            for k in 0..<digits {
                s += String(g.next() % 10)
                if k == Int(g.next() % UInt64(digits)) && !s.contains(".") { s += "." }
            }
            if g.next() % 4 == 0 { s += "e\(Int(g.next() % 40) - 20)" }
            XCTAssertEqual(parse(s), Double(s).map(ParsedNumber.number) ?? .notANumber, s)
        }
        XCTAssertEqual(parse("  42 "), .number(42))
        XCTAssertEqual(parse(""), .empty)
        XCTAssertEqual(parse("   "), .empty)
        XCTAssertEqual(parse("1e"), .notANumber)
        XCTAssertEqual(parse("0x10"), .notANumber)
        XCTAssertEqual(parse("abc"), .notANumber)
        XCTAssertEqual(parse("1.5.2"), .notANumber)
        XCTAssertEqual(parse("Infinity"), .number(.infinity))
        XCTAssertEqual(parse("0.1"), .number(0.1))
        XCTAssertEqual(parse("123456789012345678901234567890"), .number(123456789012345678901234567890.0))
        guard case .number(let nan) = parse("NaN") else { return XCTFail("NaN") }
        XCTAssertTrue(nan.isNaN)
    }
}
