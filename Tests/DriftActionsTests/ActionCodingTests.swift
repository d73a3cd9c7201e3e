import DriftCore
import DriftStore
import Foundation
import XCTest

@testable import DriftActions

/// Outbox rows: this version's encoding round-trips, and rows written by the previous version
/// (bodies rendered by JSONSerialization, slashes escaped) still decode into typed actions.
final class ActionCodingTests: XCTestCase {
    func testKeysRoundTripInTheirStoredForm() {
        let keys: [(ActionKey, String)] = [
            (.episodeAlert(episodeID: 7, notice: .firing), "alertmanager:episode:7:firing"),
            (.episodeAlert(episodeID: 7, notice: .resolved), "alertmanager:episode:7:resolved"),
            (.candidateGateAlert(model: "fraud", version: "v2"), "alertmanager:candidate:fraud:v2:gate"),
            (.retrain(episodeID: 3), "remediation:episode:3:retrain"),
            (.shadow(name: "fraud-shadow-v2", step: .create), "remediation:shadow:fraud-shadow-v2:create"),
            (.shadow(name: "fraud-shadow-v2", step: .delete), "remediation:shadow:fraud-shadow-v2:delete"),
            (.promotion(version: "v2"), "remediation:candidate:v2:promote"),
            (.episodeMLflow(episodeID: 4, state: .confirmed), "mlflow:episode:4:confirmed"),
            (.candidateGateMLflow(model: "fraud", version: "12"), "mlflow:candidate:fraud:12:gate"),
        ]
        for (key, text) in keys {
            XCTAssertEqual(key.rawValue, text)
            XCTAssertEqual(ActionKey(rawValue: text), key, text)
        }
        XCTAssertNil(ActionKey(rawValue: "m/episode-1/open"))
        XCTAssertNil(ActionKey(rawValue: "alertmanager:episode:x:firing"))
    }

