import Foundation
import XCTest

/// `driftwatch remediation render`: the manifests driftwatch would create, validated against the
/// Kubernetes OpenAPI schemas and the CRDs' (scripts/validate-manifests.sh, strict).
final class RemediationCLITests: XCTestCase {
    func testRenderedManifestsValidate() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dw-render-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let config = CheckCLITests.examples.appendingPathComponent("remediation.json").path
        let run = try runDriftwatch(["remediation", "render", "--config", config, "--model", "fraud-model", "--episode", "7",
                                      "--drifted", "amount,country", "--candidate-version", "v2", "--model-uri", "s3://models/fraud/v2", "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        let files = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(files.map { URL(fileURLWithPath: $0).lastPathComponent }, ["retrain-job.json", "shadow-inferenceservice.json", "promotion-patch.json"])
        let job = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[0]))) as? [String: Any] ?? [:]
        XCTAssertEqual((job["metadata"] as? [String: Any])?["name"] as? String, "dw-retrain-fraud-model-e7")

        // The promotion is a merge patch: validated as one, with its target's kind.
        var patch = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[2]))) as? [String: Any] ?? [:]
        patch["apiVersion"] = "serving.kserve.io/v1beta1"
        patch["kind"] = "InferenceService"
        try JSONSerialization.data(withJSONObject: patch).write(to: URL(fileURLWithPath: files[2]))
        let validation = try validate(["--files-only", files[0], files[1], "--patch", files[2]])
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
        XCTAssertTrue(validation.stdout.contains("ok  "), validation.stdout)

        // The validator is strict: a typo'd field fails.
        let broken = out + "/broken-job.json"
        try String(contentsOfFile: files[0], encoding: .utf8).replacingOccurrences(of: "\"backoffLimit\"", with: "\"backoffLimt\"")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let rejected = try validate(["--files-only", broken])
        XCTAssertEqual(rejected.status, 1, rejected.stdout + rejected.stderr)
        XCTAssertTrue(rejected.stdout.contains("backoffLimt"), rejected.stdout)

        // Printing to stdout: the same documents, separated by ---.
        let printed = try runDriftwatch(["remediation", "render", "--config", config, "--model", "fraud-model"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertEqual(printed.stdout.components(separatedBy: "\n---\n").count, 3)
        // Errors: one line, exit 2.
        let unknown = try runDriftwatch(["remediation", "render", "--config", config, "--model", "other"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr.trimmingCharacters(in: .whitespacesAndNewlines), "driftwatch: remediation.models does not include other")
    }

    private func validate(_ arguments: [String]) throws -> CheckCLITests.Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CheckCLITests.root.appendingPathComponent("scripts/validate-manifests.sh").path] + arguments
        // The validator asks this binary (`config check`) about the ConfigMap's configuration.
        process.environment = ProcessInfo.processInfo.environment.merging(["DRIFTWATCH_BIN": driftwatchBinary.path]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 2, "validate-manifests.sh could not run: \(String(decoding: e, as: UTF8.self))")
        return .init(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
