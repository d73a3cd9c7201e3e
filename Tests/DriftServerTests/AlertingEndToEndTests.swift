import DriftSimulation
import DriftCore
@testable import DriftServer
import Foundation
import Metrics
import Synchronization
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The whole alerting chain with the real programs: driftwatch → Prometheus (scraping
/// /metrics every second, evaluating rules/) → Alertmanager → a webhook receiver of the
/// test's own, plus driftwatch's direct push of confirmed episodes to the same Alertmanager.
/// Everything on 127.0.0.1 and free ports; Prometheus and Alertmanager stopped by PID.
final class AlertingEndToEndTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testDriftAlertsReachAlertmanagerAndResolve() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dw-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/prometheus", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work + "/alertmanager", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let webhook = try await Recorder()
        let amPort = try freeLoopbackPort()
        let promPort = try freeLoopbackPort()
        let amURL = "http://127.0.0.1:\(amPort)"
        let promURL = "http://127.0.0.1:\(promPort)"

        // driftwatch, pushing confirmed episodes to the Alertmanager below. Its HTTP metrics
        // come through swift-metrics, bootstrapped once per process as `driftwatch serve` does.
        let s = try LiveService { cfg in
            var a = AlertmanagerConfiguration(urls: [amURL])
            a.resendSeconds = 2
            cfg.alertmanager = a
        }
        Self.bootstrapMetrics(s.service.metrics)
        try await s.start()

        // Alertmanager: one route to the webhook, resolved notices on, quick grouping.
        try """
            route:
              receiver: webhook
              group_by: [alertname, model, feature]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: webhook
                webhook_configs:
                  - url: \(webhook.url)/hook
                    send_resolved: true
            """.write(toFile: work + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let alertmanager = try ChildProcess(
            name: "alertmanager", executable: "/usr/bin/prometheus-alertmanager",
            arguments: ["--config.file=\(work)/alertmanager.yml", "--storage.path=\(work)/alertmanager",
                        "--web.listen-address=127.0.0.1:\(amPort)", "--web.external-url=\(amURL)/",
                        "--cluster.listen-address="],
            logDirectory: work)

        // Prometheus with the shipped rules, every `for:` shortened to 2 s (the file's own
        // documented convention), scraping and evaluating every second.
        let rules = try String(contentsOfFile: Self.repository + "/rules/driftwatch.rules.yml", encoding: .utf8)
        let fastRules = rules.replacingOccurrences(of: #"(?m)^    for: .+$"#, with: "    for: 2s", options: .regularExpression)
        XCTAssertNotEqual(fastRules, rules, "rules/driftwatch.rules.yml has `    for:` lines to shorten")
        try fastRules.write(toFile: work + "/driftwatch.rules.yml", atomically: true, encoding: .utf8)
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [\(work)/driftwatch.rules.yml]
            alerting:
              alertmanagers:
                - static_configs:
                    - targets: ["127.0.0.1:\(amPort)"]
            scrape_configs:
              - job_name: driftwatch
                static_configs:
                  - targets: ["127.0.0.1:\(s.port)"]
            """.write(toFile: work + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try ChildProcess(
            name: "prometheus", executable: "/usr/bin/prometheus",
            arguments: ["--config.file=\(work)/prometheus.yml", "--storage.tsdb.path=\(work)/prometheus",
                        "--web.listen-address=127.0.0.1:\(promPort)", "--web.external-url=\(promURL)/"],
            logDirectory: work)

        func logs() -> String { [prometheus.tail(), alertmanager.tail()].joined(separator: "\n") }
        do {
            try await scenario(s, webhook: webhook, promURL: promURL, amURL: amURL)
        } catch {
            prometheus.stop(); alertmanager.stop()
            await s.stop(); await webhook.stop()
            XCTFail("\(error)\n\(logs())")
            return
        }
        prometheus.stop()
        alertmanager.stop()
        await s.stop()
        await webhook.stop()
    }

    private func scenario(_ s: LiveService, webhook: Recorder, promURL: String, amURL: String) async throws {
        // Ready means scraped and wired, not just /-/ready: the first scrape and the
        // Alertmanager discovery come 5–6 s after start.
        try await waitForPeer("Prometheus scraping driftwatch (up == 1)", seconds: 40) {
            let r = try await httpBody(promURL + "/api/v1/query?query=" + "up{job=\"driftwatch\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            return r.contains("\"value\":[") && r.contains("\"1\"]")
        }
        try await waitForPeer("Prometheus to list the Alertmanager", seconds: 40) {
            try await httpBody(promURL + "/api/v1/alertmanagers").contains("\"activeAlertmanagers\":[{")
        }

        var r = try await s.call("PUT", "/v1/models/fraud", json: Demo.settings)
        XCTAssertEqual(r.status, 201, r.text)
        r = try await s.call("PUT", "/v1/models/fraud/baseline", body: Demo.baselineCSV(), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        // One row without `amount` (counted missing) and one malformed row (rejected): the
        // data-quality and rejection series exist, as in any real deployment.
        r = try await s.call("POST", "/v1/models/fraud/observations", json: #"{"observations":[{"id":"m-1","features":{"account_age_days":10,"tx_last_24h":1,"distance_km":3,"merchant_category":"grocery","country":"US"},"prediction":0.1},{"features":[1,2]}]}"#)
        XCTAssertEqual(r.json["rejected"] as? Int, 1, r.text)
        // And a KServe request/response pair, as the payload logger sends it.
        for (type, body) in [("request", #"{"instances":[[120.5, 300, 2, 4.5, "online", "DE"]]}"#), ("response", #"{"predictions":[0.2]}"#)] {
            r = try await s.call("POST", "/v1/kserve", json: body, headers: [
                "ce-specversion": "1.0", "ce-id": "e2e-1", "ce-type": "org.kubeflow.serving.inference.\(type)",
                "ce-source": "http://fraud-model-predictor/", "ce-inferenceservicename": "fraud", "ce-endpoint": "default"])
            XCTAssertEqual(r.status, 202, r.text)
        }
        var gen = FraudDemoData(seed: 11)
        var seq = 0
        func window(drift: Bool) async throws {
            seq += 1
            try await s.postWindow("fraud", drift: drift, gen: &gen, seq: seq)
        }

        // Clean data: no drift alert, after several evaluations of the rules.
        try await window(drift: false)
        try await window(drift: false)
        try await Task.sleep(for: .seconds(6))
        let driftAlerts: Set<String> = ["DriftwatchFeatureDrift", "DriftwatchModelDriftConfirmed", "DriftwatchDriftEpisode"]
        let early = await webhook.state.all().flatMap(alerts).filter { driftAlerts.contains($0.labels["alertname"] ?? "") }
        XCTAssertEqual(early.map(\.labels), [], "no drift alert on clean data")

        // Drifted data: two drifted windows of three confirm the episode.
        try await window(drift: true)
        try await window(drift: true)
        let firing = try await webhook.wait("DriftwatchFeatureDrift, DriftwatchModelDriftConfirmed and DriftwatchDriftEpisode firing", seconds: 60) { bodies in
            let names = Set(bodies.flatMap(alerts).filter { $0.status == "firing" }.compactMap { $0.labels["alertname"] })
            return driftAlerts.isSubset(of: names)
        }.flatMap(alerts).filter { $0.status == "firing" }
        let confirmed = try XCTUnwrap(firing.first { $0.labels["alertname"] == "DriftwatchModelDriftConfirmed" })
        XCTAssertEqual(confirmed.labels["model"], "fraud")
        XCTAssertEqual(confirmed.labels["severity"], "critical")
        XCTAssertEqual(confirmed.labels["job"], "driftwatch")
        let feature = try XCTUnwrap(firing.first { $0.labels["alertname"] == "DriftwatchFeatureDrift" })
        XCTAssertEqual(feature.labels["model"], "fraud")
        XCTAssertEqual(feature.labels["severity"], "warning")
        XCTAssertTrue(["amount", "distance_km", "tx_last_24h", "account_age_days", "merchant_category", "country", "score"].contains(feature.labels["feature"] ?? ""), "\(feature.labels)")
        XCTAssertNotNil(feature.annotations["runbook_url"])
        let episode = try XCTUnwrap(firing.first { $0.labels["alertname"] == "DriftwatchDriftEpisode" })
        XCTAssertEqual(episode.labels["model"], "fraud")
        XCTAssertFalse((episode.annotations["drifted_features"] ?? "").isEmpty)
        XCTAssertTrue(episode.generatorURL.hasSuffix("/models/fraud/episodes/1"), episode.generatorURL)

        // Clean again: two clean windows resolve the episode, the gauges drop, every drift
        // alert resolves (rule alerts through Prometheus, the episode through driftwatch).
        try await window(drift: false)
        try await window(drift: false)
        _ = try await webhook.wait("the drift alerts resolved", seconds: 60) { bodies in
            let resolved = Set(bodies.flatMap(alerts).filter { $0.status == "resolved" }.compactMap { $0.labels["alertname"] })
            return driftAlerts.isSubset(of: resolved)
        }

        // A model with quality monitoring: a labelled baseline, one window, its labels.
        r = try await s.call("PUT", "/v1/models/scored", json: LabelQualityTests.settings)
        XCTAssertEqual(r.status, 201, r.text)
        var labelled = SeededGenerator(seed: 3)
        var base = FraudDemoData(seed: 2, idPrefix: "qb")
        var csv = FraudDemoData.csvHeader + ",label\n"
        for _ in 0..<3000 {
            let row = base.next(drift: false)
            csv += FraudDemoData.csvLine(row) + ",\(LabelQualityTests.honestLabel(row.score, &labelled))\n"
        }
        r = try await s.call("PUT", "/v1/models/scored/baseline", body: Data(csv.utf8), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        var scored = FraudDemoData(seed: 4, idPrefix: "q")
        let rows = (0..<1000).map { _ in scored.next(drift: false) }
        for chunk in stride(from: 0, to: 1000, by: 500) {
            let body = "{\"observations\":[" + rows[chunk..<(chunk + 500)].map { FraudDemoData.jsonRow($0, ts: 1_764_000_000) }.joined(separator: ",") + "]}"
            let posted = try await s.call("POST", "/v1/models/scored/observations", json: body)
            XCTAssertEqual(posted.status, 202, posted.text)
        }
        _ = try await s.drift("scored", atLeast: 1)
        let labelBody = "{\"labels\":[" + rows.map { "{\"id\":\"\($0.id)\",\"label\":\(LabelQualityTests.honestLabel($0.score, &labelled))}" }.joined(separator: ",") + "]}"
        r = try await s.call("POST", "/v1/models/scored/labels", json: labelBody)
        XCTAssertEqual(r.json["late"] as? Int, 1000, r.text)

        // The dashboards and rules name only metrics this service exports (its /metrics now,
        // after ingest, windows, an episode and alert pushes).
        let exposition = try await s.call("GET", "/metrics", contentType: nil).text
        let exported = Set(exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }.map(String.init))
        for file in try dashboardAndRuleFiles() {
            for name in try metricNames(in: file) {
                let family = ["_bucket", "_sum", "_count"].reduce(name) { n, suffix in
                    n.hasSuffix(suffix) && exported.contains(String(n.dropLast(suffix.count))) ? String(n.dropLast(suffix.count)) : n
                }
                XCTAssertTrue(exported.contains(family), "\(file) queries \(name), which driftwatch does not export")
            }
        }
    }

    // MARK: helpers

    /// swift-metrics allows one bootstrap per process: the first end-to-end service's registry
    /// takes the HTTP metrics (other tests' services only miss theirs).
    private static let bootstrapped = Mutex(false)
    private static func bootstrapMetrics(_ metrics: DriftMetrics) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(metrics.makeFactory()) }
    }

    struct WebhookAlert {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]
        var generatorURL: String
    }

    /// The alerts of one Alertmanager webhook notification (payload version 4).
    private func alerts(_ body: Recorder.Recorded) -> [WebhookAlert] {
        guard let payload = body.json as? [String: Any], let list = payload["alerts"] as? [[String: Any]] else { return [] }
        return list.map {
            WebhookAlert(status: $0["status"] as? String ?? "", labels: $0["labels"] as? [String: String] ?? [:],
                         annotations: $0["annotations"] as? [String: String] ?? [:], generatorURL: $0["generatorURL"] as? String ?? "")
        }
    }

    private func dashboardAndRuleFiles() throws -> [String] {
        let fm = FileManager.default
        let dashboards = try fm.contentsOfDirectory(atPath: Self.repository + "/dashboards").filter { $0.hasSuffix(".json") }.map { Self.repository + "/dashboards/" + $0 }
        XCTAssertGreaterThanOrEqual(dashboards.count, 2, "dashboards/ holds the overview and model dashboards")
        return dashboards.sorted() + [Self.repository + "/rules/driftwatch.rules.yml"]
    }

    /// `driftwatch_*` metric names in a dashboard's queries (`expr`) or a rule file, without
    /// recording-rule names (they contain colons).
    private func metricNames(in file: String) throws -> Set<String> {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var sources: [String] = []
        if file.hasSuffix(".json") {
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8))
            func walk(_ v: Any) {
                if let d = v as? [String: Any] {
                    for (k, x) in d { if k == "expr" || k == "query", let s = x as? String { sources.append(s) } else { walk(x) } }
                } else if let a = v as? [Any] { a.forEach(walk) }
            }
            walk(json)
            XCTAssertFalse(sources.isEmpty, "\(file) has queries")
        } else {
            sources = [text]
        }
        let regex = try NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:])driftwatch_[a-z0-9_]+(?![A-Za-z0-9_:])"#)
        var names = Set<String>()
        for s in sources {
            for m in regex.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                if let r = Range(m.range, in: s) { names.insert(String(s[r])) }
            }
        }
        return names
    }
}
