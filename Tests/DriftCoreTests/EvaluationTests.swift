@testable import DriftCore
import DriftStats
import XCTest

final class EvaluationTests: XCTestCase {
    private func numeric(_ name: String, _ values: [Double]) -> Column {
        var q = QualityCounts()
        q.total = values.count
        q.missing = values.filter(\.isNaN).count
        return .numeric(NumericColumn(name: name, values: values, quality: q))
    }

    private func normals(_ n: Int, seed: UInt64, shift: Double = 0) -> [Double] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { _ in g.normal() + shift }
    }

    func testSignificanceAloneIsNotDriftButSignificanceAndEffectIs() {
        // 0.05σ on 60k rows: p ≈ 0 but PSI ≈ 0.003 → not drifted. 1σ: drifted.
        let baseline = Table(source: "b", rows: 60_000, columns: [
            numeric("tiny", normals(60_000, seed: 1)), numeric("big", normals(60_000, seed: 2)),
            numeric("same", normals(60_000, seed: 3)),
        ])
        let window = Table(source: "w", rows: 60_000, columns: [
            numeric("tiny", normals(60_000, seed: 11, shift: 0.05)), numeric("big", normals(60_000, seed: 12, shift: 1)),
            numeric("same", normals(60_000, seed: 13)),
        ])
        let config = DetectorConfig()
        let report = evaluateWindow(baseline: BaselineProfile(table: baseline, config: config),
                                    window: WindowData(table: window), config: config)
        let byName = Dictionary(uniqueKeysWithValues: report.features.map { ($0.name, $0) })
        let tiny = byName["tiny"]!, big = byName["big"]!, same = byName["same"]!
        XCTAssertLessThan(tiny.ks!.pvalueAdjusted!, 1e-6)
        XCTAssertLessThan(tiny.psi!, 0.1)
        XCTAssertFalse(tiny.drifted)
        XCTAssertEqual(tiny.status, .ok)
        XCTAssertTrue(big.drifted)
        XCTAssertEqual(big.status, .drifted)
        XCTAssertFalse(same.drifted)
        XCTAssertEqual(report.features.first?.name, "big", "drifted features first")
        XCTAssertEqual(report.summary.drifted, 1)
        XCTAssertEqual(report.summary.evaluated, 3)
        XCTAssertFalse(report.summary.datasetDrifted, "1 of 3 < 0.5")
        // p50 shift of about +1σ, in IQR units about 1/1.349.
        XCTAssertEqual(big.percentiles!.shift["p50"]!, 1, accuracy: 0.02)
        XCTAssertEqual(big.percentiles!.shiftIQR!["p50"]!, 1 / 1.349, accuracy: 0.03)
    }

    func testBenjaminiHochbergAcrossFeaturesAndInsufficientData() {
        let baseline = Table(source: "b", rows: 1000, columns: [
            numeric("a", normals(1000, seed: 1)), numeric("b", normals(1000, seed: 2)), numeric("few", normals(1000, seed: 3)),
        ])
        var fewValues = normals(1000, seed: 23)
        for i in 20..<1000 { fewValues[i] = .nan }
        let window = Table(source: "w", rows: 1000, columns: [
            numeric("a", normals(1000, seed: 21, shift: 0.3)), numeric("b", normals(1000, seed: 22)), numeric("few", fewValues),
        ])
        let config = DetectorConfig()
        let report = evaluateWindow(baseline: BaselineProfile(table: baseline, config: config),
                                    window: WindowData(table: window), config: config)
        let byName = Dictionary(uniqueKeysWithValues: report.features.map { ($0.name, $0) })
        let raw = [byName["a"]!.ks!.pvalue, byName["b"]!.ks!.pvalue]
        let adjusted = falseDiscoveryControl(raw)
        XCTAssertEqual(byName["a"]!.ks!.pvalueAdjusted, adjusted[0])
        XCTAssertEqual(byName["b"]!.ks!.pvalueAdjusted, adjusted[1])
        let few = byName["few"]!
        XCTAssertEqual(few.status, .insufficientData)
        XCTAssertNil(few.ks?.pvalueAdjusted)
        XCTAssertEqual(few.nCurrent, 20)
        XCTAssertEqual(few.quality.missing, 980)
        XCTAssertEqual(few.quality.missingShare, 0.98)
        XCTAssertTrue(few.reasons[0].hasPrefix("insufficient data: 20 usable current values"))
        XCTAssertEqual(report.features.last?.name, "few", "insufficient data sorts last")
        XCTAssertEqual(report.summary.evaluated, 2)
        XCTAssertEqual(report.summary.insufficient, 1)
    }

    func testCategoricalUnseenCategoriesAndDatasetDrift() {
        func cat(_ name: String, _ values: [String?]) -> Column {
            var dict: [String] = []
            var index: [String: Int32] = [:]
            var q = QualityCounts()
            q.total = values.count
            let codes: [Int32] = values.map { v in
                guard let v else { q.missing += 1; return -1 }
                if let c = index[v] { return c }
                index[v] = Int32(dict.count)
                dict.append(v)
                return Int32(dict.count - 1)
            }
            return .categorical(CategoricalColumn(name: name, codes: codes, dictionary: dict, quality: q))
        }
        let base = (0..<3000).map { ["DE", "FR", "US"][$0 % 3] as String? }
        let cur = (0..<3000).map { i -> String? in i % 10 == 0 ? "BR" : (i % 2 == 0 ? "DE" : "US") }
        let config = DetectorConfig()
        let report = evaluateWindow(
            baseline: BaselineProfile(table: Table(source: "b", rows: 3000, columns: [cat("country", base)]), config: config),
            window: WindowData(table: Table(source: "w", rows: 3000, columns: [cat("country", cur)])), config: config)
        let f = report.features[0]
        XCTAssertEqual(f.kind, .categorical)
        XCTAssertNil(f.ks)
        XCTAssertEqual(f.chi2?.dof, 3)
        XCTAssertEqual(f.quality.unseenCategories, ["BR"])
        XCTAssertEqual(f.quality.unseenCount, 300)
        XCTAssertTrue(f.drifted)
        XCTAssertTrue(report.summary.datasetDrifted)
        XCTAssertEqual(report.summary.driftedShare, 1)
    }

    func testConfigValidationMessages() {
        var c = DetectorConfig()
        c.alpha = 1.5
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "alpha must be in (0, 1), got 1.5") }
        c = DetectorConfig()
        c.bins = 1
        XCTAssertThrowsError(try c.validate())
    }

    func testFormatFigure() {
        XCTAssertEqual(formatFigure(0.123456), "0.1235")
        XCTAssertEqual(formatFigure(2.5e-8), "2.50e-8")
        XCTAssertEqual(formatFigure(0), "0")
        XCTAssertEqual(formatFigure(1234.5), "1235")  // half away from zero
        XCTAssertEqual(formatFigure(-0.05), "-0.05")
    }
}
