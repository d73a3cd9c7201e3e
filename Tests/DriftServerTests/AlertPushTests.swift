import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import Hummingbird
import XCTest

/// The direct Alertmanager push (API v2) through the durable outbox, against a recorder that
/// plays Alertmanager: refused first (503), then accepted; and the one truth of delivery — an
/// action is pending while retried, given up when no retry helps, and delivered by whichever of
/// the outbox, the re-send loop or an admin's retry got it through.
final class AlertPushTests: XCTestCase {
    func testConfirmedEpisodeIsPushedRetriedAndResolved() async throws {
        let am = try await Recorder()
        await am.state.set(.serviceUnavailable)
        let s = try LiveService { cfg in
            var a = AlertmanagerConfiguration(urls: [am.url])
            a.labels = ["team": "fraud-ml"]
            a.resendSeconds = 1
            cfg.alertmanager = a
            cfg.publicURL = "https://driftwatch.example.org/"
        }
        try await s.start()
        do {
            try await run(s, am)
        } catch {
            await s.stop(); await am.stop()
            throw error
        }
        await s.stop()
        await am.stop()
    }

    private func run(_ s: LiveService, _ am: Recorder) async throws {
        var r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 201, r.text)
        r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        var gen = FraudDemoData(seed: 7)
        func window(drift: Bool, seq: Int) async throws { try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq) }
        try await window(drift: false, seq: 1)
        try await window(drift: true, seq: 2)
        try await window(drift: true, seq: 3)  // 2 of 3 drifted: confirmed

        // Alertmanager refuses: the firing notice stays in the outbox, retried with backoff.
        _ = try await am.wait("two refused attempts", seconds: 20) { bodies in bodies.count >= 2 }
        r = try await s.call("GET", "/v1/models/fraud/episodes")
        var action = try XCTUnwrap(((r.json["episodes"] as? [[String: Any]])?.first?["actions"] as? [[String: Any]])?.first)
        XCTAssertEqual(action["key"] as? String, "alertmanager:episode:1:firing")
        XCTAssertEqual(action["state"] as? String, "pending", "retrying is pending")
        XCTAssertTrue((action["last_error"] as? String ?? "").contains("HTTP 503"), "\(action)")
        XCTAssertNotNil(action["next_attempt_at"])
        var metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains("driftwatch_actions_pending{kind=\"alertmanager\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("driftwatch_actions_given_up{kind=\"alertmanager\"} 0"), metrics)
        XCTAssertTrue(metrics.contains("driftwatch_actions_total{kind=\"alertmanager\",outcome=\"retried\"}"), metrics)

        // Alertmanager back: delivered, with the episode's labels, figures and link.
        await am.state.set(.ok)
        let deliveredBy = Date().addingTimeInterval(30)
        while Date() < deliveredBy {
            r = try await s.call("GET", "/v1/models/fraud/episodes")
            action = ((r.json["episodes"] as? [[String: Any]])?.first?["actions"] as? [[String: Any]])?.first ?? [:]
            if action["state"] as? String == "delivered" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(action["state"] as? String, "delivered", "\(action)")
        let alerts = await am.state.all().compactMap { $0.json as? [[String: Any]] }.flatMap { $0 }
        let firing = try XCTUnwrap(alerts.last)
        XCTAssertEqual(firing["labels"] as? [String: String],
                       ["alertname": "DriftwatchDriftEpisode", "model": "fraud", "severity": "critical", "team": "fraud-ml"])
        let annotations = try XCTUnwrap(firing["annotations"] as? [String: String])
        XCTAssertTrue(annotations["summary"]?.hasPrefix("Drift confirmed for model fraud:") == true, "\(annotations)")
        XCTAssertFalse((annotations["drifted_features"] ?? "").isEmpty)
        XCTAssertTrue(annotations["description"]?.contains("PSI") == true, "figures of the drifted features: \(annotations)")
        XCTAssertEqual(annotations["runbook_url"], "https://github.com/driftwatch/driftwatch/blob/main/README.md#driftwatchdriftepisode")
        XCTAssertEqual(firing["generatorURL"] as? String, "https://driftwatch.example.org/models/fraud/episodes/1", "the episode's report page")
        let ends = try XCTUnwrap(ISO8601DateFormatter.fractional.date(from: firing["endsAt"] as? String ?? ""))
        XCTAssertGreaterThan(ends, Date(), "a firing alert ends in the future (re-sent before then)")
        metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains("driftwatch_actions_pending{kind=\"alertmanager\"} 0"), metrics)

        // Re-sent while confirmed (resend_seconds 1).
        let before = await am.state.all().count
        _ = try await am.wait("a re-send", seconds: 10) { $0.count >= before + 1 }

        // Two clean windows resolve the episode: the resolution notice ends the alert.
        try await window(drift: false, seq: 4)
        try await window(drift: false, seq: 5)
        let all = try await am.wait("the resolution", seconds: 30) { bodies in
            bodies.compactMap { $0.json as? [[String: Any]] }.flatMap { $0 }.contains { alert in
                guard let end = ISO8601DateFormatter.fractional.date(from: alert["endsAt"] as? String ?? "") else { return false }
                return end <= Date()
            }
        }
        let resolved = try XCTUnwrap(all.compactMap { $0.json as? [[String: Any]] }.flatMap { $0 }.last)
        XCTAssertEqual((resolved["labels"] as? [String: String])?["alertname"], "DriftwatchDriftEpisode")
        r = try await s.call("GET", "/v1/models/fraud/episodes")
        let keys = ((r.json["episodes"] as? [[String: Any]])?.first?["actions"] as? [[String: Any]] ?? []).map { "\($0["key"]!) \($0["state"]!)" }
        XCTAssertEqual(keys, ["alertmanager:episode:1:firing delivered", "alertmanager:episode:1:resolved delivered"])
        // No re-sends after the resolution.
        let count = await am.state.all().count
        try await Task.sleep(for: .milliseconds(2500))
        let after = await am.state.all().count
        XCTAssertEqual(after, count, "a resolved episode is not re-sent")
    }
}

