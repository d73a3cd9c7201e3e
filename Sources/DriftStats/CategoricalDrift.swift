// A categorical feature's baseline and its comparison with one window.

/// Which chi-squared test compares a categorical window with its baseline.
public enum ChiSquareKind: String, Sendable, Codable, CaseIterable {
    /// 2×K test of independence (scipy chi2_contingency, Yates only when dof = 1).
    case contingency
    /// Goodness of fit of the window against baseline shares (Evidently's `chisquare`).
    case goodnessOfFit = "goodness-of-fit"
}

/// Category counts of a baseline column.
public struct CategoricalReference: Sendable, Equatable {
    public let counts: [String: Int]
    public let total: Int

    public init(counts: [String: Int]) {
        self.counts = counts
        self.total = counts.values.reduce(0, +)
    }

    public func share(of category: String) -> Double {
        total == 0 ? 0 : Double(counts[category] ?? 0) / Double(total)
    }
}

/// How a categorical feature is compared: the chi-squared test and the PSI/JS binning preset.
public struct CategoricalComparisonOptions: Sendable, Equatable {
    public var chiSquare: ChiSquareKind = .contingency
    /// `.evidently` uses Evidently's zero fill for PSI; every other preset clips at epsilon.
    public var binning: BinningPreset = .quantile
    public var psiEpsilon: Double = 1e-4
    public var jsBase: Double? = nil
    public init() {}
}

/// A categorical feature's window against its baseline: category counts, shares, chi², PSI and JS.
public struct CategoricalComparison: Sendable, Equatable {
    /// Union of baseline and window categories, sorted by Unicode code points.
    public var categories: [String]
    public var referenceCounts: [Int]
    public var currentCounts: [Int]
    public var chiSquare: ChiSquareResult
    public var psi: Double
    public var jensenShannon: Double
    /// Window categories never seen in the baseline.
    public var unseenCategories: [String]
    public var unseenCount: Int
}

public func compareCategorical(
    _ reference: CategoricalReference,
    currentCounts: [String: Int],
    options: CategoricalComparisonOptions = CategoricalComparisonOptions()
) -> CategoricalComparison? {
    let nCur = currentCounts.values.reduce(0, +)
    guard nCur > 0, reference.total > 0 else { return nil }
    var union = Set(reference.counts.keys)
    union.formUnion(currentCounts.keys)
    // Code-point order, the order scipy/Evidently fixtures list categories in.
    let categories = union.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
    let refCounts = categories.map { reference.counts[$0] ?? 0 }
    let curCounts = categories.map { currentCounts[$0] ?? 0 }
    let r = shares(refCounts, total: reference.total)
    let c = shares(curCounts, total: nCur)
    let chi = options.chiSquare == .contingency
        ? chiSquareContingency(referenceCounts: refCounts, currentCounts: curCounts)
        : chiSquareGoodnessOfFit(referenceCounts: refCounts, currentCounts: curCounts)
    let psi = options.binning == .evidently
        ? evidentlyPSI(reference: r, current: c)
        : populationStabilityIndex(reference: r, current: c, epsilon: options.psiEpsilon)
    let js = jensenShannonDistance(r, c, base: options.binning == .nannyml ? 2 : options.jsBase)
    var unseen: [String] = []
    var unseenCount = 0
    for (i, category) in categories.enumerated() where refCounts[i] == 0 {
        unseen.append(category)
        unseenCount += curCounts[i]
    }
    return CategoricalComparison(
        categories: categories, referenceCounts: refCounts, currentCounts: curCounts,
        chiSquare: chi, psi: psi, jensenShannon: js, unseenCategories: unseen, unseenCount: unseenCount)
}

/// The stat test Evidently 0.7 picks for a column when none is configured
/// (evidently/legacy/calculations/stattests/registry.py `_get_default_stattest`), so users
/// can see which Evidently figure to compare with. `uniqueCount` counts distinct values of
/// baseline ∪ current after dropping missing.
public func evidentlyDefaultStatTest(numeric: Bool, referenceRows: Int, uniqueCount: Int) -> String {
    if referenceRows <= 1000 {
        if numeric { return uniqueCount > 5 ? "ks" : (uniqueCount > 2 ? "chisquare" : "z") }
        return uniqueCount > 2 ? "chisquare" : "z"
    }
    if numeric { return uniqueCount > 5 ? "wasserstein" : "jensenshannon" }
    return "jensenshannon"
}