    /// A retraining Job row exactly as the previous version stored it.
    func testPreviousVersionsJobRowDecodesAndSendsTheSameObject() throws {
        let oldBody = #"{"apiVersion":"batch\/v1","kind":"Job","metadata":{"annotations":{"driftwatch.io\/drift-from":"2025-11-24T16:00:00Z","driftwatch.io\/drift-to":"2025-11-24T17:00:00Z","driftwatch.io\/drifted-features":"amount"},"labels":{"app.kubernetes.io\/component":"retraining","app.kubernetes.io\/managed-by":"driftwatch","driftwatch.io\/episode":"4","driftwatch.io\/model":"fraud"},"name":"dw-retrain-fraud-e4","namespace":"ml"},"spec":{"activeDeadlineSeconds":21600,"backoffLimit":1,"template":{"metadata":{"labels":{"app.kubernetes.io\/component":"retraining","app.kubernetes.io\/managed-by":"driftwatch","driftwatch.io\/episode":"4","driftwatch.io\/model":"fraud"}},"spec":{"containers":[{"command":["python","train.py"],"env":[{"name":"DRIFTWATCH_MODEL","value":"fraud"}],"image":"ghcr.io\/acme\/train:1","name":"train","resources":{"limits":{"cpu":"4","memory":"16Gi","nvidia.com\/gpu":"1"},"requests":{"cpu":"4","memory":"16Gi"}}}],"nodeSelector":{"nvidia.com\/gpu.present":"true"},"restartPolicy":"Never","tolerations":[{"effect":"NoSchedule","key":"nvidia.com\/gpu","operator":"Exists"}]}},"ttlSecondsAfterFinished":604800}}"#
        // The previous version's RemediationCall, encoded as it was (sorted keys, body a string).
        let row = String(decoding: try JSONSerialization.data(withJSONObject: [
            "target": "kubernetes", "method": "POST", "path": "/apis/batch/v1/namespaces/ml/jobs", "body": oldBody, "also_done": [409],
            "remediation_kind": "retrain_job", "remediation_name": "dw-retrain-fraud-e4", "episode_id": 4, "state_on_success": "created",
        ] as [String: Any], options: [.sortedKeys]), as: UTF8.self)
        let action = try Action(kind: "remediation", payloadJSON: row)
        guard case .retrainJob(let job) = action else { return XCTFail("\(action)") }
        XCTAssertEqual(job.body.metadata.name, "dw-retrain-fraud-e4")
        XCTAssertEqual(job.body.spec.template.spec.tolerations, [.gpu])
        XCTAssertEqual(action.episodeID, 4)
        XCTAssertEqual(action.remediationKind, "retrain_job")
        let call = try XCTUnwrap(try action.httpCall())
        XCTAssertEqual(call.method, "POST")
        XCTAssertEqual(call.alsoDone, [409])
        // What goes out is the object that was stored (same JSON value; slashes no longer escaped).
        XCTAssertEqual(try json(XCTUnwrap(call.body)), try json(oldBody))
        XCTAssertFalse(try XCTUnwrap(call.body).contains(#"\/"#))
        // Stored again, it reads back as the same action.
        XCTAssertEqual(try Action(kind: "remediation", payloadJSON: try action.payloadJSON()), action)
    }

    func testPreviousVersionsOtherRowsDecode() throws {
        let patch = try Action(kind: "remediation", payloadJSON: #"{"also_done":[],"body":"{\"spec\":{\"predictor\":{\"canaryTrafficPercent\":10,\"model\":{\"storageUri\":\"s3:\\\/\\\/models\\\/fraud\\\/v2\"}}}}","episode_id":1,"method":"PATCH","path":"\/apis\/serving.kserve.io\/v1beta1\/namespaces\/ml\/inferenceservices\/fraud-model","remediation_kind":"promotion","remediation_name":"fraud-model-canary-v2","state_on_success":"patched","target":"kubernetes"}"#)
        XCTAssertEqual(try patch.requestBody(), #"{"spec":{"predictor":{"canaryTrafficPercent":10,"model":{"storageUri":"s3://models/fraud/v2"}}}}"#)
        XCTAssertEqual(try patch.httpCall()?.contentType, "application/merge-patch+json")

        let delete = try Action(kind: "remediation", payloadJSON: #"{"also_done":[404],"method":"DELETE","path":"/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/fraud-shadow-v3","remediation_kind":"shadow","remediation_name":"fraud-shadow-v3","state_on_success":"deleted","target":"kubernetes"}"#)
        guard case .deleteShadow = delete else { return XCTFail("\(delete)") }
        XCTAssertEqual(try delete.httpCall()?.alsoDone, [404])
        XCTAssertNil(try delete.httpCall()?.body)

        let alert = try Action(kind: "alertmanager", payloadJSON: #"{"annotations":{"summary":"s"},"episode_id":2,"generator_url":"http:\/\/dw\/models\/fraud\/episodes\/2","labels":{"alertname":"DriftwatchDriftEpisode"},"starts_at":1764000000}"#)
        guard case .alert(let a) = alert else { return XCTFail("\(alert)") }
        XCTAssertEqual(a.generatorURL, "http://dw/models/fraud/episodes/2")
        XCTAssertNil(a.resolvedAt)
        XCTAssertEqual(a.postable(now: Date(timeIntervalSince1970: 1_764_000_000), activeFor: 60).endsAt, "2025-11-24T16:01:00.000Z")

        let mlflow = try Action(kind: "mlflow", payloadJSON: #"{"episode_id":3,"metrics":[{"key":"psi.amount","step":5,"timestamp":1764000000000,"value":0.3}],"model":"fraud","spec":{"url":"http://mlflow:5000","model":"fraud"},"tags":{"driftwatch.drift_state":"confirmed"}}"#)
        guard case .mlflow(let c) = mlflow else { return XCTFail("\(mlflow)") }
        XCTAssertEqual(c.metrics.first?.key, "psi.amount")
        XCTAssertEqual(c.episodeID, 3)
    }

    func testAnUnreadablePayloadIsAnErrorNoRetryFixes() {
        for (kind, payload) in [("remediation", #"{"target":"kubernetes"}"#), ("alertmanager", "{"), ("carrier-pigeon", "{}"),
                                ("remediation", #"{"also_done":[],"body":"{}","method":"PATCH","path":"/x","remediation_kind":"promotion","remediation_name":"p","state_on_success":"patched","target":"kubernetes"}"#)] {
            XCTAssertThrowsError(try Action(kind: kind, payloadJSON: payload)) { error in
                XCTAssertEqual((error as? DeliveryError)?.retryable, false, "\(kind) \(payload): \(error)")
            }
        }
    }

    func testFailurePolicyRetriesWithBackoffAndGivesUpWhatNoRetryFixes() {
        let policy = FailurePolicy(maxAttempts: 3)
        let now = Date(timeIntervalSince1970: 0)
        XCTAssertEqual(policy.decide(attempts: 1, retryable: true, now: now), .retry(at: now.addingTimeInterval(1)))
        XCTAssertEqual(policy.decide(attempts: 2, retryable: true, now: now), .retry(at: now.addingTimeInterval(2)))
        XCTAssertEqual(policy.decide(attempts: 3, retryable: true, now: now), .giveUp)
        XCTAssertEqual(policy.decide(attempts: 1, retryable: false, now: now), .giveUp)
        XCTAssertEqual(FailurePolicy.backoff(afterAttempt: 10), 60)
        // In wall-clock terms: 3 attempts span 1 + 2 s; the default 30 span 1+2+…+32 + 23 × 60 s.
        XCTAssertEqual(policy.giveUpSeconds, 3)
        XCTAssertEqual(FailurePolicy(maxAttempts: 30).giveUpSeconds, 1443)
        XCTAssertEqual(FailurePolicy(maxAttempts: 1).giveUpSeconds, 0)
        XCTAssertTrue(DeliveryError.isRetryable(status: 503))
        XCTAssertTrue(DeliveryError.isRetryable(status: 429))
        XCTAssertFalse(DeliveryError.isRetryable(status: 403))
    }

    private func json(_ text: String) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }
}
