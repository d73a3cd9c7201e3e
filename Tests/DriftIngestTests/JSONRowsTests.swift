import DriftCore
import DriftIngest
import XCTest

final class JSONRowsTests: XCTestCase {
    func testRowsRoundTrip() throws {
        let body = """
        {"observations":[
          {"id":"p1","ts":1732870000.5,"features":{"amount":12.5,"country":"DE","x":null},"prediction":0.93,"endpoint":"production"},
          {"id":"p2","ts":"2026-11-29T12:00:00Z","features":{"amount":-3,"country":"FR"},"prediction":0.1,"endpoint":"canary"},
          {"features":{"amount":1e3,"x":7}}
        ]}
        """
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.rejected, [])
        let b = d.batch
        XCTAssertEqual(b.count, 3)
        XCTAssertEqual(b.ids, ["p1", "p2", nil])
        XCTAssertEqual(b.timestamps, [1732870000.5, 1795953600, nil])
        XCTAssertEqual(b.endpoints, [.production, .canary, .production])
        XCTAssertEqual(numbers(b.features["amount"]).values, [12.5, -3, 1000])
        XCTAssertEqual(numbers(b.features["amount"]).missing, [])
        XCTAssertEqual(cells(b.features["country"]), [.text("DE"), .text("FR"), .missing])
        let x = numbers(b.features["x"])
        XCTAssertEqual(x.missing, [0, 1])
        XCTAssertEqual(x.values[2], 7)
        XCTAssertTrue(x.values[0].isNaN, "missing slots hold NaN, never a real-looking 0")
        let p = numbers(b.predictions)
        XCTAssertEqual(p.values[0...1], [0.93, 0.1])
        XCTAssertEqual(p.missing, [2], "a row without a prediction is missing")
        XCTAssertEqual(Set(b.features.keys), ["amount", "country", "x"])
    }

    func testDefaultEndpointAndNoPredictions() throws {
        let d = try decode(#"{"observations":[{"features":{"a":1}},{"features":{"a":2},"endpoint":null}]}"#, .jsonRows, defaultEndpoint: .shadow)
        XCTAssertEqual(d.batch.endpoints, [.shadow, .shadow])
        XCTAssertNil(d.batch.predictions, "no row has a prediction key")
        XCTAssertEqual(d.batch.ids, [nil, nil])
        XCTAssertEqual(d.batch.timestamps, [nil, nil])
    }

    func testIdsPredictionsAndScalarKinds() throws {
        let body = """
        {"observations":[
          {"id":12345,"features":{"flag":true,"other":false,"s":"a"},"prediction":"fraud","endpoint":"default"},
          {"id":-7,"features":{"flag":false},"prediction":null,"endpoint":"SHADOW"},
          {"id":"x","features":{},"prediction":true},
          {"id":123456789012345678901234567890,"features":{"flag":null}}
        ]}
        """
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.rejected, [])
        XCTAssertEqual(d.batch.ids, ["12345", "-7", "x", "123456789012345678901234567890"], "integer ids keep their decimal text exactly")
        XCTAssertEqual(d.batch.endpoints, [.production, .shadow, .production, .production])
        XCTAssertEqual(cells(d.batch.predictions), [.text("fraud"), .missing, .number(1), .missing])
        XCTAssertEqual(numbers(d.batch.features["flag"]).values[0...1], [1, 0])
        XCTAssertEqual(numbers(d.batch.features["flag"]).missing, [2, 3])
        XCTAssertEqual(numbers(d.batch.features["other"]).values[0], 0)
        XCTAssertEqual(cells(d.batch.features["s"]), [.text("a"), .missing, .missing, .missing])
    }

    func testKeyOrderNewFeaturesAndDuplicateKeys() throws {
        let body = """
        {"observations":[
          {"features":{"a":1,"b":2}},
          {"features":{"b":20,"a":10,"c":30}},
          {"features":{"c":300}},
          {"features":{"a":1000,"a":2000}},
          {"prediction":5,"features":{"a":1,"b":"text"}}
        ]}
        """
        let b = try decode(body, .jsonRows).batch
        XCTAssertEqual(b.count, 5)
        let a = numbers(b.features["a"])
        XCTAssertEqual(a.missing, [2])
        XCTAssertEqual([a.values[0], a.values[1], a.values[3], a.values[4]], [1, 10, 2000, 1], "a repeated key: the last value wins")
        XCTAssertEqual(cells(b.features["b"]), [.number(2), .number(20), .missing, .missing, .text("text")])
        let c = numbers(b.features["c"])
        XCTAssertEqual(c.missing, [0, 3, 4])
        XCTAssertEqual([c.values[1], c.values[2]], [30, 300])
        XCTAssertEqual(numbers(b.predictions).missing, [0, 1, 2, 3])
    }

    func testRFC3339Timestamps() throws {
        let cases: [(String, Double)] = [
            ("2026-11-29T12:00:00Z", 1795953600),
            ("2026-11-29t12:00:00z", 1795953600),
            ("2026-11-29 12:00:00Z", 1795953600),
            ("2026-11-29T12:00:00.250Z", 1795953600.25),
            ("2026-11-29T13:00:00+01:00", 1795953600),
            ("2024-02-29T23:59:59-05:30", 1709270999),
            ("1969-12-31T23:59:59Z", -1),
            ("2000-03-01T00:00:00+01:00", 951865200),
            ("2026-11-29T12:00:00.123456789Z", 1795953600.123456789),
        ]
        for (text, expected) in cases {
            let d = try decode(#"{"observations":[{"ts":"\#(text)","features":{}}]}"#, .jsonRows)
            XCTAssertEqual(d.rejected, [], text)
            XCTAssertEqual(d.batch.timestamps, [expected], text)
        }
        for bad in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T12:00:00",
                    "2026-11-29", "yesterday", "2026-11-29T12:00:00.Z", "2026-11-29T12:00:00+0100", "2025-02-29T00:00:00Z"] {
            let d = try decode(#"{"observations":[{"ts":"\#(bad)","features":{}},{"features":{}}]}"#, .jsonRows)
            XCTAssertEqual(d.batch.count, 1, bad)
            XCTAssertEqual(d.rejected.map(\.row), [0], bad)
            XCTAssertTrue(d.rejected.first?.reason.contains("RFC 3339") ?? false, d.rejected.first?.reason ?? "")
        }
    }

    func testRejectedRowsKeepTheRestOfTheBatch() throws {
        let body = """
        {"observations":[
          {"id":"ok1","features":{"a":1,"b":"x"},"prediction":0.5},
          "not an object",
          {"id":"bad-features","features":[1,2,3]},
          {"id":"nested","features":{"a":2,"b":"y","brand_new":[1,2]},"prediction":0.7},
          {"id":"bad-ts","ts":"later","features":{"a":3}},
          {"id":"bad-endpoint","endpoint":"staging","features":{"a":4}},
          {"id":"bad-prediction","features":{"a":5},"prediction":{"p":1}},
          {"id":1.5,"features":{"a":6}},
          {"id":"ts-nan","ts":NaN,"features":{"a":7}},
          {"id":"empty-name","features":{"a":7,"":1}},
          {"id":"typo","feature":{"a":7}},
          {"id":"ok2","features":{"a":8}}
        ]}
        """
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.batch.ids, ["ok1", "ok2"])
        XCTAssertEqual(d.rejected.map(\.row), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        let reasons = d.rejected.map(\.reason)
        XCTAssertTrue(reasons[0].contains("observation is a string"), reasons[0])
        XCTAssertTrue(reasons[1].contains("\"features\" must be an object, found an array"), reasons[1])
        XCTAssertTrue(reasons[2].contains("feature \"brand_new\" is an array"), reasons[2])
        XCTAssertTrue(reasons[3].contains("\"ts\""), reasons[3])
        XCTAssertTrue(reasons[4].contains("unknown endpoint \"staging\""), reasons[4])
        XCTAssertTrue(reasons[5].contains("\"prediction\" must be"), reasons[5])
        XCTAssertTrue(reasons[6].contains("\"id\" must be a string or an integer, found the number 1.5"), reasons[6])
        XCTAssertTrue(reasons[7].contains("finite"), reasons[7])
        XCTAssertEqual(reasons[8], "a feature has an empty name")
        XCTAssertEqual(reasons[9], "observation has no \"features\" object")
        // Nothing of the rejected rows leaks into the columns.
        XCTAssertEqual(d.batch.count, 2)
        XCTAssertEqual(numbers(d.batch.features["a"]).values, [1, 8])
        XCTAssertEqual(cells(d.batch.features["b"]), [.text("x"), .missing])
        XCTAssertEqual(numbers(d.batch.predictions).values[0], 0.5)
        XCTAssertEqual(numbers(d.batch.predictions).missing, [1])
        XCTAssertNil(d.batch.features["brand_new"], "a feature only a rejected row had is not in the batch")
    }

    func testEscapesAndUnicode() throws {
        let body = #"""
        {"observations":[{"id":"q\"uo\\te\/d","features":{
            "city":"Z\u00fcrich","raw":"Zürich – 東京","emoji":"\ud83d\ude00","controls":"a\b\f\n\r\tz",
            "am\u006funt":1.5,"lone":"x\ud800y","lowlone":"\udc00","pair_then_text":"\uD834\uDD1Ex"}}]}
        """#
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.rejected, [])
        let f = d.batch.features
        XCTAssertEqual(d.batch.ids, ["q\"uo\\te/d"])
        XCTAssertEqual(cells(f["city"]), [.text("Zürich")])
        XCTAssertEqual(cells(f["raw"]), [.text("Zürich – 東京")])
        XCTAssertEqual(cells(f["emoji"]), [.text("😀")])
        XCTAssertEqual(cells(f["controls"]), [.text("a\u{8}\u{c}\n\r\tz")])
        XCTAssertEqual(numbers(f["amount"]).values, [1.5], "an escaped key names the same feature")
        XCTAssertEqual(cells(f["lone"]), [.text("x\u{FFFD}y")], "a lone surrogate becomes U+FFFD")
        XCTAssertEqual(cells(f["lowlone"]), [.text("\u{FFFD}")])
        XCTAssertEqual(cells(f["pair_then_text"]), [.text("𝄞x")])

        // Escaped and plain spellings of one key across rows share the column.
        let two = try decode(#"{"observations":[{"features":{"k\u00e9y":1}},{"features":{"kéy":2}}]}"#, .jsonRows)
        XCTAssertEqual(numbers(two.batch.features["kéy"]).values, [1, 2])
        XCTAssertEqual(two.batch.features.count, 1)
    }

    func testInvalidEscapesAreSyntaxErrors() {
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":"\x"}}]}"#, .jsonRows).contains("invalid escape"))
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":"\u12"}}]}"#, .jsonRows).contains("four hex digits"))
        XCTAssertTrue(errorMessage("{\"observations\":[{\"features\":{\"a\":\"tab\there\"}}]}", .jsonRows).contains("control character"))
    }

    func testWholeRequestErrors() {
        XCTAssertTrue(errorMessage("", .jsonRows).contains("empty"))
        XCTAssertEqual(errorMessage("hello", .jsonRows), "expected a JSON object {\"observations\": [...]}, found a number at byte 0")
        let array = errorMessage(#"[{"features":{}}]"#, .jsonRows)
        XCTAssertTrue(array.contains("found an array") && array.contains("application/x-ndjson"), array)
        let missing = errorMessage(#"{"rows":[]}"#, .jsonRows)
        XCTAssertTrue(missing.contains("no \"observations\" array"), missing)
        XCTAssertEqual(errorMessage(#"{"observations":{}}"#, .jsonRows), "\"observations\" must be an array of objects, found an object at byte 16")
        XCTAssertTrue(errorMessage(#"{"observations":[],"observations":[]}"#, .jsonRows).contains("appears twice"))
        // Syntax errors name the byte.
        let body = #"{"observations":[{"features":{"a":1,}}]}"#
        let trailingComma = errorMessage(body, .jsonRows)
        let offset = Array(body.utf8).firstIndex(of: UInt8(ascii: ",")).map { $0 + 1 } ?? -1
        XCTAssertEqual(trailingComma, "invalid JSON at byte \(offset): expected a string key in double quotes, found '}'")
        XCTAssertEqual(errorMessage(#"{"observations":[{"features":{"a":1}}]} x"#, .jsonRows), "invalid JSON at byte 40: unexpected 'x' after the JSON value")
        XCTAssertEqual(errorMessage(#"{"observations":[{"features":{"a":01}}]}"#, .jsonRows), "invalid JSON at byte 35: expected ',' or '}' in \"features\", found '1'")
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":"open}}]}"#, .jsonRows).contains("unterminated string"))
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":tru}}]}"#, .jsonRows).contains("invalid literal"))
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":1.}}]}"#, .jsonRows).contains("digit after the decimal point"))
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":-}}]}"#, .jsonRows).contains("expected a digit"))
        XCTAssertTrue(errorMessage(#"{"observations":[{"features":{"a":1e}}]}"#, .jsonRows).contains("exponent"))
        let deep = "{\"observations\":[{\"x\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}]}"
        XCTAssertTrue(errorMessage(deep, .jsonRows).contains("nesting deeper"))
    }

    func testMaxRows() throws {
        let body = #"{"observations":[{"features":{}},{"features":{}},{"features":{}}]}"#
        XCTAssertEqual(try decode(body, .jsonRows, maxRows: 3).batch.count, 3)
        XCTAssertTrue(errorMessage(body, .jsonRows, maxRows: 2).contains("the limit is 2"))
        XCTAssertTrue(errorMessage("{\"features\":{}}\n{\"features\":{}}\n", .ndjson, maxRows: 1).contains("the limit is 1"))
        XCTAssertTrue(errorMessage(#"{"ids":["a","b"]}"#, .jsonColumnar, maxRows: 1).contains("the limit is 1"))
    }

    func testLenientNonFiniteLiterals() throws {
        // Python's json.dumps writes these for float('nan') / float('inf').
        let d = try decode(#"{"observations":[{"features":{"a":NaN,"b":Infinity,"c":-Infinity,"d":-0.0,"e":-0}}]}"#, .jsonRows)
        XCTAssertTrue(numbers(d.batch.features["a"]).values[0].isNaN)
        XCTAssertEqual(numbers(d.batch.features["b"]).values, [.infinity])
        XCTAssertEqual(numbers(d.batch.features["c"]).values, [-.infinity])
        XCTAssertEqual(numbers(d.batch.features["d"]).values[0].bitPattern, (-0.0).bitPattern)
        XCTAssertEqual(numbers(d.batch.features["e"]).values[0].bitPattern, (-0.0).bitPattern)
    }

    func testWhitespaceEverywhere() throws {
        let body = " \n\t{ \"observations\" :\r\n [ { \"features\" : { \"a\" : 1 , \"b\" : \"x\" } , \"id\" : \"i\" } ] } \n"
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.batch.ids, ["i"])
        XCTAssertEqual(numbers(d.batch.features["a"]).values, [1])
    }

    func testUnknownKeysIgnored() throws {
        let body = #"{"model":"fraud","observations":[{"label":{"deep":[1,{"x":null}]},"features":{"a":1}}],"extra":[1,2]}"#
        let d = try decode(body, .jsonRows)
        XCTAssertEqual(d.batch.count, 1)
        XCTAssertEqual(d.rejected, [])
    }
}
