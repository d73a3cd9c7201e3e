import DriftIngest
import XCTest

/// Keeps the benchmark harness compiling and working (tiny sizes: a debug build's timings mean
/// nothing). The release figures come from running `IngestBenchmark.run()` in a release build.
final class IngestBenchmarkTests: XCTestCase {
    func testBenchmarkHarnessSmall() throws {
        let results = try IngestBenchmark.run(rows: 20, features: 4, iterations: 1)
        XCTAssertEqual(results.count, 9)
        for r in results {
            XCTAssertGreaterThan(r.rowsPerSecond, 0, r.name)
            print(r)
        }
    }
}
