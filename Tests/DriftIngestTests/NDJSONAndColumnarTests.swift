import DriftCore
import DriftIngest
import XCTest

final class NDJSONTests: XCTestCase {
    func testLinesBlankLinesAndCRLF() throws {
        let body = "{\"id\":\"a\",\"features\":{\"x\":1}}\r\n\n   \n{\"id\":\"b\",\"features\":{\"x\":2},\"prediction\":\"yes\"}\n{\"id\":\"c\",\"features\":{\"x\":3}}"
        let d = try decode(body, .ndjson)
        XCTAssertEqual(d.rejected, [])
        XCTAssertEqual(d.batch.ids, ["a", "b", "c"])
        XCTAssertEqual(numbers(d.batch.features["x"]).values, [1, 2, 3])
        XCTAssertEqual(cells(d.batch.predictions), [.missing, .text("yes"), .missing])
    }

    func testMalformedLineRejectsOnlyThatRow() throws {
        let body = """
        {"id":"a","features":{"x":1,"y":"u"}}
        {"id":"b","features":{"x":2,"y":"v","z":9
        {"id":"c","features":{"x":3}} trailing
        [1,2]

        {"id":"d","features":{"x":4},"endpoint":"nowhere"}
        {"id":"e","features":{"x":5}}
        """
        let d = try decode(body, .ndjson)
        XCTAssertEqual(d.batch.ids, ["a", "e"])
        XCTAssertEqual(numbers(d.batch.features["x"]).values, [1, 5])
        XCTAssertEqual(cells(d.batch.features["y"]), [.text("u"), .missing])
        XCTAssertNil(d.batch.features["z"], "a feature seen only on a malformed line is not in the batch")
        XCTAssertEqual(d.rejected.map(\.row), [1, 2, 3, 5], "row = line index, blank lines counted")
        XCTAssertTrue(d.rejected[0].reason.hasPrefix("line 2: invalid JSON at byte "), d.rejected[0].reason)
        XCTAssertTrue(d.rejected[0].reason.contains("end of input"), d.rejected[0].reason)
        XCTAssertTrue(d.rejected[1].reason.contains("unexpected 't' after the JSON value"), d.rejected[1].reason)
        XCTAssertTrue(d.rejected[2].reason.contains("observation is an array"), d.rejected[2].reason)
        XCTAssertTrue(d.rejected[3].reason.contains("unknown endpoint \"nowhere\""), d.rejected[3].reason)
    }

    func testEmptyBody() {
        XCTAssertTrue(errorMessage("\n\n", .ndjson).contains("no observations"))
    }
}

final class ColumnarTests: XCTestCase {
    func testColumnarRoundTrip() throws {
        let body = """
        {"ids":["p1",2,null],"ts":[1732870000.5,"2026-11-29T12:00:00Z",null],
         "features":{"amount":[12.5,null,3],"country":["DE","FR",null],"flag":[true,false,null],"mixed":[1,"x",null]},
         "predictions":[0.9,0.1,null],"endpoint":"canary"}
        """
        let d = try decode(body, .jsonColumnar)
        XCTAssertEqual(d.rejected, [])
        let b = d.batch
        XCTAssertEqual(b.count, 3)
        XCTAssertEqual(b.ids, ["p1", "2", nil])
        XCTAssertEqual(b.timestamps, [1732870000.5, 1795953600, nil])
        XCTAssertEqual(b.endpoints, [.canary, .canary, .canary])
        let amount = numbers(b.features["amount"])
        XCTAssertEqual(amount.missing, [1])
        XCTAssertEqual([amount.values[0], amount.values[2]], [12.5, 3])
        XCTAssertEqual(cells(b.features["country"]), [.text("DE"), .text("FR"), .missing])
        XCTAssertEqual(numbers(b.features["flag"]).values[0...1], [1, 0])
        XCTAssertEqual(cells(b.features["mixed"]), [.number(1), .text("x"), .missing])
        XCTAssertEqual(numbers(b.predictions).missing, [2])
    }

