import DriftActions
import DriftCore
@testable import DriftServer
import Foundation
import XCTest

final class ConfigurationTests: XCTestCase {
    func testExampleConfigParsesAndValidates() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/driftwatch.json").path
        let cfg = try ServerConfiguration.load(file: path)
        XCTAssertNoThrow(try cfg.validate())
        XCTAssertEqual(cfg.models?["fraud"]?.features.count, 6)
        XCTAssertEqual(cfg.models?["fraud"]?.window.rows, 5000)
    }

    func testConfigErrorsNameTheFieldAndFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dw-cfg-\(UUID().uuidString).json").path
        try #"{"port":"eighty"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ServerConfiguration.load(file: file)) { error in
            XCTAssertEqual("\(error)", "\(file): port: expected Int")
        }
        // Unknown keys are named, at any depth, with the keys that are allowed there.
        for (text, expected) in [
            (#"{"max_body_byte":10}"#, #"max_body_byte: unknown key "max_body_byte""#),
            (#"{"alertmanager":{"urls":[],"resend":5}}"#, #"alertmanager.resend: unknown key "resend""#),
            (#"{"models":{"m":{"features":[{"name":"a","kind":"numeric","weight":2}]}}}"#, #"models.m.features[0].weight: unknown key "weight""#),
        ] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ServerConfiguration.load(file: file)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(file): \(expected)"), "\(error)")
            }
        }
        var cfg = ServerConfiguration()
        cfg.durability = "sometimes"
        XCTAssertThrowsError(try cfg.validate()) { XCTAssertTrue("\($0)".contains("durability must be process_crash or power_loss")) }
        cfg = ServerConfiguration()
        cfg.models = ["bad name": ModelSettings(features: [.init(name: "a", kind: .numeric)])]
        XCTAssertThrowsError(try cfg.validate()) { XCTAssertTrue("\($0)".contains("must match")) }
    }

    func testAlertmanagerSettingsParseWithDefaultsAndAreValidated() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dw-cfg-\(UUID().uuidString).json").path
        try #"{"public_url":"https://dw.example.org","alertmanager":{"urls":["http://am-0:9093","http://am-1:9093"],"labels":{"team":"fraud"}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let cfg = try ServerConfiguration.load(file: file)
        XCTAssertNoThrow(try cfg.validate())
        XCTAssertEqual(cfg.alertmanager?.urls, ["http://am-0:9093", "http://am-1:9093"])
        XCTAssertEqual(cfg.alertmanager?.labels, ["team": "fraud"])
        XCTAssertEqual(cfg.alertmanager?.timeoutSeconds, 5)
        XCTAssertEqual(cfg.alertmanager?.resendSeconds, 60)
        XCTAssertEqual(cfg.alertmanager?.severity, "critical")
        XCTAssertEqual(cfg.resolvedPublicURL, "https://dw.example.org")
        XCTAssertEqual(ServerConfiguration().resolvedPublicURL, "http://127.0.0.1:8080")

        try #"{"alertmanager":{"timeout_seconds":5}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ServerConfiguration.load(file: file)) { XCTAssertEqual("\($0)", "\(file): alertmanager.urls: required field is missing") }

        func invalid(_ change: (inout AlertmanagerConfiguration) -> Void, _ fragment: String, line: UInt = #line) {
            var c = ServerConfiguration()
            var a = AlertmanagerConfiguration(urls: ["http://127.0.0.1:9093"])
            change(&a)
            c.alertmanager = a
            XCTAssertThrowsError(try c.validate(), line: line) { XCTAssertTrue("\($0)".contains(fragment), "\($0)", line: line) }
        }
        invalid({ $0.urls = ["am:9093"] }, "alertmanager.urls: \"am:9093\" is not an http(s) URL")
        invalid({ $0.resendSeconds = 600 }, "resend_seconds must be 1–180")
        invalid({ $0.timeoutSeconds = 0 }, "timeout_seconds must be in (0, 300]")
        invalid({ $0.labels = ["bad-name": "x"] }, "\"bad-name\" is not a valid label name")
        invalid({ $0.labels = ["model": "x"] }, "\"model\" is set by driftwatch itself")
        invalid({ $0.maxAttempts = 0 }, "max_attempts must be ≥ 1")
        var c = ServerConfiguration()
        c.publicURL = "dw.example.org"
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("public_url must be an http(s) URL")) }
    }

    func testRemediationExampleAndValidation() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/remediation.json").path
        let cfg = try ServerConfiguration.load(file: path)
        XCTAssertNoThrow(try cfg.validate())
        XCTAssertEqual(cfg.remediation?.retrain?.job?.gpus, 1)
        XCTAssertEqual(cfg.remediation?.gate.minJoinedRows, 1000)
        XCTAssertTrue(cfg.kserveWithoutToken)

        func invalid(_ change: (inout RemediationConfiguration) -> Void, _ fragment: String, line: UInt = #line) {
            var c = cfg
            var r = cfg.remediation ?? RemediationConfiguration()
            change(&r)
            c.remediation = r
            XCTAssertThrowsError(try c.validate(), line: line) { XCTAssertTrue("\($0)".contains(fragment), "\($0)", line: line) }
        }
        invalid({ $0.retrain?.job = nil }, "remediation.retrain.kind is job but remediation.retrain.job is missing")
        invalid({ $0.retrain?.kind = .argo }, "remediation.retrain.kind is argo but remediation.retrain.argo is missing")
        invalid({ $0.retrain?.job?.env = ["DRIFTWATCH_MODEL": "x"] }, "DRIFTWATCH_MODEL is set by driftwatch")
        invalid({ $0.retrain?.maxConcurrent = 0 }, "max_concurrent must be ≥ 1")
        invalid({ $0.kubernetes?.namespace = "ML_Team" }, "is not a valid namespace name")
        invalid({ $0.promotion?.canaryTrafficPercent = 0 }, "canary_traffic_percent must be 1–100")
        invalid({ $0.gate.minAgreement = 2 }, "min_agreement must be in [-1, 1]")
    }

    func testKubernetesNamesFromFreeText() {
        XCTAssertEqual(dnsLabel("dw-retrain-Fraud_Model.v2-e7"), "dw-retrain-fraud-model-v2-e7")
        let long = dnsLabel("dw-retrain-" + String(repeating: "x", count: 80) + "-e1")
        XCTAssertEqual(long.count, 63)
        XCTAssertTrue(isDNSLabel(long))
        XCTAssertNotEqual(long, dnsLabel("dw-retrain-" + String(repeating: "x", count: 80) + "-e2"), "the hash keeps long names distinct")
        XCTAssertFalse(isDNSLabel("-a"))
        XCTAssertFalse(isDNSLabel("A"))
    }

    func testInClusterAccessNeedsTheServiceEnvironment() throws {
        XCTAssertThrowsError(try KubernetesAccess.inCluster(environment: [:])) { XCTAssertTrue("\($0)".contains("KUBERNETES_SERVICE_HOST unset")) }
        let a = try KubernetesAccess.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        XCTAssertEqual(a.apiURL, "https://10.0.0.1:443")
        XCTAssertEqual(a.tokenFile, "/var/run/secrets/kubernetes.io/serviceaccount/token")
        XCTAssertEqual(a.caFile, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
    }
}
