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
        var cfg = ServerConfiguration()
        cfg.durability = "sometimes"
        XCTAssertThrowsError(try cfg.validate()) { XCTAssertTrue("\($0)".contains("durability must be process_crash or power_loss")) }
        cfg = ServerConfiguration()
        cfg.models = ["bad name": ModelSettings(features: [.init(name: "a", kind: .numeric)])]
        XCTAssertThrowsError(try cfg.validate()) { XCTAssertTrue("\($0)".contains("must match")) }
    }
}