    func testPerRowEndpointsAndDefaults() throws {
        let d = try decode(#"{"endpoints":["production",null,"shadow"],"features":{"a":[1,2,3]},"endpoint":"canary"}"#, .jsonColumnar)
        XCTAssertEqual(d.batch.endpoints, [.production, .canary, .shadow], "null entries take \"endpoint\", even when it comes later")
        XCTAssertEqual(d.batch.ids, [nil, nil, nil])
        XCTAssertNil(d.batch.predictions)
        let e = try decode(#"{"features":{"a":[1,2]}}"#, .jsonColumnar, defaultEndpoint: .shadow)
        XCTAssertEqual(e.batch.endpoints, [.shadow, .shadow])
    }

    func testLengthMismatchNamesBothColumns() {
        XCTAssertEqual(
            errorMessage(#"{"ids":["a","b","c"],"features":{"amount":[1,2,3],"country":["DE","FR"]}}"#, .jsonColumnar),
            "columnar arrays must all have one value per row: \"features.country\" has 2 values but \"ids\" has 3")
        XCTAssertEqual(
            errorMessage(#"{"features":{"amount":[1,2]},"predictions":[1]}"#, .jsonColumnar),
            "columnar arrays must all have one value per row: \"predictions\" has 1 values but \"features.amount\" has 2")
    }

    func testBadValuesRejectTheirRow() throws {
        let body = """
        {"ids":["a","b","c","d","e"],"ts":[1,"nope",3,4,5],"endpoints":["canary","canary","moon","canary",null],
         "features":{"x":[1,2,3,[4],5],"y":["u","v","w","x","y"]},"predictions":[0.1,0.2,0.3,0.4,{"p":1}]}
        """
        let d = try decode(body, .jsonColumnar)
        XCTAssertEqual(d.rejected.map(\.row), [1, 2, 3, 4])
        XCTAssertTrue(d.rejected[0].reason.contains("\"ts\""), d.rejected[0].reason)
        XCTAssertTrue(d.rejected[1].reason.contains("unknown endpoint \"moon\""), d.rejected[1].reason)
        XCTAssertTrue(d.rejected[2].reason.contains("feature \"x\" is an array"), d.rejected[2].reason)
        XCTAssertTrue(d.rejected[3].reason.contains("\"predictions\" is an object"), d.rejected[3].reason)
        XCTAssertEqual(d.batch.count, 1)
        XCTAssertEqual(d.batch.ids, ["a"])
        XCTAssertEqual(d.batch.timestamps, [1])
        XCTAssertEqual(d.batch.endpoints, [.canary])
        XCTAssertEqual(numbers(d.batch.features["x"]).values, [1])
        XCTAssertEqual(cells(d.batch.features["y"]), [.text("u")])
        XCTAssertEqual(numbers(d.batch.predictions).values, [0.1])
    }

    func testRejectedRowsKeepMissingRowsAligned() throws {
        let d = try decode(#"{"ts":["bad",2,3,"bad",5],"features":{"x":[1,null,3,4,null]}}"#, .jsonColumnar)
        XCTAssertEqual(d.rejected.map(\.row), [0, 3])
        let x = numbers(d.batch.features["x"])
        XCTAssertEqual(x.missing, [0, 2])
        XCTAssertEqual(x.values[1], 3)
        XCTAssertEqual(d.batch.timestamps, [2, 3, 5])
    }

    func testWholeRequestErrors() {
        XCTAssertTrue(errorMessage(#"{"model":"m"}"#, .jsonColumnar).contains("no \"features\" object"))
        XCTAssertTrue(errorMessage(#"{"features":[1,2]}"#, .jsonColumnar).contains("\"features\" must be an object of arrays"))
        XCTAssertTrue(errorMessage(#"{"features":{"a":1}}"#, .jsonColumnar).contains("feature \"a\"\" must be an array")
            || errorMessage(#"{"features":{"a":1}}"#, .jsonColumnar).contains("must be an array with one value per row"))
        XCTAssertTrue(errorMessage(#"{"features":{"a":[1],"a":[2]}}"#, .jsonColumnar).contains("appears twice"))
        XCTAssertTrue(errorMessage(#"{"features":{"":[1]}}"#, .jsonColumnar).contains("empty name"))
        XCTAssertTrue(errorMessage(#"{"features":{"a":[1]},"endpoint":"moon"}"#, .jsonColumnar).contains("unknown endpoint"))
        XCTAssertTrue(errorMessage(#"[1]"#, .jsonColumnar).contains("found an array"))
        XCTAssertTrue(errorMessage(#"{"features":{"a":[1 2]}}"#, .jsonColumnar).hasPrefix("invalid JSON at byte 20:"))
    }

    func testEmptyColumns() throws {
        let d = try decode(#"{"ids":[],"features":{"a":[]}}"#, .jsonColumnar)
        XCTAssertEqual(d.batch.count, 0)
        XCTAssertEqual(numbers(d.batch.features["a"]).values, [])
    }
}

final class FormatTests: XCTestCase {
    func testContentTypes() {
        let rows = bytes(#"{"observations":[]}"#)
        let columnar = bytes(#"{"model":{"name":"x","tags":[1,{"observations":2}]},"features":{"a":[1]}}"#)
        XCTAssertEqual(IngestFormat(contentType: "application/json", body: rows), .jsonRows)
        XCTAssertEqual(IngestFormat(contentType: "Application/JSON; charset=utf-8", body: columnar), .jsonColumnar)
        XCTAssertEqual(IngestFormat(contentType: "application/json", body: bytes(#"{"ids":[]}"#)), .jsonColumnar)
        XCTAssertEqual(IngestFormat(contentType: "application/json", body: bytes("not json")), .jsonRows, "the rows decoder explains the error")
        XCTAssertEqual(IngestFormat(contentType: "application/x-ndjson", body: []), .ndjson)
        XCTAssertEqual(IngestFormat(contentType: "application/jsonl", body: []), .ndjson)
        XCTAssertEqual(IngestFormat(contentType: "application/x-protobuf", body: []), .protobuf)
        XCTAssertEqual(IngestFormat(contentType: "application/protobuf", body: []), .protobuf)
        XCTAssertEqual(IngestFormat(contentType: "application/cloudevents+json", body: rows), .jsonRows)
        XCTAssertNil(IngestFormat(contentType: "text/csv", body: []))
        XCTAssertNil(IngestFormat(contentType: "application/x-www-form-urlencoded", body: rows))
        XCTAssertNil(IngestFormat(contentType: nil, body: rows))
    }
}
