// PLACEHOLDER while the scipy port is being written; replaced by the real file.
#if canImport(Glibc)
import Glibc
#endif
public enum KSAlternative: String, Sendable, CaseIterable, Codable { case twoSided = "two-sided", less, greater }
public enum KSMethod: String, Sendable, CaseIterable, Codable { case auto, exact, asymp }
public struct KSExtremes: Sendable, Equatable {
    public var maxS: Double
    public var maxLocation: Double
    public var minS: Double
    public var minLocation: Double
}
public struct KSResult: Sendable, Equatable, Codable {
    public var statistic: Double
    public var pvalue: Double
    public var statisticLocation: Double
    public var statisticSign: Int
    public var effectiveMethod: KSMethod
    public var exactFellBackToAsymp: Bool
}
public func ksExtremes(sorted1: UnsafeBufferPointer<Double>, sorted2: UnsafeBufferPointer<Double>) -> KSExtremes {
    var i = 0, j = 0
    let n1 = Double(sorted1.count), n2 = Double(sorted2.count)
    var e = KSExtremes(maxS: 0, maxLocation: 0, minS: 0, minLocation: 0)
    while i < sorted1.count || j < sorted2.count {
        let v = j >= sorted2.count || (i < sorted1.count && sorted1[i] <= sorted2[j]) ? sorted1[i] : sorted2[j]
        while i < sorted1.count && sorted1[i] <= v { i += 1 }
        while j < sorted2.count && sorted2[j] <= v { j += 1 }
        let d = Double(i) / n1 - Double(j) / n2
        if d > e.maxS { e.maxS = d; e.maxLocation = v }
        if -d > e.minS { e.minS = -d; e.minLocation = v }
    }
    return e
}
public func ksTest(_ e: KSExtremes, n1: Int, n2: Int, alternative: KSAlternative = .twoSided, method: KSMethod = .auto) -> KSResult {
    let d = max(e.maxS, e.minS)
    let en = Double(n1) * Double(n2) / Double(n1 + n2)
    let z = en.squareRoot() * d
    let p = min(1, max(0, 2 * exp(-2 * z * z)))
    return KSResult(statistic: d, pvalue: p, statisticLocation: e.maxS >= e.minS ? e.maxLocation : e.minLocation, statisticSign: e.maxS >= e.minS ? 1 : -1, effectiveMethod: .asymp, exactFellBackToAsymp: false)
}
