import DriftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Accumulates one column row by row. It stays in the compact numeric form (a `[Double]` and
/// the missing rows) until the first text value, then switches to cells for good.
struct ColumnBuilder {
    var numbers: [Double] = []
    var missing: [Int] = []
    var cells: [Cell] = []
    var isCells = false

    init(reserve: Int = 0) {
        numbers.reserveCapacity(reserve)
    }

    @inline(__always)
    var count: Int { isCells ? cells.count : numbers.count }

    /// Appends missing values until the column has `row` rows (a feature absent from rows).
    @inline(__always)
    mutating func pad(to row: Int) {
        while count < row { appendMissing() }
    }

    @inline(__always)
    mutating func appendMissing() {
        if isCells {
            cells.append(.missing)
        } else {
            // NaN, not 0, in the ignored slot: code that reads `values` without looking at
            // `missingRows` cannot mistake it for a real zero.
            missing.append(numbers.count)
            numbers.append(.nan)
        }
    }

    @inline(__always)
    mutating func append(number x: Double) {
        if isCells { cells.append(.number(x)) } else { numbers.append(x) }
    }

    mutating func append(text: String) {
        if !isCells { switchToCells() }
        cells.append(.text(text))
    }

    @inline(__always)
    mutating func append(_ cell: Cell) {
        switch cell {
        case .number(let x): append(number: x)
        case .missing: appendMissing()
        case .text(let t): append(text: t)
        }
    }

    /// Sets row `row` (the column's last or next row) to `cell`: rows of the JSON row format
    /// may name a key twice, and then the last value wins as in most JSON readers.
    @inline(__always)
    mutating func set(_ cell: Cell, row: Int) {
        if count > row { truncate(to: row) }
        pad(to: row)
        append(cell)
    }

    @inline(__always)
    mutating func set(number x: Double, row: Int) {
        if count != row {
            if count > row { truncate(to: row) }
            pad(to: row)
        }
        append(number: x)
    }

    /// Drops rows from `row` on (a row that failed validation after some of its values were
    /// appended).
    mutating func truncate(to row: Int) {
        if isCells {
            if cells.count > row { cells.removeLast(cells.count - row) }
        } else {
            if numbers.count > row { numbers.removeLast(numbers.count - row) }
            while let last = missing.last, last >= row { missing.removeLast() }
        }
    }

    mutating func switchToCells() {
        guard !isCells else { return }
        var c = [Cell]()
        c.reserveCapacity(Swift.max(numbers.capacity, numbers.count + 1))
        for x in numbers { c.append(.number(x)) }
        for r in missing { c[r] = .missing }
        cells = c
        numbers = []
        missing = []
        isCells = true
    }

    /// The finished column of `rows` rows.
    mutating func finish(rows: Int) -> IngestColumn {
        pad(to: rows)
        if isCells { return .cells(cells) }
        return .numbers(numbers, missingRows: missing)
    }

    /// Keeps only the rows where `keep` is true (columnar JSON with rejected rows).
    mutating func filter(keep: [Bool]) {
        if isCells {
            var out = [Cell]()
            out.reserveCapacity(cells.count)
            for (r, c) in cells.enumerated() where r < keep.count && keep[r] { out.append(c) }
            cells = out
        } else {
            var isMissing = [Bool](repeating: false, count: numbers.count)
            for r in missing { isMissing[r] = true }
            var out = [Double]()
            out.reserveCapacity(numbers.count)
            var outMissing = [Int]()
            for (r, x) in numbers.enumerated() where r < keep.count && keep[r] {
                if isMissing[r] { outMissing.append(out.count) }
                out.append(x)
            }
            numbers = out
            missing = outMissing
        }
    }
}

/// Feature names seen in one batch. Rows repeat the same keys, usually in the same order, so a
/// key is first compared (as bytes) with the column after the previous key's column; a hash
/// table over the key bytes catches reordered and new keys. A feature name becomes a String
/// once per batch, not once per row.
struct KeyTable {
    private(set) var names: [String] = []
    private var arena: [UInt8] = []
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private var byHash: [UInt64: Int] = [:]

    var count: Int { names.count }

    /// Column index of `key`, or nil. `hint` is the column expected next.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>, hint: Int) -> Int? {
        if hint < starts.count && matches(hint, key) { return hint }
        return findSlow(key)
    }

    @inline(__always)
    private func matches(_ column: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = lengths[column]
        guard n == key.count else { return false }
        if n == 0 { return true }
        guard let k = key.baseAddress else { return false }
        return arena.withUnsafeBufferPointer { a in
            guard let p = a.baseAddress else { return false }
            let name = p + starts[column]
            // Feature names are short: an inline loop beats a call into memcmp.
            if n <= 16 {
                for j in 0..<n where name[j] != k[j] { return false }
                return true
            }
            return memcmp(name, k, n) == 0
        }
    }

    private func findSlow(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let c = byHash[fnv1a(key)] else { return nil }
        if matches(c, key) { return c }
        // A 64-bit hash collision between two names of one batch: vanishingly rare, so a
        // linear scan is fine.
        for k in 0..<names.count where matches(k, key) { return k }
        return nil
    }

    /// Adds `key` (not present) and returns its index.
    mutating func add(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        let index = names.count
        names.append(String(decoding: key, as: UTF8.self))
        starts.append(arena.count)
        lengths.append(key.count)
        arena.append(contentsOf: key)
        let h = fnv1a(key)
        if byHash[h] == nil { byHash[h] = index }
        return index
    }
}

@inline(__always)
private func fnv1a(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0100_0000_01B3
    }
    return h
}