extension AlertPushTests {
    /// A 4xx no retry fixes gives the firing notice up: visible in the API, the gauge and the
    /// report; an admin's retry (once Alertmanager accepts again) delivers it.
    func testAGivenUpAlertIsVisibleAndAnAdminRetryDeliversIt() async throws {
        // The re-send loop waits 180 s: only the admin's retry can deliver within the test.
        try await withAlertmanagerRecorder(answering: .badRequest, resendSeconds: 180) { s, am in
            let key = try await confirmAndWaitForGivenUp(s, am)
            var r = try await s.call("POST", "/v1/models/fraud/actions/\(key)/retry")
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json["state"] as? String, "pending", r.text)
            XCTAssertEqual(r.json["attempts"] as? Int, 0, r.text)
            // Still refused (400): given up again at once, with the error.
            try await waitForAction(s, key, state: "given_up")
            await am.state.set(.ok)
            r = try await s.call("POST", "/v1/models/fraud/actions/\(key)/retry")
            XCTAssertEqual(r.status, 200, r.text)
            try await waitForAction(s, key, state: "delivered")
            let metrics = try await s.call("GET", "/metrics", contentType: nil).text
            XCTAssertTrue(metrics.contains("driftwatch_actions_given_up{kind=\"alertmanager\"} 0"), metrics)
            XCTAssertTrue(metrics.contains("driftwatch_actions_pending{kind=\"alertmanager\"} 0"), metrics)
            // A delivered action is not retried; unknown keys and states are named.
            r = try await s.call("POST", "/v1/models/fraud/actions/\(key)/retry")
            XCTAssertEqual(r.status, 409, r.text)
            XCTAssertTrue((r.json["detail"] as? String ?? "").contains("was delivered"), r.text)
            r = try await s.call("POST", "/v1/models/fraud/actions/alertmanager:episode:99:firing/retry")
            XCTAssertEqual(r.status, 404, r.text)
            XCTAssertTrue((r.json["detail"] as? String ?? "").contains("GET /v1/models/fraud/actions lists them"), r.text)
            r = try await s.call("GET", "/v1/models/fraud/actions?state=failed")
            XCTAssertEqual(r.status, 400, r.text)
            XCTAssertTrue((r.json["detail"] as? String ?? "").contains("pending, delivered, given_up"), r.text)
        }
    }

    /// The outbox gave the firing notice up, then the re-send loop got the episode's alert
    /// through: the action reads delivered (one truth), and nothing is counted as given up.
    func testTheResendLoopsDeliveryMarksAGivenUpNoticeDelivered() async throws {
        try await withAlertmanagerRecorder(answering: .badRequest, resendSeconds: 1) { s, am in
            let key = try await confirmAndWaitForGivenUp(s, am)
            await am.state.set(.ok)
            try await waitForAction(s, key, state: "delivered")
            let metrics = try await s.call("GET", "/metrics", contentType: nil).text
            XCTAssertTrue(metrics.contains("driftwatch_actions_given_up{kind=\"alertmanager\"} 0"), metrics)
        }
    }

    /// Every episode of a model is one alert to Alertmanager (the same labels): a resolution of
    /// episode 1 still retrying when episode 2 is confirmed must not be sent late, or it would
    /// resolve episode 2's alert (found by bench/soak.py). It is superseded — delivered, unsent.
    func testALateResolutionDoesNotResolveTheNextEpisodesAlert() async throws {
        try await withAlertmanagerRecorder(answering: .serviceUnavailable, resendSeconds: 1) { s, am in
            try await s.confirmDemoEpisode()
            var gen = FraudDemoData(seed: 8)
            // Episode 1 resolves while Alertmanager refuses, then episode 2 is confirmed.
            for (seq, drift) in [(4, false), (5, false), (6, true), (7, true)] {
                try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq)
        }
        let r = try await s.call("GET", "/v1/models/fraud/episodes")
        let states = (r.json["episodes"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "") \($0["state"] ?? "")" }
        XCTAssertEqual(states, ["2 confirmed", "1 resolved"], r.text)
        let refused = await am.state.all().count
        await am.state.set(.ok)
        try await waitForAction(s, "alertmanager:episode:1:resolved", state: "delivered")
        try await waitForAction(s, "alertmanager:episode:2:firing", state: "delivered")
        try await Task.sleep(for: .milliseconds(1500))
        let accepted = await am.state.all().dropFirst(refused).compactMap { $0.json as? [[String: Any]] }.flatMap { $0 }
        XCTAssertFalse(accepted.isEmpty)
        for alert in accepted {
            let annotations = alert["annotations"] as? [String: String] ?? [:]
            XCTAssertEqual(annotations["episode_id"], "2", "only episode 2's alert reaches Alertmanager: \(annotations)")
            let ends = ISO8601DateFormatter.fractional.date(from: alert["endsAt"] as? String ?? "") ?? .distantPast
            XCTAssertGreaterThan(ends, Date(), "nothing resolves the model's alert")
        }
        }
    }

    /// Runs `body` against a service whose Alertmanager is a recorder answering `status` (the
    /// test changes it), re-sending every `resendSeconds`; both are stopped however it ends.
    private func withAlertmanagerRecorder(answering status: HTTPResponse.Status, resendSeconds: Double,
                                          _ body: (LiveService, Recorder) async throws -> Void) async throws {
        let am = try await Recorder()
        await am.state.set(status)
        let s = try LiveService { cfg in
            var a = AlertmanagerConfiguration(urls: [am.url])
            a.resendSeconds = resendSeconds
            cfg.alertmanager = a
        }
        try await s.start()
        do {
            try await body(s, am)
        } catch {
            await s.stop(); await am.stop()
            throw error
        }
        await s.stop()
        await am.stop()
    }

    /// Confirms an episode of `fraud` while Alertmanager answers 400, and waits for its firing
    /// notice to be given up (listed by state, counted by the gauge). Returns the action's key.
    private func confirmAndWaitForGivenUp(_ s: LiveService, _ am: Recorder) async throws -> String {
        try await s.confirmDemoEpisode()
        let key = "alertmanager:episode:1:firing"
        try await waitForAction(s, key, state: "given_up")
        var r = try await s.call("GET", "/v1/models/fraud/actions?state=given_up")
        let listed = try XCTUnwrap((r.json["actions"] as? [[String: Any]])?.first, r.text)
        XCTAssertEqual(listed["key"] as? String, key)
        XCTAssertEqual(listed["attempts"] as? Int, 1, "a 4xx is not retried")
        XCTAssertTrue((listed["last_error"] as? String ?? "").contains("HTTP 400"), "\(listed)")
        XCTAssertNil(listed["next_attempt_at"], "given up: no next attempt")
        XCTAssertEqual(listed["episode_id"] as? Int, 1)
        let metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains("driftwatch_actions_given_up{kind=\"alertmanager\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("driftwatch_actions_total{kind=\"alertmanager\",outcome=\"given_up\"} 1"), metrics)
        let report = try await s.call("GET", "/models/fraud", contentType: nil).text
        XCTAssertTrue(report.contains("given up after 1 attempt (retry: driftwatch actions retry --model fraud \(key))"), report)
        return key
    }

    private func waitForAction(_ s: LiveService, _ key: String, state: String, seconds: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            let r = try await s.call("GET", "/v1/models/fraud/actions")
            last = (r.json["actions"] as? [[String: Any]])?.first { $0["key"] as? String == key } ?? [:]
            if last["state"] as? String == state { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("action \(key) not \(state) after \(seconds) s: \(last)")
        struct NotReached: Error {}
        throw NotReached()
    }
}

extension ISO8601DateFormatter {
    static var fractional: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
