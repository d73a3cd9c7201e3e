import DriftStats

/// Whether a column is compared as numbers or as categories.
public enum FeatureKind: String, ConfigurationEnum {
    case numeric, categorical
}

/// Data-quality counts of one column, gathered while values are read.
public struct QualityCounts: Sendable, Codable, Equatable {
    public var total = 0
    public var missing = 0
    public var nan = 0
    public var positiveInfinity = 0
    public var negativeInfinity = 0
    /// Values that are not of the column's kind (text in a numeric column).
    public var wrongType = 0

    public init() {}

    public var infinite: Int { positiveInfinity + negativeInfinity }
    /// Rows that give the statistics a value.
    public var usable: Int { total - missing - nan - infinite - wrongType }

    public static func + (a: QualityCounts, b: QualityCounts) -> QualityCounts {
        var r = a
        r.total += b.total
        r.missing += b.missing
        r.nan += b.nan
        r.positiveInfinity += b.positiveInfinity
        r.negativeInfinity += b.negativeInfinity
        r.wrongType += b.wrongType
        return r
    }
}

/// A numeric column, row-aligned: non-finite, missing and wrong-type rows hold NaN/±Inf and
/// are counted in `quality`.
public struct NumericColumn: Sendable {
    public var name: String
    public var values: [Double]
    public var quality: QualityCounts

    public init(name: String, values: [Double] = [], quality: QualityCounts = QualityCounts()) {
        self.name = name
        self.values = values
        self.quality = quality
    }

    /// The finite values, in row order.
    public func finiteValues() -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(quality.usable)
        for v in values where v.isFinite { out.append(v) }
        return out
    }
}

/// A categorical column, dictionary-encoded and row-aligned (code −1 = missing).
public struct CategoricalColumn: Sendable {
    public var name: String
    public var codes: [Int32]
    public var dictionary: [String]
    public var quality: QualityCounts

    public init(name: String, codes: [Int32] = [], dictionary: [String] = [], quality: QualityCounts = QualityCounts()) {
        self.name = name
        self.codes = codes
        self.dictionary = dictionary
        self.quality = quality
    }

    public func counts() -> [String: Int] {
        var perCode = [Int](repeating: 0, count: dictionary.count)
        for c in codes where c >= 0 { perCode[Int(c)] += 1 }
        var out: [String: Int] = [:]
        out.reserveCapacity(dictionary.count)
        for (i, name) in dictionary.enumerated() where perCode[i] > 0 { out[name] = perCode[i] }
        return out
    }
}

/// One column of a table: numbers or categories, with its quality counts.
public enum Column: Sendable {
    case numeric(NumericColumn)
    case categorical(CategoricalColumn)

    public var name: String {
        switch self {
        case .numeric(let c): c.name
        case .categorical(let c): c.name
        }
    }

    public var kind: FeatureKind {
        switch self {
        case .numeric: .numeric
        case .categorical: .categorical
        }
    }

    public var quality: QualityCounts {
        switch self {
        case .numeric(let c): c.quality
        case .categorical(let c): c.quality
        }
    }
}

/// Columns of one data set (a baseline or a window).
public struct Table: Sendable {
    public var source: String
    public var rows: Int
    public var columns: [Column]

    public init(source: String, rows: Int, columns: [Column]) {
        self.source = source
        self.rows = rows
        self.columns = columns
    }

    public func column(named name: String) -> Column? {
        columns.first { $0.name == name }
    }
}
