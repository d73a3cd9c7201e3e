import DriftActions
import DriftSimulation
import DriftCore
@testable import DriftServer
import DriftStore
import Foundation
import XCTest

/// Retraining, shadow scoring and the gate against a Kubernetes stand-in on 127.0.0.1.
final class RemediationTests: XCTestCase {
    private func configure(_ k8s: KubernetesStandIn, token: String) -> (inout ServerConfiguration) -> Void {
        { cfg in
            var r = RemediationConfiguration()
            r.kubernetes = KubernetesAccess(apiURL: k8s.url, namespace: "ml", tokenFile: token)
            var retrain = RetrainConfiguration(kind: .job)
            var job = JobTemplate(image: "ghcr.io/acme/fraud-train:1")
            job.command = ["python", "train.py"]
            job.env = ["MLFLOW_TRACKING_URI": "http://mlflow:5000"]
            retrain.job = job
            retrain.pollSeconds = 0.2
            r.retrain = retrain
            r.shadow = ShadowConfiguration(modelFormat: "xgboost")
            r.gate.minJoinedRows = 400
            r.promotion = PromotionConfiguration(inferenceService: "fraud-model", canaryTrafficPercent: 10)
            cfg.remediation = r
            cfg.publicURL = "http://driftwatch.ml.svc:8080"
        }
    }

