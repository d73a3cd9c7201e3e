import DriftCore
import Foundation
import XCTest

/// The `mlflow` block of a model's settings: defaults, and a clear message for each mistake.
final class MLflowSettingsTests: XCTestCase {
    func decode(_ json: String) throws -> MLflowSpec {
        let spec = try JSONDecoder().decode(MLflowSpec.self, from: Data(json.utf8))
        try spec.validate()
        return spec
    }

    func testDefaults() throws {
        let spec = try decode(#"{"url":"http://mlflow:5000","model":"fraud-model"}"#)
        XCTAssertEqual(spec.productionAlias, "production")
        XCTAssertNil(spec.stage)
        XCTAssertEqual(spec.baselineArtifact, "data/train.csv")
        XCTAssertEqual(spec.experiment, "driftwatch-monitoring")
        XCTAssertEqual(spec.pollSeconds, 60)
        XCTAssertNil(spec.promoteAlias)
        let staged = try decode(#"{"url":"https://mlflow.example","model":"m","stage":"Production"}"#)
        XCTAssertNil(staged.productionAlias, "a stage instead of an alias")
    }

    func testMistakesAreNamed() {
        let cases: [(String, String)] = [
            (#"{"url":"mlflow:5000","model":"m"}"#, "url must be an http(s) URL"),
            (#"{"url":"http://mlflow","model":""}"#, "model must name the registered model"),
            (#"{"url":"http://mlflow","model":"m","alias":"champion","stage":"Production"}"#, "alias or stage, not both"),
            (#"{"url":"http://mlflow","model":"m","token_file":"/t","token_env":"T"}"#, "token_file or token_env, not both"),
            (#"{"url":"http://mlflow","model":"m","baseline_artifact":"../etc/passwd"}"#, "baseline_artifact must be a path inside"),
            (#"{"url":"http://mlflow","model":"m","poll_seconds":0.5}"#, "poll_seconds must be 0 (off) or between 1 and 86400"),
            (#"{"url":"http://mlflow","model":"m","promote_alias":""}"#, "promote_alias must be 1–256 characters"),
        ]
        for (json, message) in cases {
            XCTAssertThrowsError(try decode(json), json) { error in
                XCTAssertTrue("\(error)".hasPrefix("mlflow: "), "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(json): \(error)")
            }
        }
        XCTAssertThrowsError(try decode(#"{"model":"m"}"#), "url is required")
    }
}
