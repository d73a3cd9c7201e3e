import DriftCore
import Foundation
import XCTest

/// A one-feature model ("amount", 300-row windows, a 1,000-row baseline) created on a running
/// `driftwatch serve`, and a poster of its observations (the store tests' shared scenario).
struct AmountModel {
    private var generator: SeededGenerator

    /// Creates the model `fraud` and its baseline on the server at `port`.
    init(port: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        generator = SeededGenerator(seed: seed)
        let settings = #"{"features":[{"name":"amount","kind":"numeric"}],"window":{"rows":300},"min_rows":100}"#
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud", body: Data(settings.utf8)).status, 201, file: file, line: line)
        let csv = "amount\n" + (0..<1000).map { _ in "\(Double.random(in: 0..<100, using: &generator))" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(ServeBinaryTests.blockingCall(port, "PUT", "/v1/models/fraud/baseline", body: Data(csv.utf8), contentType: "text/csv").status, 201,
                       file: file, line: line)
    }

    /// Posts `n` observations to the server at `port`, expecting 202.
    mutating func post(_ port: Int, _ n: Int, file: StaticString = #filePath, line: UInt = #line) {
        let rows = (0..<n).map { _ in "{\"features\":{\"amount\":\(Double.random(in: 0..<100, using: &generator))}}" }
        let r = ServeBinaryTests.blockingCall(port, "POST", "/v1/models/fraud/observations", body: Data(("{\"observations\":[" + rows.joined(separator: ",") + "]}").utf8))
        XCTAssertEqual(r.status, 202, String(decoding: r.data, as: UTF8.self), file: file, line: line)
    }

    /// The model's stored windows, newest first, once there are at least `count` (within 20 s; [] if not).
    static func windows(_ port: Int, atLeast count: Int) -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let r = ServeBinaryTests.blockingCall(port, "GET", "/v1/models/fraud/windows")
            let object = r.status == 200 ? (try? JSONSerialization.jsonObject(with: r.data)) as? [String: Any] : nil  // not ready yet: poll again
            if let windows = object?["windows"] as? [[String: Any]], windows.count >= count { return windows }
            usleep(100_000)
        }
        return []
    }
}
