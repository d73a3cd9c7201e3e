import DriftStats

/// One feature of a baseline, prepared for comparison with any number of windows.
public struct FeatureBaseline: Sendable {
    public var name: String
    public var kind: FeatureKind
    public var numeric: NumericReference?
    public var categorical: CategoricalReference?
    public var quality: QualityCounts
}

/// A training baseline, prepared once: sorted columns, quantile cut points and bin counts,
/// moments, percentiles, category counts. Every window is compared against this.
public struct BaselineProfile: Sendable {
    public var source: String
    public var rows: Int
    public var features: [FeatureBaseline]

    public init(source: String, rows: Int, features: [FeatureBaseline]) {
        self.source = source
        self.rows = rows
        self.features = features
    }

    /// Prepares every column of `table` (features in parallel).
    public init(table: Table, config: DetectorConfig = DetectorConfig()) {
        let columns = table.columns
        let bins = config.bins
        let prepared = concurrentMap(columns.count) { i -> FeatureBaseline in
            switch columns[i] {
            case .numeric(let c):
                return FeatureBaseline(name: c.name, kind: .numeric,
                                       numeric: NumericReference(values: c.finiteValues(), quantileBins: bins),
                                       categorical: nil, quality: c.quality)
            case .categorical(let c):
                return FeatureBaseline(name: c.name, kind: .categorical, numeric: nil,
                                       categorical: CategoricalReference(counts: c.counts()), quality: c.quality)
            }
        }
        self.init(source: table.source, rows: table.rows, features: prepared)
    }

    public var kinds: [String: FeatureKind] {
        Dictionary(features.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
    }
}

/// One feature of a window: the values the statistics need, and what was wrong with the rest.
public enum FeatureWindow: Sendable {
    /// Finite values in any order (sorted during evaluation).
    case numeric(values: [Double], quality: QualityCounts)
    case categorical(counts: [String: Int], quality: QualityCounts)

    public var quality: QualityCounts {
        switch self {
        case .numeric(_, let q), .categorical(_, let q): q
        }
    }
}

/// The observations of one window, by feature.
public struct WindowData: Sendable {
    public var source: String
    public var rows: Int
    public var features: [String: FeatureWindow]

    public init(source: String, rows: Int, features: [String: FeatureWindow]) {
        self.source = source
        self.rows = rows
        self.features = features
    }

    public init(table: Table) {
        var features: [String: FeatureWindow] = [:]
        for column in table.columns {
            switch column {
            case .numeric(let c): features[c.name] = .numeric(values: c.finiteValues(), quality: c.quality)
            case .categorical(let c): features[c.name] = .categorical(counts: c.counts(), quality: c.quality)
            }
        }
        self.init(source: table.source, rows: table.rows, features: features)
    }
}
