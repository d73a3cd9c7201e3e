import DriftCore
@testable import DriftServer
import Foundation
import XCTest

/// CloudEvents exactly as KServe's payload logger sends them (binary content mode).
final class KServeTests: XCTestCase {
    func headers(id: String, type: String, model: String = "fraud", endpoint: String = "default") -> [String: String] {
        [
            "ce-specversion": "1.0", "ce-id": id, "ce-type": type,
            "ce-source": "http://localhost:9081/", "ce-inferenceservicename": model,
            "ce-namespace": "fraud-team", "ce-component": "predictor", "ce-endpoint": endpoint,
            "ce-time": "2026-11-29T12:00:00.000Z",
        ]
    }

    let request = "org.kubeflow.serving.inference.request"
    let response = "org.kubeflow.serving.inference.response"

    func testRequestAndResponseJoinInEitherOrderAndHalvesStillCount() async throws {
        let s = try LiveService()
        try await s.start()
        defer { Task { await s.stop() } }
        _ = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        let r0 = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 1000), contentType: "text/csv")
        XCTAssertEqual(r0.status, 201)

        // v1, positional instances named by the schema order; request first.
        var r = try await s.call("POST", "/v1/kserve", json: #"{"instances":[[120.5, 300, 2, 4.5, "online", "DE"]]}"#,
                                 headers: headers(id: "e1", type: request))
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["joined"] as? Bool, false)
        r = try await s.call("POST", "/v1/kserve", json: #"{"predictions":[0.91]}"#, headers: headers(id: "e1", type: response))
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["joined"] as? Bool, true)

        // Response first, then the request (v2 protocol, named tensors).
        r = try await s.call("POST", "/v1/kserve",
                             json: #"{"id":"e2","outputs":[{"name":"score","shape":[2],"datatype":"FP32","data":[0.2,0.4]}]}"#,
                             headers: headers(id: "e2", type: response))
        XCTAssertEqual(r.status, 202, r.text)
        r = try await s.call("POST", "/v1/kserve",
                             json: #"{"id":"e2","inputs":[{"name":"input-0","shape":[2,6],"datatype":"BYTES","data":[[10.0,1,0,1.5,"fuel","FR"],[20.0,2,1,2.5,"travel","NL"]]}]}"#,
                             headers: headers(id: "e2", type: request))
        XCTAssertEqual(r.status, 202, r.text)
        XCTAssertEqual(r.json["joined"] as? Bool, true)
        XCTAssertEqual(r.json["prediction_ids"] as? [String], ["e2/0", "e2/1"])

        // A request half that never gets its partner still counts for its features; a
        // redelivered event counts once; canary traffic stays out of the drift window.
        r = try await s.call("POST", "/v1/kserve", json: #"{"instances":[{"amount":5.0,"country":"US"}]}"#, headers: headers(id: "e3", type: request))
        XCTAssertEqual(r.status, 202, r.text)
        r = try await s.call("POST", "/v1/kserve", json: #"{"instances":[{"amount":5.0,"country":"US"}]}"#, headers: headers(id: "e3", type: request))
        XCTAssertEqual(r.json["duplicate"] as? Bool, true)
        r = try await s.call("POST", "/v1/kserve", json: #"{"instances":[[1,2,3,4,"fuel","DE"]]}"#, headers: headers(id: "c1", type: request, endpoint: "canary"))
        XCTAssertEqual(r.status, 202, r.text)

        r = try await s.call("GET", "/v1/models/fraud")
        XCTAssertEqual((r.json["window"] as? [String: Any])?["rows"] as? Int, 4, "e1 + e2 (2 rows) + e3; response halves and canary add no rows")
        XCTAssertEqual(r.json["observations_stored"] as? Int, 1 + 1 + 2 + 2 + 1 + 1)
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains("driftwatch_observations_total{model=\"fraud\",endpoint=\"canary\"} 1"))
        XCTAssertTrue(metrics.contains("driftwatch_kserve_events_total{model=\"fraud\",type=\"response\",joined=\"true\"} 1"))
        XCTAssertTrue(metrics.contains("driftwatch_kserve_events_total{model=\"fraud\",type=\"request\",joined=\"true\"} 1"))
        XCTAssertTrue(metrics.contains("driftwatch_prediction_value_count{model=\"fraud\"} 3"), "0.91, 0.2, 0.4")
    }

    func testCloudEventErrors() async throws {
        let s = try LiveService()
        try await s.start()
        defer { Task { await s.stop() } }
        _ = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        var h = headers(id: "x", type: request)
        assertProblem(try await s.call("POST", "/v1/kserve", json: #"{"instances":[[1]]}"#, headers: h), 409, "no baseline yet")
        _ = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 500), contentType: "text/csv")
        h["ce-specversion"] = nil
        assertProblem(try await s.call("POST", "/v1/kserve", json: "{}", headers: h), 400, "ce-specversion header is missing")
        assertProblem(try await s.call("POST", "/v1/kserve", json: "{}", headers: headers(id: "x", type: "com.example.other")), 400, "ce-type must be")
        assertProblem(try await s.call("POST", "/v1/kserve", json: "{}", headers: headers(id: "x", type: request, model: "unknown")), 404, "no model named \"unknown\"")
        assertProblem(try await s.call("POST", "/v1/kserve", json: "{}", headers: headers(id: "x", type: request, endpoint: "blue")), 400, "ce-endpoint")
        assertProblem(try await s.call("POST", "/v1/kserve", json: #"{"predictions":[1]}"#, headers: headers(id: "x", type: request)), 400, "ce-type says request but the body is a response")
        assertProblem(try await s.call("POST", "/v1/kserve", json: #"{"nothing":1}"#, headers: headers(id: "x", type: request)), 400, "KServe request body")
    }

    func testRealServerOutputNamesShapesAndLimits() async throws {
        let s = try LiveService()
        try await s.running { s in
            _ = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
            _ = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 500), contentType: "text/csv")
            // KServe's sklearn runtime names its one output "output-0", MLServer "predict"; the
            // model's prediction is "score": the only output is the prediction all the same.
            var r = try await s.call("POST", "/v1/kserve",
                                     json: #"{"model_name":"fraud","id":"k1","outputs":[{"name":"output-0","shape":[2,2],"datatype":"FP64","data":[0.9,0.1,0.2,0.8]}]}"#,
                                     headers: headers(id: "k1", type: response))
            XCTAssertEqual(r.status, 202, r.text)
            r = try await s.call("POST", "/v1/kserve", json: #"{"outputs":[{"name":"predict","shape":[1],"datatype":"FP32","data":[0.3]}]}"#,
                                 headers: headers(id: "k2", type: response))
            XCTAssertEqual(r.status, 202, r.text)
            var metrics = try await s.call("GET", "/metrics", contentType: nil).text
            XCTAssertTrue(metrics.contains(#"driftwatch_prediction_value_count{model="fraud"} 3"#), "0.1, 0.8 (last column) and 0.3")

            // Several outputs, none named "score" and no kserve.output: 422 with the outputs.
            let two = #"{"outputs":[{"name":"label","shape":[1],"datatype":"BYTES","data":["ok"]},{"name":"proba","shape":[1],"datatype":"FP64","data":[0.2]}]}"#
            assertProblem(try await s.call("POST", "/v1/kserve", json: two, headers: headers(id: "k3", type: response)), 422,
                          #"outputs: the response has 2 outputs ("label", "proba") and none is named like the prediction "score"; set "kserve": {"output": "NAME"}"#)
            // The setting, validated: unknown keys are named, then the right one works.
            let withBlock = Demo.settings.replacingOccurrences(of: #""resolve":{"clean_windows":2}}"#, with: #""resolve":{"clean_windows":2},"kserve":{"ouput":"proba"}}"#)
            assertProblem(try await s.call("PUT", "/v1/models/fraud", json: withBlock), 400, #"model settings: kserve.ouput: unknown key; did you mean "output"?"#)
            r = try await s.call("PUT", "/v1/models/fraud", json: withBlock.replacingOccurrences(of: "ouput", with: "output"))
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(((r.json["settings"] as? [String: Any])?["kserve"] as? [String: Any])?["output"] as? String, "proba", r.text)
            r = try await s.call("POST", "/v1/kserve", json: two, headers: headers(id: "k3", type: response))
            XCTAssertEqual(r.status, 202, r.text)

            // Shapes that overflow are 400s, and the service keeps serving.
            assertProblem(try await s.call("POST", "/v1/kserve", json: #"{"inputs":[{"name":"x","shape":[0,999999999999,999999999999],"datatype":"FP32","data":[]}]}"#,
                                           headers: headers(id: "k4", type: request)), 400, "is too large (its size overflows)")
            assertProblem(try await s.call("POST", "/v1/kserve", json: #"{"inputs":[{"name":"x","shape":[2,4611686018427387904,4],"datatype":"FP32","data":[1,2]}]}"#,
                                           headers: headers(id: "k5", type: request)), 400, "overflows")
            // Over the row limit: 413, saying what to change.
            let rows = "{\"predictions\":[" + Array(repeating: "0.5", count: 100_001).joined(separator: ",") + "]}"
            assertProblem(try await s.call("POST", "/v1/kserve", json: rows, headers: headers(id: "k6", type: response)), 413,
                          "KServe response body: predictions: 100001 rows is over the limit of 100000 rows per event; a KServe event may carry at most 100000 rows and 2000000 values (rows × columns); send smaller inference batches")
            r = try await s.call("GET", "/healthz", contentType: nil)
            XCTAssertEqual(r.status, 200)
            metrics = try await s.call("GET", "/metrics", contentType: nil).text
            XCTAssertTrue(metrics.contains(#"driftwatch_observations_rejected_total{model="fraud",reason="too_large"} 1"#))
        }
    }

    func testOnlyJSONIsAccepted() async throws {
        let s = try LiveService()
        try await s.running { s in
            _ = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
            _ = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(rows: 500), contentType: "text/csv")
            // JSON only: 415 otherwise; +json types and a charset are fine.
            assertProblem(try await s.call("POST", "/v1/kserve", body: Data(#"{"predictions":[0.5]}"#.utf8), contentType: "text/plain",
                                           headers: headers(id: "k7", type: response)), 415, "KServe events must carry JSON")
            assertProblem(try await s.call("POST", "/v1/kserve", body: Data([1, 2, 3]), contentType: "application/octet-stream",
                                           headers: headers(id: "k8", type: response)), 415, "binary tensor data is not read")
            let r = try await s.call("POST", "/v1/kserve", body: Data(#"{"predictions":[0.5]}"#.utf8), contentType: "application/json; charset=utf-8",
                                 headers: headers(id: "k9", type: response))
            XCTAssertEqual(r.status, 202, r.text)
            let metrics = try await s.call("GET", "/metrics", contentType: nil).text
            XCTAssertTrue(metrics.contains(#"driftwatch_observations_rejected_total{model="fraud",reason="unsupported_media_type"} 2"#))
        }
    }

    func testMediaTypes() {
        for accepted in [nil, "", "application/json", "Application/JSON; charset=utf-8", "application/vnd.kserve.v2+json"] {
            XCTAssertNil(DriftService.kserveMediaTypeProblem(accepted), "\(accepted ?? "no Content-Type") is JSON")
        }
        for (refused, fragment) in [("text/plain", "got text/plain;"), ("application/x-www-form-urlencoded", "send inference requests as application/json"),
                                    ("application/cloudevents+json", "structured-mode CloudEvent"), ("application/octet-stream", "binary tensor data")] {
            let p = DriftService.kserveMediaTypeProblem(refused)
            XCTAssertEqual(p?.status, .unsupportedMediaType, refused)
            XCTAssertTrue(p?.detail.contains(fragment) == true, "\(refused): \(p?.detail ?? "accepted")")
        }
    }
}
