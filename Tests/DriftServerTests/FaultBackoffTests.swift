@testable import DriftServer
import XCTest

/// The pace of a failing background loop: doubling delays up to the cap, a log line the first
/// time and then once a minute, and the count of failed rounds at recovery.
final class FaultBackoffTests: XCTestCase {
    func testDelaysDoubleToTheCapAndLogsAreRationed() {
        var b = FaultBackoff(interval: 0.25)
        XCTAssertEqual(b.delay, 0.25)
        let t0 = ContinuousClock.now
        XCTAssertTrue(b.failed(now: t0), "the first failure is logged")
        XCTAssertEqual(b.delay, 0.5)
        XCTAssertFalse(b.failed(now: t0 + .seconds(1)))
        XCTAssertEqual(b.delay, 1)
        for i in 0..<10 { _ = b.failed(now: t0 + .seconds(2 + i)) }
        XCTAssertEqual(b.delay, 30, "capped")
        XCTAssertTrue(b.failed(now: t0 + .seconds(61)), "then once a minute")
        XCTAssertFalse(b.failed(now: t0 + .seconds(62)))
        XCTAssertEqual(b.succeeded(), 14)
        XCTAssertEqual(b.delay, 0.25)
        XCTAssertEqual(b.succeeded(), 0, "nothing to report twice")
        XCTAssertTrue(b.failed(now: t0 + .seconds(63)), "a new run of failures is logged at once")
    }
}
