import Foundation
import XCTest

@testable import DriftActions

/// Answers are decoded into typed responses; one that does not decode is an error, never a
/// silently empty value.
final class ResponseDecodingTests: XCTestCase {
    func testJobStatusStates() throws {
        func state(_ json: String) throws -> String { try ActionJSON.decode(JobStatusResponse.self, from: json, what: "job").state.rawValue }
        XCTAssertEqual(try state(#"{"metadata":{"name":"j"}}"#), "running")
        XCTAssertEqual(try state(#"{"status":{"active":1}}"#), "running")
        XCTAssertEqual(try state(#"{"status":{"succeeded":1}}"#), "succeeded")
        XCTAssertEqual(try state(#"{"status":{"conditions":[{"type":"Complete","status":"True"}]}}"#), "succeeded")
        XCTAssertEqual(try state(#"{"status":{"conditions":[{"type":"Failed","status":"True"}]}}"#), "failed")
        XCTAssertEqual(try state(#"{"status":{"conditions":[{"type":"Failed","status":"False"}]}}"#), "running")
    }

    func testAnAnswerThatDoesNotDecodeIsAnError() {
        XCTAssertThrowsError(try ActionJSON.decode(JobStatusResponse.self, from: #"{"status":"gone"}"#, what: "GET /jobs/j")) { error in
            let e = error as? DeliveryError
            XCTAssertEqual(e?.retryable, false)
            XCTAssertTrue(e?.message.hasPrefix("GET /jobs/j: unreadable JSON") == true, "\(error)")
        }
        XCTAssertThrowsError(try ActionJSON.decode(ModelVersionsAnswer.self, from: #"{"model_versions":[{"version":"3"}]}"#, what: "search"))
    }

    func testHTTPErrorsSayWhetherARetryHelps() {
        XCTAssertTrue(DeliveryError.http("POST /x", status: 503, text: "busy").retryable)
        let forbidden = DeliveryError.http("MLflow POST /y", status: 403, text: "no\naccess", code: "PERMISSION_DENIED")
        XCTAssertFalse(forbidden.retryable)
        XCTAssertEqual(forbidden.message, "MLflow POST /y: HTTP 403 PERMISSION_DENIED: no access")
        XCTAssertEqual(forbidden.code, "PERMISSION_DENIED")
    }

    func testOutboundBodiesKeepTheirShapes() throws {
        let patch = try ActionJSON.string(InferenceServicePatch(canaryTrafficPercent: 10, storageUri: "s3://m/v2"))
        XCTAssertEqual(patch, #"{"spec":{"predictor":{"canaryTrafficPercent":10,"model":{"storageUri":"s3://m/v2"}}}}"#)
        let alert = EpisodeAlert(episodeID: 1, labels: ["alertname": "A"], annotations: [:], generatorURL: "http://dw/e/1",
                                 startsAt: 0, resolvedAt: 60)
        let posted = String(decoding: try ActionJSON.wireEncoder.encode([alert.postable(now: Date(), activeFor: 1)]), as: UTF8.self)
        XCTAssertEqual(posted, #"[{"annotations":{},"endsAt":"1970-01-01T00:01:00.000Z","generatorURL":"http:\/\/dw\/e\/1","labels":{"alertname":"A"},"startsAt":"1970-01-01T00:00:00.000Z"}]"#)
    }
}
