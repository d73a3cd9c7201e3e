@testable import DriftStats
import XCTest

/// The log-space lower Smirnov sum (large n) against the double-double sum it replaces.
final class SmirnovLogSpaceTests: XCTestCase {
    func testLogSpaceSumMatchesDoubleDoubleSum() {
        var worst = 0.0
        for n in [2001, 5000, 33_333] {
            let sd = 1 / Double(n).squareRoot()
            for k in stride(from: 0.3, through: 6.0, by: 0.3) {
                let x = k * sd
                let fast = KolmogorovDistribution.smirnov(n: n, x: x)
                let exact = KolmogorovDistribution.smirnov(n: n, x: x, logSpaceMinN: .max)
                if exact == 0 { XCTAssertEqual(fast, 0, accuracy: 1e-300); continue }
                let rel = abs(fast - exact) / exact
                worst = max(worst, rel)
                XCTAssertLessThan(rel, 1e-10, "n=\(n) x=\(x): \(fast) vs \(exact)")
            }
        }
        print("smirnov log-space vs double-double: max relative difference \(worst)")
    }
}
