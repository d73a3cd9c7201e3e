import DriftCore
@testable import DriftServer
import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real KServe model server: Tests/Peers/kserve_sklearn_server.py (kserve 0.21.0 and
/// scikit-learn from PyPI in .venv-kserve, which scripts/setup-kserve.sh makes; the test
/// command runs it) on 127.0.0.1 and a free port, gRPC off; stopped by process group.
final class KServeModelServer: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards.
    let url: String
    let directory: String
    private let process: ChildProcess

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var python: String {
        ProcessInfo.processInfo.environment["DRIFTWATCH_KSERVE_PYTHON"] ?? root.appendingPathComponent(".venv-kserve/bin/python").path
    }

    init() async throws {
        let python = Self.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ChildProcessError(description: "\(python) is missing: scripts/setup-kserve.sh makes it (the test command scripts/test.sh runs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dw-kserve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        url = "http://127.0.0.1:\(port)"
        process = try ChildProcess(
            name: "kserve", executable: python,
            arguments: [Self.root.appendingPathComponent("Tests/Peers/kserve_sklearn_server.py").path, "--http_port", String(port)],
            logDirectory: directory, environment: ["PYTHONUNBUFFERED": "1"], processGroup: true)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let (status, _) = try? await get("/v2/health/ready"), status == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.stop()
        throw ChildProcessError(description: "the KServe model server did not answer /v2/health/ready within 120 s\n\(process.tail())")
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func tail() -> String { process.tail() }

    private func get(_ path: String) async throws -> (Int, Data) {
        var r = URLRequest(url: URL(string: url + path)!)
        r.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// One inference call as a client makes it (`Content-Type: application/json`), with
    /// everything the payload logger sees of it.
    func infer(_ path: String, body: Data) async throws -> InferenceExchange {
        var r = URLRequest(url: URL(string: url + path)!)
        r.httpMethod = "POST"
        r.httpBody = body
        r.timeoutInterval = 30
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let requestTime = Date()
        let (data, response) = try await URLSession.shared.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw ChildProcessError(description: "KServe \(path): HTTP \(status) \(String(decoding: data, as: UTF8.self))\n\(process.tail())")
        }
        return InferenceExchange(id: UUID().uuidString.lowercased(), requestBody: body, contentType: "application/json",
                                 requestTime: requestTime, responseBody: data, responseStatus: status, responseTime: Date())
    }
}

/// What KServe's agent holds of one inference when it logs it.
struct InferenceExchange {
    /// The request's `Ce-Id` header, or a new UUID (handler.go `getOrCreateID`).
    var id: String
    var requestBody: Data
    /// The inference request's Content-Type (`r.Header.Get("Content-Type")`), used for both events.
    var contentType: String?
    var requestTime: Date
    var responseBody: Data
    var responseStatus: Int
    var responseTime: Date

    var response: [String: Any] { (try? JSONSerialization.jsonObject(with: responseBody)) as? [String: Any] ?? [:] }
}

/// KServe's payload logger, as the agent sidecar sends it: one CloudEvent per inference request
/// and one per response (the response only when the model answered 200), in binary content mode
/// (cloudevents/sdk-go v2.16.2, `cloudevents.WithEncodingBinary`), POSTed to the logger URL.
/// Read from kserve/kserve `pkg/logger/handler.go` (`LoggerHandler.ServeHTTP`: the id, the
/// Content-Type of the request for both halves, the response logged only on 200) and
/// `pkg/logger/worker.go` (`sendHttpCloudEvent`: the attributes and extensions below), with
/// `pkg/webhook/admission/pod/agent_injector.go` for the agent's flags (`--source-uri` is the
/// pod's name; `--endpoint` and `--component` the pod's `endpoint` and `component` labels).
/// Headers (sdk-go's canonical spelling; the `ce-annotations` extension is only sent when the
/// InferenceService has logger annotations, none here):
///
///     Ce-Specversion: 1.0
///     Ce-Id: <request id>
///     Ce-Type: org.kubeflow.serving.inference.request | org.kubeflow.serving.inference.response
///     Ce-Source: <pod name>
///     Ce-Time: <request arrival / response time, RFC 3339 with nanoseconds, UTC>
///     Ce-Recordedtime: <when the event was sent, same format>
///     Ce-Inferenceservicename: <InferenceService>
///     Ce-Namespace: <namespace>
///     Ce-Component: predictor
///     Ce-Endpoint: <pod label "endpoint">
///     Ce-Metadata: {}            (allow-listed request headers as JSON; none configured)
///     Content-Type: <the inference request's Content-Type>   (absent when it had none)
struct PayloadLogger {
    var driftwatch: LiveService
    var inferenceService: String
    var namespace = "fraud-team"
    var component = "predictor"
    var endpoint = "default"
    var podName = "fraud-predictor-00001-deployment-6d8f9c7b5d-x2x9k"

    static let requestType = "org.kubeflow.serving.inference.request"
    static let responseType = "org.kubeflow.serving.inference.response"

    /// `time.RFC3339Nano` of a UTC time: fraction trimmed of trailing zeros, none when zero.
    static func rfc3339Nano(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let nanos = Int(((date.timeIntervalSince1970 - seconds) * 1e9).rounded())
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        var text = f.string(from: Date(timeIntervalSince1970: seconds))
        if nanos > 0 && nanos < 1_000_000_000 {
            var fraction = String(format: "%09d", nanos)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    func headers(id: String, type: String, occurred: Date) -> [String: String] {
        [
            "Ce-Specversion": "1.0",
            "Ce-Id": id,
            "Ce-Type": type,
            "Ce-Source": podName,
            "Ce-Time": Self.rfc3339Nano(occurred),
            "Ce-Recordedtime": Self.rfc3339Nano(Date()),
            "Ce-Inferenceservicename": inferenceService,
            "Ce-Namespace": namespace,
            "Ce-Component": component,
            "Ce-Endpoint": endpoint,
            "Ce-Metadata": "{}",
        ]
    }

    func post(_ exchange: InferenceExchange, request: Bool) async throws -> LiveService.Reply {
        try await driftwatch.call(
            "POST", "/v1/kserve", body: request ? exchange.requestBody : exchange.responseBody, contentType: exchange.contentType,
            headers: headers(id: exchange.id, type: request ? Self.requestType : Self.responseType,
                             occurred: request ? exchange.requestTime : exchange.responseTime))
    }

    /// Both events of an inference, the response first when asked (the agent's workers send
    /// them concurrently, so either may arrive first); the replies in the order sent.
    func forward(_ exchange: InferenceExchange, responseFirst: Bool = false) async throws -> [LiveService.Reply] {
        guard exchange.responseStatus == 200 else { return [try await post(exchange, request: true)] }
        if responseFirst { return [try await post(exchange, request: false), try await post(exchange, request: true)] }
        return [try await post(exchange, request: true), try await post(exchange, request: false)]
    }
}

/// Transactions like the ones the Python server's model was trained on (see
/// kserve_sklearn_server.py `training_data`), seeded; `drift` makes amounts three times and
/// distances four times larger.
struct Transactions {
    var rng: SeededGenerator
    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func next(drift: Bool) -> [Double] {
        let amount = exp(3.5 + 0.8 * rng.normal()) * (drift ? 3 : 1)
        let age = 1 + 2999 * rng.uniform()
        // Poisson(3) by inversion.
        var k = 0.0
        var p = exp(-3.0)
        var cumulative = p
        let u = rng.uniform()
        while u > cumulative && k < 30 {
            k += 1
            p *= 3 / k
            cumulative += p
        }
        let distance = -50 * log(1 - rng.uniform()) * (drift ? 4 : 1)
        return [(amount * 100).rounded() / 100, age.rounded(), k, (distance * 10).rounded() / 10]
    }

    mutating func rows(_ n: Int, drift: Bool) -> [[Double]] { (0..<n).map { _ in next(drift: drift) } }

    static func v1(_ rows: [[Double]]) -> Data {
        Data(("{\"instances\":[" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]}").utf8)
    }

    /// KServe's v2 client form: one FP64 tensor "input-0" of shape [n, 4], data flat.
    static func v2(_ rows: [[Double]], id: String) -> Data {
        let data = rows.flatMap { $0 }.map { "\($0)" }.joined(separator: ",")
        return Data(#"{"id":"\#(id)","inputs":[{"name":"input-0","shape":[\#(rows.count),4],"datatype":"FP64","data":[\#(data)]}]}"#.utf8)
    }
}

/// driftwatch against a real KServe model server: every request and response the server
/// answers is forwarded to `POST /v1/kserve` exactly as KServe's payload logger does.
final class KServePeerTests: XCTestCase {
    static let features = ["amount", "account_age_days", "tx_last_24h", "distance_km"]

    static func settings(prediction: String = #"{"name":"score","kind":"numeric"}"#, kserve: String? = nil,
                         window: Int = 400, minRows: Int = 100) -> String {
        let features = Self.features.map { #"{"name":"\#($0)","kind":"numeric"}"# }.joined(separator: ",")
        return #"{"features":[\#(features)],"prediction":\#(prediction),"window":{"rows":\#(window)},"min_rows":\#(minRows)"#
            + (kserve.map { #","kserve":\#($0)"# } ?? "") + "}"
    }

    func testDriftwatchReadsARealKServeModelServerThroughThePayloadLogger() async throws {
        let started = Date()
        let kserve = try await KServeModelServer()
        defer { kserve.stop() }
        let ready = Date()
        let live = try LiveService()
        try await live.running { s in
            try await self.driftScenario(s, kserve)
            try await self.severalOutputs(s, kserve)
        }
        print(String(format: "KServe peer test: model server ready in %.1f s, scenario %.1f s", ready.timeIntervalSince(started), Date().timeIntervalSince(ready)))
    }

    /// The baseline's predictions come from the model itself (one v2 call of 3000 rows).
    private func baselineCSV(_ kserve: KServeModelServer, rows: [[Double]], label: Bool = false) async throws -> Data {
        let exchange = try await kserve.infer("/v2/models/fraud/infer", body: Transactions.v2(rows, id: "baseline"))
        let output = try XCTUnwrap((exchange.response["outputs"] as? [[String: Any]])?.first)
        XCTAssertEqual(output["name"] as? String, "output-0")
        XCTAssertEqual(output["shape"] as? [Int], [rows.count, 2])
        let probabilities = try XCTUnwrap(output["data"] as? [Double])
        var csv = (Self.features + [label ? "label" : "score"]).joined(separator: ",") + "\n"
        for (k, row) in rows.enumerated() {
            let p = probabilities[2 * k + 1]
            csv += row.map { "\($0)" }.joined(separator: ",") + "," + (label ? (p >= 0.5 ? "fraud" : "ok") : "\(p)") + "\n"
        }
        return Data(csv.utf8)
    }

    /// One window of 400 production rows through both protocols, single and multi-row calls,
    /// half of them logged response first; every event accepted and every pair joined.
    private func sendWindow(_ logger: PayloadLogger, _ kserve: KServeModelServer, gen: inout Transactions, drift: Bool,
                            canary: PayloadLogger? = nil) async throws {
        // (protocol v2?, rows per call, calls): 10 + 200 + 10 + 180 = 400 rows.
        let plan: [(v2: Bool, rows: Int, calls: Int)] = [(false, 1, 10), (false, 40, 5), (true, 1, 10), (true, 45, 4)]
        var call = 0
        for step in plan {
            for _ in 0..<step.calls {
                call += 1
                if call == 20, let canary {
                    // Canary traffic (drifted on purpose) in the middle of the window.
                    for _ in 0..<3 {
                        let e = try await kserve.infer("/v1/models/fraud:predict", body: Transactions.v1(gen.rows(40, drift: true)))
                        for r in try await canary.forward(e) { XCTAssertEqual(r.status, 202, r.text) }
                    }
                }
                let rows = gen.rows(step.rows, drift: drift)
                let id = UUID().uuidString.lowercased()
                let exchange = step.v2
                    ? try await kserve.infer("/v2/models/fraud/infer", body: Transactions.v2(rows, id: id))
                    : try await kserve.infer("/v1/models/fraud:predict", body: Transactions.v1(rows))
                // The last call of the window logs its response first, so that every
                // prediction of the window arrives before the request that closes it.
                let last = call == plan.reduce(0) { $0 + $1.calls }
                let replies = try await logger.forward(exchange, responseFirst: last || call % 2 == 0)
                XCTAssertEqual(replies.count, 2)
                for (k, r) in replies.enumerated() {
                    XCTAssertEqual(r.status, 202, "call \(call) (\(step.v2 ? "v2" : "v1"), \(step.rows) rows): \(r.text)")
                    XCTAssertEqual(r.json["accepted"] as? Int, step.rows, r.text)
                    XCTAssertEqual(r.json["joined"] as? Bool, k == 1, "the second half of a pair is joined: \(r.text)")
                    XCTAssertEqual((r.json["prediction_ids"] as? [String])?.count, step.rows, r.text)
                }
            }
        }
    }

    private func feature(_ report: [String: Any], _ name: String) -> [String: Any] {
        ((report["features"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == name } ?? [:]
    }

    private func driftScenario(_ s: LiveService, _ kserve: KServeModelServer) async throws {
        var r = try await s.call("PUT", "/v1/models/fraud", json: Self.settings())
        XCTAssertEqual(r.status, 201, r.text)
        var gen = Transactions(seed: 11)
        r = try await s.call("PUT", "/v1/models/fraud/baseline", body: try await baselineCSV(kserve, rows: gen.rows(3000, drift: false)),
                             contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)

        let logger = PayloadLogger(driftwatch: s, inferenceService: "fraud")
        var canary = logger
        canary.endpoint = "canary"
        canary.podName = "fraud-predictor-00002-deployment-5c7b8d9f6a-k7m2p"

        // Window 1: clean production traffic, with drifted canary traffic in the middle.
        try await sendWindow(logger, kserve, gen: &gen, drift: false, canary: canary)
        let clean = try await s.drift("fraud", atLeast: 1)
        XCTAssertEqual(clean["rows"] as? Int, 400, "canary rows stay out of the production window")
        XCTAssertEqual((clean["summary"] as? [String: Any])?["dataset_drifted"] as? Bool, false, "\(clean["summary"] ?? "")")
        let cleanPrediction = try XCTUnwrap(clean["prediction"] as? [String: Any])
        XCTAssertEqual(cleanPrediction["n_current"] as? Int, 400, "every response's P(fraud) in the window")
        XCTAssertEqual(cleanPrediction["drifted"] as? Bool, false)
        for f in Self.features { XCTAssertEqual(feature(clean, f)["drifted"] as? Bool, false, "\(f): \(feature(clean, f)["reasons"] ?? "")") }
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_observations_total{model="fraud",endpoint="canary"} 240"#),
                      "3 canary calls × 40 rows, request and response halves")
        XCTAssertTrue(metrics.contains(#"driftwatch_kserve_events_total{model="fraud",type="response",joined="true"} "#))

        // Window 2: the inputs shift, and with them the model's scores.
        try await sendWindow(logger, kserve, gen: &gen, drift: true)
        let drifted = try await s.drift("fraud", atLeast: 2)
        XCTAssertEqual(drifted["rows"] as? Int, 400)
        XCTAssertEqual((drifted["summary"] as? [String: Any])?["dataset_drifted"] as? Bool, true, "\(drifted["summary"] ?? "")")
        XCTAssertEqual(feature(drifted, "amount")["drifted"] as? Bool, true, "\(feature(drifted, "amount"))")
        XCTAssertEqual(feature(drifted, "distance_km")["drifted"] as? Bool, true)
        XCTAssertEqual(feature(drifted, "account_age_days")["drifted"] as? Bool, false)
        let prediction = try XCTUnwrap(drifted["prediction"] as? [String: Any])
        XCTAssertEqual(prediction["drifted"] as? Bool, true, "prediction drift: \(prediction["reasons"] ?? "")")
        XCTAssertEqual(prediction["n_current"] as? Int, 400)
    }

    /// A custom KServe model answering a data frame: two outputs, "label" (BYTES) and "proba".
    private func severalOutputs(_ s: LiveService, _ kserve: KServeModelServer) async throws {
        var gen = Transactions(seed: 12)
        let baselineRows = gen.rows(3000, drift: false)
        // kserve.output says which output is the prediction.
        var r = try await s.call("PUT", "/v1/models/fraud-multi", json: Self.settings(kserve: #"{"output":"proba"}"#))
        XCTAssertEqual(r.status, 201, r.text)
        r = try await s.call("PUT", "/v1/models/fraud-multi/baseline", body: try await baselineCSV(kserve, rows: baselineRows), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        let logger = PayloadLogger(driftwatch: s, inferenceService: "fraud-multi")
        let v2 = try await kserve.infer("/v2/models/fraud-multi/infer", body: Transactions.v2(gen.rows(30, drift: false), id: "m1"))
        XCTAssertEqual((v2.response["outputs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["label", "proba"])
        let v1 = try await kserve.infer("/v1/models/fraud-multi:predict", body: Transactions.v1(gen.rows(20, drift: false)))
        XCTAssertNotNil(((v1.response["predictions"] as? [[String: Any]])?.first)?["proba"] as? Double, "v1: one object per row")
        for e in [v2, v1] {
            for (k, r) in try await logger.forward(e, responseFirst: e.id == v1.id).enumerated() {
                XCTAssertEqual(r.status, 202, r.text)
                XCTAssertEqual(r.json["joined"] as? Bool, k == 1)
            }
        }
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_prediction_value_count{model="fraud-multi"} 50"#),
                      "50 numeric predictions (proba, not the text label)")

        // Without the setting, and with no output named like the prediction: 422, outputs listed.
        r = try await s.call("PUT", "/v1/models/fraud-multi", json: Self.settings())
        XCTAssertEqual(r.status, 200, r.text)
        var again = v2
        again.id = "m2"
        assertProblem(try await logger.post(again, request: false), 422,
                      #"KServe response body: outputs: the response has 2 outputs ("label", "proba") and none is named like the prediction "score"; set "kserve": {"output": "NAME"} in the model settings"#)
        again.id = "m3"
        again.responseBody = v1.responseBody
        assertProblem(try await logger.post(again, request: false), 422, #"predictions[0]: the response has 2 outputs ("label", "proba")"#)
        // A prediction named like one of the outputs needs no setting.
        r = try await s.call("PUT", "/v1/models/fraud-multi", json: Self.settings(prediction: #"{"name":"proba","kind":"numeric"}"#))
        XCTAssertEqual(r.status, 200, r.text)
        again.id = "m4"
        again.responseBody = v2.responseBody
        r = try await logger.post(again, request: false)
        XCTAssertEqual(r.status, 202, r.text)

        // BYTES: the label output as a categorical prediction, from the same server.
        r = try await s.call("PUT", "/v1/models/fraud-labels",
                             json: Self.settings(prediction: #"{"name":"label","kind":"categorical"}"#, kserve: #"{"output":"label"}"#, window: 1000, minRows: 10))
        XCTAssertEqual(r.status, 201, r.text)
        r = try await s.call("PUT", "/v1/models/fraud-labels/baseline", body: try await baselineCSV(kserve, rows: baselineRows, label: true),
                             contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        let labels = PayloadLogger(driftwatch: s, inferenceService: "fraud-labels")
        for (k, r) in try await labels.forward(v2).enumerated() {
            XCTAssertEqual(r.status, 202, r.text)
            XCTAssertEqual(r.json["joined"] as? Bool, k == 1)
        }
        r = try await s.call("POST", "/v1/models/fraud-labels/evaluate", body: Data())
        XCTAssertEqual(r.status, 200, r.text)
        let prediction = try XCTUnwrap(r.json["prediction"] as? [String: Any], r.text)
        XCTAssertEqual(prediction["kind"] as? String, "categorical")
        XCTAssertEqual(prediction["n_current"] as? Int, 30, "one label per row of the v2 call")
        XCTAssertEqual((prediction["quality"] as? [String: Any])?["unseen_count"] as? Int, 0, "labels the baseline knows: \(prediction)")
    }
}