    private func tokenFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-token-\(UUID().uuidString)").path
        try "sa-token-123\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testConfirmedDriftCreatesOneGPUJobThroughAPIFailuresThenCoolsDown() async throws {
        let k8s = try await KubernetesStandIn()
        do { try await LiveService(configure: configure(k8s, token: try tokenFile())).running { try await self.retrainScenario($0, k8s) } } catch {
            await k8s.stop()
            throw error
        }
        await k8s.stop()
    }

    private func retrainScenario(_ s: LiveService, _ k8s: KubernetesStandIn) async throws {
        let created = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(created.status, 201, created.text)
        let baseline = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(baseline.status, 201, baseline.text)
        var gen = FraudDemoData(seed: 5)
        var seq = 0
        func window(drift: Bool) async throws {
            seq += 1
            try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq)
        }
        // The API server is down for the first three attempts.
        await k8s.state.fail(next: 3)
        try await window(drift: false)
        try await window(drift: true)
        try await window(drift: true)  // confirmed: episode 1
        let jobsPath = "/apis/batch/v1/namespaces/ml/jobs"
        let calls = try await k8s.wait("the Job created after the API recovers", seconds: 30) { calls in
            calls.contains { $0.method == "POST" && $0.path == jobsPath && $0.status == 201 }
        }
        let posts = calls.filter { $0.method == "POST" && $0.path == jobsPath }
        XCTAssertEqual(posts.map(\.status), [500, 500, 500, 201], "retried with backoff until created, once")
        XCTAssertEqual(posts.last?.authorization, "Bearer sa-token-123")
        let job = try XCTUnwrap(posts.last?.json)
        let metadata = try XCTUnwrap(job["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["name"] as? String, "dw-retrain-fraud-e1")
        XCTAssertEqual(metadata["namespace"] as? String, "ml")
        XCTAssertEqual((metadata["labels"] as? [String: String])?["driftwatch.io/episode"], "1")
        let spec = try XCTUnwrap(job["spec"] as? [String: Any])
        XCTAssertEqual(spec["backoffLimit"] as? Int, 1)
        XCTAssertEqual(spec["activeDeadlineSeconds"] as? Int, 21600)
        let pod = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        XCTAssertEqual(pod["restartPolicy"] as? String, "Never")
        XCTAssertEqual(pod["nodeSelector"] as? [String: String], ["nvidia.com/gpu.present": "true"])
        XCTAssertEqual(pod["tolerations"] as? [[String: String]], [["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]])
        let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(((container["resources"] as? [String: Any])?["limits"] as? [String: String])?["nvidia.com/gpu"], "1")
        let env = Dictionary(uniqueKeysWithValues: (container["env"] as? [[String: String]] ?? []).map { ($0["name"] ?? "", $0["value"] ?? "") })
        XCTAssertEqual(env["DRIFTWATCH_MODEL"], "fraud")
        XCTAssertEqual(env["DRIFTWATCH_EPISODE_ID"], "1")
        XCTAssertEqual(env["DRIFTWATCH_BASELINE_VERSION"], "1")
        XCTAssertFalse((env["DRIFTWATCH_DRIFTED_FEATURES"] ?? "").isEmpty)
        XCTAssertNotNil(env["DRIFTWATCH_DRIFT_FROM"])
        XCTAssertEqual(env["DRIFTWATCH_CANDIDATES_URL"], "http://driftwatch.ml.svc:8080/v1/models/fraud/candidates")
        XCTAssertEqual(env["MLFLOW_TRACKING_URI"], "http://mlflow:5000")
        // `driftwatch remediation render` for this model and episode prints the body that was
        // sent, byte for byte (one builder for both).
        let iso = ISO8601DateFormatter()
        let rendered = try renderRemediationManifests(
            config: s.service.config, model: "fraud", episodeID: 1, baselineVersion: 1,
            driftedFeatures: (env["DRIFTWATCH_DRIFTED_FEATURES"] ?? "").split(separator: ",").map(String.init),
            candidateVersion: "v2", modelURI: "s3://models/fraud/v2", defaultNamespace: "default",
            driftFrom: iso.date(from: env["DRIFTWATCH_DRIFT_FROM"] ?? ""), driftTo: iso.date(from: env["DRIFTWATCH_DRIFT_TO"] ?? ""))
        XCTAssertEqual(rendered.map(\.name), ["retrain-job", "shadow-inferenceservice", "promotion-patch"])
        XCTAssertEqual(rendered.first?.json, String(decoding: try XCTUnwrap(posts.last?.body), as: UTF8.self))

        // Job status is polled onto the episode: running, then succeeded.
        try await waitForRemediation(s, episode: 0, state: "running")
        await k8s.state.setObject(jobsPath + "/dw-retrain-fraud-e1", ["status": ["succeeded": 1, "conditions": [["type": "Complete", "status": "True"]]]])
        try await waitForRemediation(s, episode: 0, state: "succeeded")
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_remediations_total{model="fraud",kind="retrain_job",state="succeeded"} 1"#), metrics)

        // Resolved, then confirmed again within the cooldown: no second Job, the skip recorded.
        try await window(drift: false)
        try await window(drift: false)
        try await window(drift: true)
        try await window(drift: true)
        try await waitForRemediation(s, episode: 0, state: "skipped")
        let r = try await s.call("GET", "/v1/models/fraud/episodes")
        let newest = try XCTUnwrap((r.json["episodes"] as? [[String: Any]])?.first)
        XCTAssertEqual(newest["id"] as? Int, 2)
        let skipped = try XCTUnwrap((newest["remediations"] as? [[String: Any]])?.first)
        XCTAssertTrue((skipped["detail"] as? String ?? "").hasPrefix("cooldown: dw-retrain-fraud-e1 started"), "\(skipped)")
        let allPosts = await k8s.calls("POST", jobsPath)
        XCTAssertEqual(allPosts.filter { $0.status == 201 }.count, 1, "exactly one Job across both episodes")
    }

    /// Waits until the remediation of the newest-but-`episode` episode reaches `state`.
    private func waitForRemediation(_ s: LiveService, episode index: Int, state: String) async throws {
        let deadline = Date().addingTimeInterval(30)
        var last: Any = "none"
        while Date() < deadline {
            let r = try await s.call("GET", "/v1/models/fraud/episodes")
            let episodes = r.json["episodes"] as? [[String: Any]] ?? []
            if index < episodes.count {
                let remediations = episodes[index]["remediations"] as? [[String: Any]] ?? []
                last = remediations
                if remediations.contains(where: { $0["state"] as? String == state }) { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("remediation never reached \(state); last: \(last)")
    }

    func testCandidateGetsAShadowScorerAndTheGateDecides() async throws {
        let k8s = try await KubernetesStandIn()
        do { try await LiveService(configure: configure(k8s, token: try tokenFile())).running { try await self.gateScenario($0, k8s) } } catch {
            await k8s.stop()
            throw error
        }
        await k8s.stop()
    }

    private func gateScenario(_ s: LiveService, _ k8s: KubernetesStandIn) async throws {
        let created = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(created.status, 201, created.text)
        let baseline = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(baseline.status, 201, baseline.text)
        assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v 2","model_uri":"s3://m/v2"}"#), 422, "must match")
        assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2","model_uri":"models/v2"}"#), 422, "needs a scheme")
        assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2"}"#), 400, "model_uri: required field is missing")

        var r = try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2","model_uri":"s3://models/fraud/v2","metrics":{"auc":0.93}}"#)
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.json["shadow"] as? String, "fraud-shadow-v2")
        assertProblem(try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v2","model_uri":"s3://models/fraud/v2"}"#), 409, "already exists")
        let isvcPath = "/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices"
        let shadowCalls = try await k8s.wait("the shadow InferenceService") { $0.contains { $0.method == "POST" && $0.path == isvcPath && $0.status == 201 } }
        let isvc = try XCTUnwrap(shadowCalls.first { $0.method == "POST" && $0.path == isvcPath }?.json)
        XCTAssertEqual((isvc["metadata"] as? [String: Any])?["name"] as? String, "fraud-shadow-v2")
        let predictor = try XCTUnwrap((isvc["spec"] as? [String: Any])?["predictor"] as? [String: Any])
        XCTAssertEqual((predictor["model"] as? [String: Any])?["storageUri"] as? String, "s3://models/fraud/v2")
        XCTAssertEqual((((predictor["model"] as? [String: Any])?["resources"] as? [String: Any])?["limits"] as? [String: String])?["nvidia.com/gpu"], "1")
        XCTAssertEqual(predictor["tolerations"] as? [[String: String]], [["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]])
        XCTAssertEqual((predictor["logger"] as? [String: String])?["url"], "http://driftwatch.ml.svc:8080/v1/kserve?model=fraud&endpoint=shadow")

        // Production and shadow score the same requests; the shadow nearly agrees (±2 %
        // multiplicative jitter) → pass.
        var gen = FraudDemoData(seed: 21)
        var jitter = SeededGenerator(seed: 2)
        try await s.postShadowPairs("fraud", batches: 4, gen: &gen) { score, _ in min(1, score * (1 + Double.random(in: -0.02...0.02, using: &jitter))) }
        r = try await waitForVerdict(s, version: "v2", not: "pending")
        XCTAssertEqual(r.json["verdict"] as? String, "pass", r.text)
        let decision = try XCTUnwrap(r.json["decision"] as? [String: Any])
        let comparison = try XCTUnwrap(decision["comparison"] as? [String: Any])
        XCTAssertEqual(comparison["joined_rows"] as? Int, 1000)
        XCTAssertGreaterThan(comparison["agreement"] as? Double ?? 0, 0.95)
        XCTAssertGreaterThan(comparison["correlation"] as? Double ?? 0, 0.99)
        // A pass promotes: the production InferenceService gets 10 % canary traffic on v2.
        let patched = try await k8s.wait("the canary promotion") { $0.contains { $0.method == "PATCH" } }
        let patch = try XCTUnwrap(patched.first { $0.method == "PATCH" })
        XCTAssertEqual(patch.path, isvcPath + "/fraud-model")
        XCTAssertEqual(String(decoding: patch.body, as: UTF8.self), #"{"spec":{"predictor":{"canaryTrafficPercent":10,"model":{"storageUri":"s3://models/fraud/v2"}}}}"#)
        // What `remediation render` prints for this candidate is what the dispatcher sent, byte for byte.
        let rendered = Dictionary(uniqueKeysWithValues: try renderRemediationManifests(
            config: s.service.config, model: "fraud", episodeID: 1, baselineVersion: 1, driftedFeatures: [],
            candidateVersion: "v2", modelURI: "s3://models/fraud/v2", defaultNamespace: "default").map { ($0.name, $0.json) })
        let shadowBody = try XCTUnwrap(shadowCalls.first { $0.method == "POST" && $0.path == isvcPath }?.body)
        XCTAssertEqual(rendered["shadow-inferenceservice"], String(decoding: shadowBody, as: UTF8.self))
        XCTAssertEqual(rendered["promotion-patch"], String(decoding: patch.body, as: UTF8.self))
        var metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_candidate_gate{model="fraud",candidate="v2",verdict="pass"} 1"#), metrics)

        // A second candidate whose scores have nothing to do with production's → fail, and its
        // shadow scorer is deleted.
        r = try await s.call("POST", "/v1/models/fraud/candidates", json: #"{"version":"v3","model_uri":"s3://models/fraud/v3"}"#)
        XCTAssertEqual(r.status, 201, r.text)
        var noise = SeededGenerator(seed: 3)
        try await s.postShadowPairs("fraud", batches: 4, gen: &gen) { _, _ in Double.random(in: 0..<1, using: &noise) }
        r = try await waitForVerdict(s, version: "v3", not: "pending")
        XCTAssertEqual(r.json["verdict"] as? String, "fail", r.text)
        let reasons = (r.json["decision"] as? [String: Any])?["reasons"] as? [String] ?? []
        XCTAssertTrue(reasons.contains { $0.hasPrefix("score correlation") }, "\(reasons)")
        _ = try await k8s.wait("the failed candidate's shadow deleted") { $0.contains { $0.method == "DELETE" && $0.path == isvcPath + "/fraud-shadow-v3" } }
        metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains(#"driftwatch_candidate_gate{model="fraud",candidate="v3",verdict="fail"} 1"#), metrics)
    }

    /// An outbox row written by the previous version (RemediationCall with the body rendered by
    /// JSONSerialization, slashes escaped) is still delivered after an upgrade.
    func testPreviousVersionsStoredJobIsDelivered() async throws {
        let k8s = try await KubernetesStandIn()
        do {
            try await LiveService(configure: configure(k8s, token: try tokenFile())).running { s in
                let created = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
                XCTAssertEqual(created.status, 201, created.text)
                let body = #"{"apiVersion":"batch\/v1","kind":"Job","metadata":{"labels":{"driftwatch.io\/episode":"9"},"name":"dw-retrain-fraud-e9","namespace":"ml"},"spec":{"activeDeadlineSeconds":21600,"backoffLimit":1,"template":{"metadata":{"labels":{"driftwatch.io\/episode":"9"}},"spec":{"containers":[{"env":[{"name":"DRIFTWATCH_MODEL","value":"fraud"}],"image":"ghcr.io\/acme\/fraud-train:1","name":"train","resources":{"limits":{"cpu":"4","memory":"16Gi"},"requests":{"cpu":"4","memory":"16Gi"}}}],"restartPolicy":"Never"}},"ttlSecondsAfterFinished":604800}}"#
                let payload = String(decoding: try JSONSerialization.data(withJSONObject: [
                    "target": "kubernetes", "method": "POST", "path": "/apis/batch/v1/namespaces/ml/jobs", "body": body, "also_done": [409],
                    "remediation_kind": "retrain_job", "remediation_name": "dw-retrain-fraud-e9", "state_on_success": "created",
                ] as [String: Any], options: [.sortedKeys]), as: UTF8.self)
                try s.service.store.enqueueAction(model: "fraud", kind: "remediation", key: "remediation:episode:9:retrain", payloadJSON: payload, now: Date())
                let calls = try await k8s.wait("the stored Job created") { $0.contains { $0.method == "POST" && $0.status == 201 } }
                let job = try XCTUnwrap(calls.first { $0.method == "POST" && $0.status == 201 })
                XCTAssertEqual(job.path, "/apis/batch/v1/namespaces/ml/jobs")
                XCTAssertEqual(job.json as NSDictionary, try JSONSerialization.jsonObject(with: Data(body.utf8)) as? NSDictionary)
                // Recorded as created (and then polled: running).
                XCTAssertTrue([RemediationState.created, .running].contains(try XCTUnwrap(try s.service.store.remediations(model: "fraud").first?.state)))
            }
        } catch {
            await k8s.stop()
            throw error
        }
        await k8s.stop()
    }

    private func waitForVerdict(_ s: LiveService, version: String, not pending: String) async throws -> LiveService.Reply {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let r = try await s.call("GET", "/v1/models/fraud/candidates")
            if let c = (r.json["candidates"] as? [[String: Any]])?.first(where: { $0["version"] as? String == version }),
               c["verdict"] as? String != pending
            {
                return LiveService.Reply(status: 200, headers: [:], data: try JSONSerialization.data(withJSONObject: c))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("candidate \(version) got no verdict")
        return LiveService.Reply(status: 0, headers: [:], data: Data())
    }
}

/// The Argo Workflows and webhook kinds of retraining, and the exactly-once rules, on the
/// runtime itself.
final class RetrainKindsTests: XCTestCase {
    func request(episode: Int64) -> RetrainRequest {
        RetrainRequest(model: "fraud", episodeID: episode, baselineVersion: 3, driftedFeatures: ["amount"],
                       driftFrom: 1_764_000_000, driftTo: 1_764_003_600, candidatesURL: "http://dw/v1/models/fraud/candidates")
    }

    func testArgoSubmissionIsCreatedOnceAndWebhookPosts() async throws {
        let api = try await KubernetesStandIn()
        do {
            let store = try SQLiteStore.inMemory()
            try store.upsertModel(name: "fraud", settings: ModelSettings(features: [], prediction: nil), now: Date())
            var config = RemediationConfiguration()
            var retrain = RetrainConfiguration(kind: .argo)
            retrain.argo = ArgoSubmission(url: api.url, namespace: "ml", workflowTemplate: "fraud-retrain", tokenFile: nil)
            retrain.cooldownSeconds = 0
            config.retrain = retrain
            let runtime = try RemediationRuntime(config: config, publicURL: "http://dw")
            let call = try XCTUnwrap(try runtime.retrain(request(episode: 4), store: store, now: Date()))
            guard case .argoSubmit(let submit) = call else { return XCTFail("\(call)") }
            XCTAssertEqual(submit.path, "/api/v1/workflows/ml/submit")
            try await runtime.perform(call)
            try await runtime.perform(call)  // a retry after a lost answer: 409, still done
            let posts = await api.calls("POST", "/api/v1/workflows/ml/submit")
            XCTAssertEqual(posts.map(\.status), [201, 409])
            let body = try XCTUnwrap(posts.first?.json)
            XCTAssertEqual(body["resourceKind"] as? String, "WorkflowTemplate")
            XCTAssertEqual(body["resourceName"] as? String, "fraud-retrain")
            let options = try XCTUnwrap(body["submitOptions"] as? [String: Any])
            XCTAssertEqual(options["name"] as? String, "dw-retrain-fraud-e4")
            XCTAssertTrue((options["parameters"] as? [String] ?? []).contains("episode_id=4"), "\(options)")
            XCTAssertTrue((options["parameters"] as? [String] ?? []).contains("drifted_features=amount"), "\(options)")
            // The same episode never asks twice; another one does (no cooldown here) unless a
            // run is still active (max_concurrent 1).
            XCTAssertNil(try runtime.retrain(request(episode: 4), store: store, now: Date()))
            XCTAssertNil(try runtime.retrain(request(episode: 5), store: store, now: Date()))
            XCTAssertEqual(try store.remediations(model: "fraud").first?.state, .skipped)
            XCTAssertTrue(try store.remediations(model: "fraud").first?.detail?.contains("still active (max_concurrent 1)") == true)
            await runtime.shutdown()

            var hook = RemediationConfiguration()
            var r = RetrainConfiguration(kind: .webhook)
            r.webhookURL = api.url + "/hooks/retrain"
            hook.retrain = r
            let webhook = try RemediationRuntime(config: hook, publicURL: "http://dw")
            let store2 = try SQLiteStore.inMemory()
            try store2.upsertModel(name: "fraud", settings: ModelSettings(features: [], prediction: nil), now: Date())
            try await webhook.perform(try XCTUnwrap(try webhook.retrain(request(episode: 9), store: store2, now: Date())))
            let hookCalls = await api.calls("POST", "/hooks/retrain")
            let hookBody = try XCTUnwrap(hookCalls.first?.json)
            XCTAssertEqual(hookBody["episode_id"] as? Int, 9)
            XCTAssertEqual(hookBody["drifted_features"] as? [String], ["amount"])

            // A 4xx no retry can fix is not retryable; a 5xx is.
            await api.state.fail(next: 1)
            do {
                try await webhook.transport.perform(RemediationHTTPCall(target: .webhook, method: "POST", path: api.url + "/x", body: "{}", alsoDone: []))
                XCTFail("a 500 is an error")
            } catch let e as DeliveryError {
                XCTAssertTrue(e.retryable)
            }
            await webhook.shutdown()
        } catch {
            await api.stop()
            throw error
        }
        await api.stop()
    }
}
