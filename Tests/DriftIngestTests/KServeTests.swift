import DriftCore
import DriftIngest
import XCTest

final class KServeTests: XCTestCase {
    private func kserve(_ s: String, _ names: [String] = [], output: String? = nil) throws -> KServePayload {
        try decodeKServeInference(bytes(s), featureNames: names, outputName: output)
    }

    private func kserveError(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try kserve(s)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch let e as IngestDecodingError {
            return e.message
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return ""
        }
    }

    func testV1PositionalInstances() throws {
        let p = try kserve(#"{"instances":[[1.5,"DE",true],[2.5,"FR",null,99]]}"#, ["amount", "country", "card_present", "hour"])
        XCTAssertEqual(p.kind, .request)
        XCTAssertEqual(p.protocolVersion, .v1)
        XCTAssertEqual(p.rowCount, 2)
        XCTAssertEqual(p.features["amount"], [.number(1.5), .number(2.5)])
        XCTAssertEqual(p.features["country"], [.text("DE"), .text("FR")])
        XCTAssertEqual(p.features["card_present"], [.number(1), .missing])
        XCTAssertEqual(p.features["hour"], [.missing, .number(99)], "fewer positions → missing")
        XCTAssertEqual(p.predictions, [])

        let extra = try kserve(#"{"instances":[[1,2,3]]}"#, ["a"])
        XCTAssertEqual(extra.features, ["a": [.number(1)], "f1": [.number(2)], "f2": [.number(3)]], "extra positions are f<index>")
    }

    func testV1NamedAndScalarInstances() throws {
        let p = try kserve(#"{"instances":[{"amount":1,"country":"DE"},{"amount":2,"new":3}]}"#, ["amount", "country", "hour"])
        XCTAssertEqual(p.features["amount"], [.number(1), .number(2)])
        XCTAssertEqual(p.features["country"], [.text("DE"), .missing])
        XCTAssertEqual(p.features["new"], [.missing, .number(3)])
        XCTAssertEqual(p.features["hour"], [.missing, .missing])
        let scalar = try kserve(#"{"instances":[0.5,0.7]}"#, ["x"])
        XCTAssertEqual(scalar.features, ["x": [.number(0.5), .number(0.7)]])
        let tf = try kserve(#"{"inputs":{"a":[1,2],"b":["x","y"]}}"#)
        XCTAssertEqual(tf.features, ["a": [.number(1), .number(2)], "b": [.text("x"), .text("y")]])
        XCTAssertEqual(tf.rowCount, 2)
    }

    func testV1Predictions() throws {
        let p = try kserve(#"{"predictions":[0.9,0.1]}"#)
        XCTAssertEqual(p.kind, .response)
        XCTAssertEqual(p.predictions, [.number(0.9), .number(0.1)])
        XCTAssertEqual(try kserve(#"{"predictions":[[0.2,0.8],[0.7,0.3]]}"#).predictions, [.number(0.8), .number(0.3)],
                       "class probabilities: the last column is the positive-class score")
        XCTAssertEqual(try kserve(#"{"predictions":["cat","dog"]}"#).predictions, [.text("cat"), .text("dog")])
        XCTAssertTrue(kserveError(#"{"predictions":[{"score":1}]}"#).contains("predictions[0] is an object"))
    }

    func testV2InputsFlatAndNested() throws {
        let flat = try kserve("""
        {"id":"req-1","inputs":[{"name":"input-0","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}
        """, ["a", "b"])
        XCTAssertEqual(flat.protocolVersion, .v2)
        XCTAssertEqual(flat.id, "req-1")
        XCTAssertEqual(flat.rowCount, 2)
        XCTAssertEqual(flat.features, ["a": [.number(1), .number(4)], "b": [.number(2), .number(5)], "f2": [.number(3), .number(6)]])
        let nested = try kserve(#"{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP64","data":[[6.8,2.8],[6.0,3.4]]}]}"#, ["x", "y"])
        XCTAssertEqual(nested.features, ["x": [.number(6.8), .number(6.0)], "y": [.number(2.8), .number(3.4)]])
        let noShape = try kserve(#"{"inputs":[{"name":"input-0","datatype":"FP64","data":[[1,2],[3,4],[5,6]]}]}"#, ["x", "y"])
        XCTAssertEqual(noShape.rowCount, 3)
        XCTAssertEqual(noShape.features["y"], [.number(2), .number(4), .number(6)])
    }

    func testV2SeveralInputsBytesAndBool() throws {
        let p = try kserve("""
        {"inputs":[
          {"name":"amount","shape":[3],"datatype":"FP64","data":[1.5,2.5,3.5]},
          {"name":"country","shape":[3,1],"datatype":"BYTES","data":["DE","FR","US"]},
          {"name":"present","shape":[3],"datatype":"BOOL","data":[true,false,true]},
          {"name":"emb","shape":[3,2],"datatype":"FP32","data":[[1,2],[3,4],[5,6]]}
        ]}
        """, ["ignored-for-named-inputs"])
        XCTAssertEqual(p.rowCount, 3)
        XCTAssertEqual(p.features["amount"], [.number(1.5), .number(2.5), .number(3.5)])
        XCTAssertEqual(p.features["country"], [.text("DE"), .text("FR"), .text("US")])
        XCTAssertEqual(p.features["present"], [.number(1), .number(0), .number(1)])
        XCTAssertEqual(p.features["emb.1"], [.number(2), .number(4), .number(6)])
        XCTAssertEqual(p.features["ignored-for-named-inputs"], [.missing, .missing, .missing])
    }

    func testV2Outputs() throws {
        let scores = try kserve(#"{"model_name":"fraud","id":"r","outputs":[{"name":"output-0","shape":[2],"datatype":"FP32","data":[0.9,0.2]}]}"#)
        XCTAssertEqual(scores.kind, .response)
        XCTAssertEqual(scores.predictions, [.number(0.9), .number(0.2)])
        XCTAssertEqual(scores.id, "r")
        let probabilities = try kserve(#"{"outputs":[{"name":"probs","shape":[2,2],"datatype":"FP64","data":[0.1,0.9,0.6,0.4]}]}"#)
        XCTAssertEqual(probabilities.predictions, [.number(0.9), .number(0.4)])
        let chosen = try kserve("""
        {"outputs":[{"name":"label","shape":[2],"datatype":"BYTES","data":["fraud","ok"]},
                    {"name":"proba","shape":[2,2],"datatype":"FP64","data":[[0.2,0.8],[0.9,0.1]]}]}
        """, output: "proba")
        XCTAssertEqual(chosen.predictions, [.number(0.8), .number(0.1)])
        XCTAssertEqual(try kserve(#"{"outputs":[{"name":"label","shape":[1],"datatype":"BYTES","data":["fraud"]}]}"#).predictions, [.text("fraud")])
        XCTAssertThrowsError(try kserve(#"{"outputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[1]}]}"#, output: "b"))
    }

    func testErrors() {
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3]}]}"#).contains("holds 6 values but data has 3"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"a","shape":[2],"data":[1,2]},{"name":"b","shape":[3],"data":[1,2,3]}]}"#).contains("has 3 rows"))
        XCTAssertTrue(kserveError(#"{"hello":1}"#).contains("not a KServe inference payload"))
        XCTAssertTrue(kserveError(#"[1]"#).contains("must be a JSON object"))
        XCTAssertTrue(kserveError(#"{"instances":[[1,{"a":2}]]}"#).contains("position 1 is an object"))
        XCTAssertTrue(kserveError(#"{"instances":"#).hasPrefix("invalid JSON at byte 13"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","datatype":"FP32","data":[[1],[2,3],[4,5]]}]}"#).contains("different lengths"))
    }

    func testRepeatedKeyInANamedInstanceKeepsRowsAligned() throws {
        let p = try kserve(#"{"instances":[{"a":1,"a":2},{"a":3}]}"#)
        XCTAssertEqual(p.features["a"], [.number(2), .number(3)])
    }
}
