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
            XCTAssertEqual("\(error)", "\(file): port: expected an integer")
        }
        // Unknown keys are named by their full path, at any depth, with the nearest known key
        // (or, when none is near, the keys that are allowed there).
        for (text, expected) in [
            (#"{"max_body_byte":10}"#, #"max_body_byte: unknown key; did you mean "max_body_bytes"?"#),
            (#"{"alertmanager":{"urls":[],"resend":5}}"#, #"alertmanager.resend: unknown key; did you mean "resend_seconds"?"#),
            (#"{"models":{"m":{"features":[{"name":"a","kind":"numeric","weight":2}]}}}"#,
             #"models.m.features[0].weight: unknown key; the keys allowed here are "name", "kind""#),
            (#"{"remediation":{"retrain":{"kind":"job","job":{"image":"i","gpu":2}}}}"#,
             #"remediation.retrain.job.gpu: unknown key; did you mean "gpus"?"#),
            (#"{"remediation":{"gate":{"min_agrement":0.9}}}"#, #"remediation.gate.min_agrement: unknown key; did you mean "min_agreement"?"#),
            (#"{"remediation":{"kubernetes":{"api_url":"https://k","namespace":"ml","token":"x"}}}"#,
             #"remediation.kubernetes.token: unknown key; did you mean "token_file"?"#),
            (#"{"models":{"m":{"window":{"rows":"many"}}}}"#, #"models.m.window.rows: expected an integer"#),
            (#"{"models":{"m":{"window":{"rows":1.5}}}}"#, #"models.m.window.rows: expected an integer"#),
            (#"{"insecure":"yes"}"#, #"insecure: expected true or false"#),
            (#"{"alertmanager":{"urls":"http://am:9093"}}"#, #"alertmanager.urls: expected an array"#),
            (#"{"durability":"sometimes"}"#, #"durability: expected one of process_crash, power_loss; got "sometimes""#),
            (#"{"durability":"powerloss"}"#, #"durability: expected one of process_crash, power_loss; got "powerloss"; did you mean "power_loss"?"#),
            (#"{"models":{"m":{"detector":{"binning":"quantiles"}}}}"#,
             #"models.m.detector.binning: expected one of quantile, evidently, nannyml; got "quantiles"; did you mean "quantile"?"#),
            (#"{"models":{"m":{"quality":{"task":"binary","metric":"roc-auc"}}}}"#,
             #"models.m.quality.metric: expected one of roc_auc, average_precision, precision"#),
            (#"{"remediation":{"retrain":{"kind":"jobs"}}}"#, #"remediation.retrain.kind: expected one of job, argo, webhook; got "jobs"; did you mean "job"?"#),
        ] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ServerConfiguration.load(file: file)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(file): \(expected)"), "\(error)")
            }
        }
        try #"{"durability":"power_loss"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ServerConfiguration.load(file: file).durability, .powerLoss)
        var cfg = ServerConfiguration()
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

/// One precedence for `serve`: flags > DRIFTWATCH_* environment > file > defaults.
final class ConfigurationPrecedenceTests: XCTestCase {
    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-prec-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testFlagsOverEnvironmentOverFileOverDefaults() throws {
        let path = try file(#"{"host":"10.0.0.1","port":9000,"max_models":50,"tokens_file":"/etc/file-tokens","alertmanager":{"urls":["http://file-am:9093"],"severity":"page"}}"#)
        let env = ["DRIFTWATCH_PORT": "9100", "DRIFTWATCH_MAX_MODELS": "60", "DRIFTWATCH_DURABILITY": "power_loss",
                   "DRIFTWATCH_HOST": "10.0.0.2", "DRIFTWATCH_TOKEN": "client-side", "HOME": "/root"]
        let flags: [(path: String, value: ConfigurationValue)] = [("port", .int(9200)), ("alertmanager.urls", .array([.string("http://flag-am:9093")]))]
        let cfg = try ServerConfiguration.resolve(file: path, environment: env, flags: flags)
        XCTAssertEqual(cfg.port, 9200, "flag over environment and file")
        XCTAssertEqual(cfg.maxModels, 60, "environment over file")
        XCTAssertEqual(cfg.host, "10.0.0.2")
        XCTAssertEqual(cfg.durability, .powerLoss)
        XCTAssertEqual(cfg.tokensFile, "/etc/file-tokens", "file over defaults")
        XCTAssertEqual(cfg.maxBodyBytes, ServerConfiguration().maxBodyBytes, "defaults under everything")
        XCTAssertEqual(cfg.alertmanager?.urls, ["http://flag-am:9093"], "a nested flag replaces that key only")
        XCTAssertEqual(cfg.alertmanager?.severity, "page")
        // Without flags or environment, the file alone.
        let plain = try ServerConfiguration.resolve(file: path)
        XCTAssertEqual(plain.port, 9000)
        XCTAssertEqual(plain.durability, .processCrash)
        // Nested keys through a double underscore; JSON values where the key is not a string.
        let nested = try ServerConfiguration.resolve(environment: ["DRIFTWATCH_ALERTMANAGER__URLS": #"["http://am:9093"]"#,
                                                                   "DRIFTWATCH_INSECURE": "true", "DRIFTWATCH_DATA_DIR": "123"])
        XCTAssertEqual(nested.alertmanager?.urls, ["http://am:9093"])
        XCTAssertTrue(nested.insecure)
        XCTAssertEqual(nested.dataDir, "123", "a string key takes the text as it is")
    }

    func testTheStoreURLIsCheckedWhereverItComesFrom() throws {
        let cfg = try ServerConfiguration.resolve(environment: ["DRIFTWATCH_STORE": "postgres://dw@db.example:5433/drift?password_env=PG_PW&pool=4",
                                                                "PG_PW": "secret"])
        XCTAssertEqual(cfg.store, "postgres://dw@db.example:5433/drift?password_env=PG_PW&pool=4")
        XCTAssertEqual(cfg.storeDescription, "postgres://dw@db.example:5433/drift", "no password in logs")
        XCTAssertTrue(cfg.migrateOnStart)
        XCTAssertEqual(ServerConfiguration().storeDescription, "sqlite:./driftwatch-data")
        let path = try file(#"{"store": "postgres://dw@db/drift?sslmode=always"}"#)
        XCTAssertThrowsError(try ServerConfiguration.resolve(file: path)) {
            XCTAssertTrue("\($0)".contains("store: store URL sslmode=always is not one of disable, prefer, require"), "\($0)")
        }
        XCTAssertThrowsError(try ServerConfiguration.resolve(flags: [("store", .string("postgres://db/drift"))])) {
            XCTAssertTrue("\($0)".contains("has no user (postgres://USER@host:5432/database)"), "\($0)")
        }
        XCTAssertThrowsError(try ServerConfiguration.resolve(file: try file(#"{"migrate_on_star": false}"#))) {
            XCTAssertTrue("\($0)".contains("migrate_on_star: unknown key; did you mean \"migrate_on_start\"?"), "\($0)")
        }
    }

    func testEnvironmentGoesThroughTheSameChecks() throws {
        XCTAssertThrowsError(try ServerConfiguration.resolve(environment: ["DRIFTWATCH_PORT": "eighty"])) {
            XCTAssertEqual("\($0)", "configuration: port: expected an integer")
        }
        XCTAssertThrowsError(try ServerConfiguration.resolve(environment: ["DRIFTWATCH_ALERTMANAGER__RESEND": "5",
                                                                          "DRIFTWATCH_ALERTMANAGER__URLS": "[]"])) {
            XCTAssertEqual("\($0)", #"configuration: alertmanager.resend: unknown key; did you mean "resend_seconds"?"#)
        }
        // Variables that name no key are skipped (DRIFTWATCH_TOKEN is the CLI's), with a hint for typos.
        let checked = ServerConfiguration.check(file: nil, environment: ["DRIFTWATCH_PROT": "1", "DRIFTWATCH_TOKEN": "t"])
        XCTAssertEqual(checked.issues, [])
        XCTAssertEqual(checked.skippedEnvironment.map(\.name), ["DRIFTWATCH_PROT", "DRIFTWATCH_TOKEN"])
        XCTAssertEqual(checked.skippedEnvironment.first?.suggestion, "DRIFTWATCH_PORT")
    }

    func testCheckCollectsEveryDecodingError() throws {
        let path = try file(#"{"prot":1,"alertmanager":{"timeout_seconds":5},"models":{"a":{"window":{"rows":"x"}},"b":{"confirm":{"windows":2,"off":3}}}}"#)
        let checked = ServerConfiguration.check(file: path)
        XCTAssertNil(checked.configuration)
        XCTAssertEqual(checked.issues.map(\.description), [
            "alertmanager.urls: required field is missing",
            "models.a.window.rows: expected an integer",
            "models.b.confirm.of: required field is missing",
            #"models.b.confirm.off: unknown key; did you mean "of"?"#,
            #"prot: unknown key; did you mean "port"?"#,
        ])
    }
}
