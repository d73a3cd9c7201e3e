import DriftCore
import DriftIngest
import XCTest

final class KServeTests: XCTestCase {
    private func kserve(_ s: String, _ names: [String] = [], output: String? = nil, prediction: String? = nil,
                        limits: KServeLimits = .standard) throws -> KServePayload {
        try decodeKServeInference(bytes(s), featureNames: names, outputName: output, predictionName: prediction, limits: limits)
    }

    /// The error of decoding `s`, failing the test if it decodes or fails with another kind.
    private func kserveError(_ s: String, _ names: [String] = [], output: String? = nil, prediction: String? = nil,
                             limits: KServeLimits = .standard, kind: KServeDecodingError.Kind = .malformed,
                             file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try kserve(s, names, output: output, prediction: prediction, limits: limits)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch let e as KServeDecodingError {
            XCTAssertEqual(e.kind, kind, e.message, file: file, line: line)
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
        XCTAssertEqual(try kserve(#"{"predictions":[{"score":1}]}"#).predictions, [.number(1)], "a one-key row object: its value")
        XCTAssertTrue(kserveError(#"{"predictions":[{"score":{"p":1}}]}"#).contains("predictions[0] is an object"))
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
        XCTAssertEqual(try kserve(#"{"outputs":[{"name":"a","shape":[1],"datatype":"FP32","data":[1]}]}"#, output: "b").predictions, [.number(1)],
                       "a single output is the prediction whatever its name, even with kserve.output set")
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

    // MARK: What real servers answer

    func testKServeSklearnOutputZeroIsThePredictionWhateverTheModelCallsIt() throws {
        // kserve/utils/utils.py get_predict_response: one tensor "output-0".
        let v2 = try kserve("""
        {"model_name":"fraud","model_version":null,"id":"7c1e","parameters":null,
         "outputs":[{"name":"output-0","shape":[3],"datatype":"INT64","parameters":null,"data":[0,1,0]}]}
        """, prediction: "score")
        XCTAssertEqual(v2.predictions, [.number(0), .number(1), .number(0)])
        XCTAssertEqual(v2.output, "output-0")
        XCTAssertEqual(v2.id, "7c1e")
        // MLServer names its output "predict".
        let mlserver = try kserve(#"{"model_name":"m","outputs":[{"name":"predict","shape":[2,1],"datatype":"FP64","data":[0.25,0.75]}]}"#,
                                  prediction: "score")
        XCTAssertEqual(mlserver.predictions, [.number(0.25), .number(0.75)])
        XCTAssertEqual(mlserver.output, "predict")
    }

    func testBytesOutputsAreClassLabels() throws {
        let labels = try kserve(#"{"outputs":[{"name":"output-0","shape":[3],"datatype":"BYTES","data":["fraud","ok","ok"]}]}"#, prediction: "score")
        XCTAssertEqual(labels.predictions, [.text("fraud"), .text("ok"), .text("ok")])
        let bools = try kserve(#"{"outputs":[{"name":"output-0","shape":[2],"datatype":"BOOL","data":[true,false]}]}"#)
        XCTAssertEqual(bools.predictions, [.number(1), .number(0)])
        let v1 = try kserve(#"{"predictions":["fraud","ok"]}"#)
        XCTAssertEqual(v1.predictions, [.text("fraud"), .text("ok")])
    }

    func testTwoColumnProbabilitiesGiveThePositiveClass() throws {
        // predict_proba of a binary classifier: [n, 2], P(class 1) is the last column.
        let flat = try kserve(#"{"outputs":[{"name":"output-0","shape":[3,2],"datatype":"FP64","data":[0.9,0.1,0.3,0.7,0.5,0.5]}]}"#)
        XCTAssertEqual(flat.predictions, [.number(0.1), .number(0.7), .number(0.5)])
        let nested = try kserve(#"{"outputs":[{"name":"output-0","shape":[2,2],"datatype":"FP64","data":[[0.9,0.1],[0.3,0.7]]}]}"#)
        XCTAssertEqual(nested.predictions, [.number(0.1), .number(0.7)])
        XCTAssertEqual(try kserve(#"{"predictions":[[0.9,0.1],[0.3,0.7]]}"#).predictions, [.number(0.1), .number(0.7)])
    }

    func testSeveralOutputsNeedTheSettingOrThePredictionsName() throws {
        let body = """
        {"outputs":[{"name":"label","shape":[2],"datatype":"BYTES","data":["fraud","ok"]},
                    {"name":"score","shape":[2],"datatype":"FP64","data":[0.8,0.1]},
                    {"name":"proba","shape":[2,2],"datatype":"FP64","data":[[0.2,0.8],[0.9,0.1]]}]}
        """
        // kserve.output wins over the prediction's name.
        XCTAssertEqual(try kserve(body, output: "label", prediction: "score").predictions, [.text("fraud"), .text("ok")])
        XCTAssertEqual(try kserve(body, output: "proba", prediction: "score").output, "proba")
        // Without it, the output named like the model's prediction.
        XCTAssertEqual(try kserve(body, prediction: "score").predictions, [.number(0.8), .number(0.1)])
        // Neither: refused, with the outputs listed and what to set.
        let ambiguous = kserveError(body, prediction: "fraud_score", kind: .ambiguousOutput)
        XCTAssertEqual(ambiguous, #"outputs: the response has 3 outputs ("label", "score", "proba") and none is named like the prediction "fraud_score"; set "kserve": {"output": "NAME"} in the model settings to say which one is the prediction"#)
        let missing = kserveError(body, output: "probability", prediction: "score", kind: .ambiguousOutput)
        XCTAssertTrue(missing.contains(#"no output named "probability" (kserve.output in the model settings); the response has "label", "score", "proba""#), missing)
        XCTAssertTrue(kserveError(body, kind: .ambiguousOutput).contains(#"3 outputs ("label", "score", "proba"); set "kserve""#))
    }

    func testV1PredictionObjectsAndTensorFlowOutputsFollowTheSameRule() throws {
        // A data frame's rows as v1 predictions (get_predict_response: row.to_dict()).
        let frame = #"{"predictions":[{"label":"fraud","proba":0.8},{"label":"ok","proba":0.1}]}"#
        XCTAssertEqual(try kserve(frame, output: "proba").predictions, [.number(0.8), .number(0.1)])
        XCTAssertEqual(try kserve(frame, output: "proba").output, "proba")
        XCTAssertTrue(kserveError(frame, kind: .ambiguousOutput).hasPrefix(#"predictions[0]: the response has 2 outputs ("label", "proba")"#))
        XCTAssertEqual(try kserve(#"{"predictions":[{"y":1},{"y":0}]}"#).predictions, [.number(1), .number(0)], "one key: that one")
        let tf = #"{"outputs":{"scores":[[0.3,0.7],[0.6,0.4]],"classes":[1,0]}}"#
        XCTAssertEqual(try kserve(tf, output: "scores").predictions, [.number(0.7), .number(0.4)])
        XCTAssertEqual(try kserve(tf, prediction: "classes").predictions, [.number(1), .number(0)])
    }

    func testOnePositionalInputMapsToTheSchemaInOrder() throws {
        // KServe's v2 client: one tensor "input-0" of shape [n, k].
        let names = ["amount", "account_age_days", "tx_last_24h", "distance_km"]
        let p = try kserve(#"{"inputs":[{"name":"input-0","shape":[2,4],"datatype":"FP64","data":[10.5,300,2,4.5,99.0,12,7,800.25]}]}"#, names)
        XCTAssertEqual(p.rowCount, 2)
        XCTAssertEqual(p.features, ["amount": [.number(10.5), .number(99)], "account_age_days": [.number(300), .number(12)],
                                    "tx_last_24h": [.number(2), .number(7)], "distance_km": [.number(4.5), .number(800.25)]])
        // Whatever the tensor is called ("predict", "x", …), it stays positional.
        let named = try kserve(#"{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[[1,2,3,4]]}]}"#, names)
        XCTAssertEqual(named.features["distance_km"], [.number(4)])
        XCTAssertNil(named.features["x"])
        // One column named like a feature is that feature (MLServer, a one-feature frame).
        let single = try kserve(#"{"inputs":[{"name":"distance_km","shape":[2],"datatype":"FP64","data":[1.5,2.5]}]}"#, names)
        XCTAssertEqual(single.features["distance_km"], [.number(1.5), .number(2.5)])
        XCTAssertEqual(single.features["amount"], [.missing, .missing])
    }

    // MARK: Shapes and limits

    func testOverflowingShapesAreErrorsNotCrashes() {
        let zeroRows = kserveError(#"{"inputs":[{"name":"x","shape":[0,999999999999,999999999999],"datatype":"FP32","data":[]}]}"#)
        XCTAssertEqual(zeroRows, #"inputs[0] ("x"): shape [0, 999999999999, 999999999999] is too large (its size overflows); send the tensor's real shape"#)
        let huge = kserveError(#"{"inputs":[{"name":"x","shape":[2,4611686018427387904,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}"#)
        XCTAssertTrue(huge.contains("shape [2, 4611686018427387904, 4] is too large (its size overflows)"), huge)
        XCTAssertTrue(kserveError(#"{"outputs":[{"name":"y","shape":[4611686018427387904,4],"datatype":"FP32","data":[1]}]}"#).contains("overflows"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[3037000500,3037000500],"datatype":"FP32","data":[1]}]}"#).contains("overflows"))
        // Not integers a shape can hold.
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[1e300],"data":[1]}]}"#).contains("shape must list non-negative integers, found 1e+300"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[9223372036854775808],"data":[1]}]}"#).contains("shape must list non-negative integers"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[-1,4],"data":[1]}]}"#).contains("found -1"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[1.5],"data":[1]}]}"#).contains("found 1.5"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":"2x4","data":[1]}]}"#).contains("shape must be an array"))
    }

    func testShapesThatDoNotMatchTheirData() {
        XCTAssertEqual(kserveError(#"{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP64","data":[1,2,3,4,5,6,7]}]}"#),
                       #"inputs[0] ("x"): shape [2, 4] holds 8 values but data has 7"#)
        XCTAssertTrue(kserveError(#"{"outputs":[{"name":"y","shape":[3],"datatype":"FP64","data":[0.1,0.2]}]}"#).contains("shape [3] holds 3 values but data has 2"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[2,0],"datatype":"FP64","data":[]}]}"#).contains("has rows but no values"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","datatype":"FP64","data":[[1,2],[3]]}]}"#).contains("nested rows of different lengths (2 and 1)"))
        XCTAssertTrue(kserveError(#"{"outputs":[{"name":"y","shape":[2],"datatype":"FP64"}]}"#).contains("has no \"data\""))
    }

    func testRowLimit() throws {
        let limits = KServeLimits(maxRows: 3, maxValues: 100)
        XCTAssertEqual(try kserve(#"{"instances":[[1],[2],[3]]}"#, ["a"], limits: limits).rowCount, 3, "at the limit: accepted")
        let v1 = kserveError(#"{"instances":[[1],[2],[3],[4]]}"#, ["a"], limits: limits, kind: .tooLarge)
        XCTAssertEqual(v1, "instances: 4 rows is over the limit of 3 rows per event; a KServe event may carry at most 3 rows and 100 values (rows × columns); send smaller inference batches to the model (the payload logger forwards each request and response whole)")
        XCTAssertTrue(kserveError(#"{"predictions":[1,2,3,4]}"#, limits: limits, kind: .tooLarge).hasPrefix("predictions: 4 rows is over the limit of 3 rows"))
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x","shape":[4],"data":[1,2,3,4]}]}"#, limits: limits, kind: .tooLarge)
            .hasPrefix(#"inputs[0] ("x"): 4 rows is over the limit of 3 rows"#))
        XCTAssertTrue(kserveError(#"{"outputs":[{"name":"y","shape":[4,1],"data":[1,2,3,4]}]}"#, limits: limits, kind: .tooLarge).contains("4 rows is over the limit"))
        XCTAssertTrue(kserveError(#"{"inputs":{"a":[1,2,3,4]}}"#, limits: limits, kind: .tooLarge).hasPrefix("inputs: 4 rows is over the limit"))
        // The standard limit: 100,000 rows.
        XCTAssertEqual(KServeLimits.standard.maxRows, 100_000)
        let atLimit = "{\"predictions\":[" + Array(repeating: "0.5", count: 100_000).joined(separator: ",") + "]}"
        XCTAssertEqual(try kserve(atLimit).rowCount, 100_000)
        let over = "{\"predictions\":[" + Array(repeating: "0.5", count: 100_001).joined(separator: ",") + "]}"
        XCTAssertTrue(kserveError(over, kind: .tooLarge).hasPrefix("predictions: 100001 rows is over the limit of 100000 rows per event"))
    }

    func testValueLimitStopsTheTreeAndTheColumns() {
        let limits = KServeLimits(maxRows: 10, maxValues: 20)
        // More JSON values than any accepted payload holds: refused while parsing.
        let wide = "{\"instances\":[[" + Array(repeating: "1", count: 2000).joined(separator: ",") + "]]}"
        let tree = kserveError(wide, limits: limits, kind: .tooLarge)
        XCTAssertTrue(tree.hasPrefix("the body holds more than 1054 JSON values; a KServe event may carry at most 10 rows and 20 values"), tree)
        // Within the JSON budget but more columns × rows than the value limit.
        let columns = kserveError(#"{"instances":[{"a":1},{"b":1},{"c":1},{"d":1},{"e":1},{"f":1},{"g":1},{"h":1},{"i":1},{"j":1}]}"#,
                                  ["x"], limits: KServeLimits(maxRows: 10, maxValues: 40), kind: .tooLarge)
        XCTAssertTrue(columns.hasPrefix("instances: more than 4 distinct features over 10 rows"), columns)
        // The model's own features count too (each gets a column, sent or not).
        let schema = (0..<5).map { "x\($0)" }
        let tight = KServeLimits(maxRows: 10, maxValues: 40)
        XCTAssertEqual(try kserve(#"{"instances":[[1],[2],[3],[4],[5],[6],[7],[8]]}"#, schema, limits: tight).rowCount, 8, "8 × 5 = 40: at the limit")
        let padded = kserveError(#"{"instances":[[1],[2],[3],[4],[5],[6],[7],[8],[9]]}"#, schema, limits: tight, kind: .tooLarge)
        XCTAssertTrue(padded.hasPrefix("instances: 9 rows × the model's 5 features is over the limit of 40 values per event"), padded)
        XCTAssertTrue(kserveError(#"{"inputs":[{"name":"x0","shape":[9],"data":[1,2,3,4,5,6,7,8,9]}]}"#, schema, limits: tight, kind: .tooLarge)
            .hasPrefix("inputs: 9 rows × the model's 5 features"))
    }

    func testBinaryTensorsAreRefusedWithTheReason() {
        let e = kserveError(#"{"outputs":[{"name":"output-0","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#)
        XCTAssertEqual(e, #"outputs[0] ("output-0") has no "data"; binary tensor data is not supported: send the tensor as JSON data"#)
    }

    func testNumericColumnsStayUnboxedAndTurnIntoCellsAtTheFirstText() throws {
        let names = ["amount", "country"]
        let p = try kserve(#"{"instances":[[1.5,2],[2.5,"DE"],[NaN,3,7],[null]]}"#, names)
        guard case .numbers(let amounts, let missing)? = p.columns["amount"] else {
            return XCTFail("a numeric column is .numbers: \(String(describing: p.columns["amount"]))")
        }
        XCTAssertEqual(amounts.prefix(2), [1.5, 2.5])
        XCTAssertTrue(amounts[2].isNaN, "NaN as sent")
        XCTAssertEqual(missing, [3], "null is missing, NaN is a number")
        guard case .cells(let country)? = p.columns["country"] else { return XCTFail("text turns the column into cells") }
        XCTAssertEqual(country, [.number(2), .text("DE"), .number(3), .missing])
        XCTAssertEqual(p.features["f2"], [.missing, .missing, .number(7), .missing])
        // A repeated key in one row: the last value wins, in both forms.
        let repeated = try kserve(#"{"instances":[{"a":1,"a":null},{"a":2,"a":3},{"b":"x","b":4}]}"#)
        XCTAssertEqual(repeated.features["a"], [.missing, .number(3), .missing])
        XCTAssertEqual(repeated.features["b"], [.missing, .missing, .number(4)])
        // Nested numeric tensors are unboxed too; nested BYTES are cells.
        let nested = try kserve(#"{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP64","data":[[1,2],[3,4]]}]}"#, ["x", "y"])
        guard case .numbers(let y, let none)? = nested.columns["y"] else { return XCTFail("nested numbers: .numbers") }
        XCTAssertEqual(y, [2, 4])
        XCTAssertEqual(none, [])
        let text = try kserve(#"{"inputs":[{"name":"c","shape":[2,1],"datatype":"BYTES","data":[["DE"],["FR"]]}]}"#, ["country"])
        XCTAssertEqual(text.features["country"], [.text("DE"), .text("FR")])
        // Scalar instances of a one-feature model.
        XCTAssertEqual(try kserve(#"{"instances":[0.5,"x"]}"#, ["f"]).features["f"], [.number(0.5), .text("x")])
    }
}
