import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real Alertmanager stopped for ≥ 3 minutes while an episode is confirmed, then started again
/// on the same port: driftwatch must deliver the alert within 10 s of Alertmanager answering
/// `/-/ready` — not after AsyncHTTPClient's pool backoff or the outbox's 60 s backoff step
/// (issue 16: it used to take 59–73 s). `DRIFTWATCH_OUTAGE_SECONDS` shortens the outage for a
/// local run (the test says so); CI runs the full 180 s.
final class AlertmanagerOutageTests: XCTestCase {
    func testAnAlertmanagerBackFromALongOutageIsUsedWithinTenSeconds() async throws {
        let outage = Double(ProcessInfo.processInfo.environment["DRIFTWATCH_OUTAGE_SECONDS"] ?? "") ?? 180
        if outage < 180 { print("AlertmanagerOutageTests: outage shortened to \(outage) s by DRIFTWATCH_OUTAGE_SECONDS (the issue asks for ≥ 180 s)") }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dw-am-outage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/alertmanager", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let port = try freeLoopbackPort()
        let amURL = "http://127.0.0.1:\(port)"
        try """
            route:
              receiver: "null"
              group_wait: 1s
            receivers:
              - name: "null"
            """.write(toFile: work + "/alertmanager.yml", atomically: true, encoding: .utf8)
        func startAlertmanager(_ run: Int) throws -> ChildProcess {
            try ChildProcess(
                name: "alertmanager-\(run)", executable: "/usr/bin/prometheus-alertmanager",
                arguments: ["--config.file=\(work)/alertmanager.yml", "--storage.path=\(work)/alertmanager",
                            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="],
                logDirectory: work)
        }

        // The re-send loop's first round comes 180 s after start, its next 360 s: inside the
        // measured seconds only the outbox can deliver.
        let s = try LiveService { cfg in
            var a = AlertmanagerConfiguration(urls: [amURL])
            a.resendSeconds = 180
            cfg.alertmanager = a
        }
        try await s.start()
        var alertmanager = try startAlertmanager(1)
        do {
            try await waitForPeer("Alertmanager ready", seconds: 30) { try await httpStatus(amURL + "/-/ready") == 200 }
            alertmanager.stop()

            // The episode is confirmed while Alertmanager refuses connections.
            try await s.confirmDemoEpisode()
            let confirmedAt = Date()
            try await Task.sleep(for: .seconds(outage))
            let during = try await firingAction(s)
            XCTAssertEqual(during["state"] as? String, "pending", "\(during)")
            XCTAssertTrue((during["last_error"] as? String ?? "").contains("127.0.0.1:\(port)"), "\(during)")
            if outage >= 180 {
                // 1+2+4+8+16+32 s: by now the backoff is at its 60 s step.
                XCTAssertGreaterThanOrEqual(during["attempts"] as? Int ?? 0, 7, "\(during)")
            }

            alertmanager = try startAlertmanager(2)
            try await waitForPeer("Alertmanager ready again", seconds: 30) { try await httpStatus(amURL + "/-/ready") == 200 }
            let ready = Date()
            try await waitForPeer("the episode's alert in Alertmanager", seconds: 10) {
                try await httpBody(amURL + "/api/v2/alerts").contains("DriftwatchDriftEpisode")
            }
            let delivered = Date().timeIntervalSince(ready)
            print(String(format: "AlertmanagerOutageTests: Alertmanager down %.0f s; alert delivered %.1f s after /-/ready answered again",
                         ready.timeIntervalSince(confirmedAt), delivered))
            XCTAssertLessThanOrEqual(delivered, 10)
            try await waitForPeer("the firing action delivered", seconds: 5) { try await self.firingAction(s)["state"] as? String == "delivered" }
        } catch {
            let logs = alertmanager.tail()
            alertmanager.stop()
            await s.stop()
            XCTFail("\(error)\n\(logs)")
            return
        }
        alertmanager.stop()
        await s.stop()
    }

    private func firingAction(_ s: LiveService) async throws -> [String: Any] {
        let r = try await s.call("GET", "/v1/models/fraud/actions")
        return (r.json["actions"] as? [[String: Any]])?.first { $0["key"] as? String == "alertmanager:episode:1:firing" } ?? [:]
    }
}
