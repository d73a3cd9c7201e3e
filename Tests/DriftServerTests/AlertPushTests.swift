import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import XCTest

/// The direct Alertmanager push (API v2) through the durable outbox, against a recorder that
/// plays Alertmanager: refused first (503), then accepted.
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
        XCTAssertEqual(action["state"] as? String, "failed")
        XCTAssertTrue((action["last_error"] as? String ?? "").contains("HTTP 503"), "\(action)")
        XCTAssertNotNil(action["next_attempt_at"])
        var metrics = try await s.call("GET", "/metrics", contentType: nil).text
        XCTAssertTrue(metrics.contains("driftwatch_actions_pending{kind=\"alertmanager\"} 1"), metrics)
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

extension ISO8601DateFormatter {
    static var fractional: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
