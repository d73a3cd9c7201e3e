import DriftCore
#if canImport(Glibc)
import Glibc
#endif

/// How to type the columns of a CSV file.
public struct CSVColumnPlan: Sendable {
    /// Columns forced to categorical.
    public var categorical: Set<String> = []
    /// Columns not read at all.
    public var ignore: Set<String> = []
    /// Kinds fixed in advance (a window read against a baseline): a numeric column that meets
    /// text counts a wrong-type value instead of becoming categorical.
    public var fixedKinds: [String: FeatureKind] = [:]

    public init(categorical: Set<String> = [], ignore: Set<String> = [], fixedKinds: [String: FeatureKind] = [:]) {
        self.categorical = categorical
        self.ignore = ignore
        self.fixedKinds = fixedKinds
    }
}

/// Reads a CSV file with a header row into typed columns.
///
/// A column is numeric when every non-empty value parses as a number, else categorical
/// (unless the plan says otherwise); an empty field is missing. Values go straight into
/// contiguous column arrays sized from the file size, so memory stays near the size of
/// the parsed columns. A column that turns out to be categorical is re-read as text in a
/// second pass (rare; the first pass keeps no text).
public func readCSVTable(path: String, plan: CSVColumnPlan = CSVColumnPlan()) throws -> Table {
    let (first, fileSize) = try CSVRecordReader.open(path: path)
    var reader = first
    var pass = try CSVPass(reader: &reader, source: path, plan: plan, fileSize: fileSize, textColumns: nil)
    if !pass.flippedToText.isEmpty {
        var again = try CSVRecordReader.open(path: path).0
        let second = try CSVPass(reader: &again, source: path, plan: plan, fileSize: fileSize, textColumns: pass.flippedToText)
        pass.mergeTextColumns(from: second)
    }
    return pass.table(source: path)
}

/// Same, over bytes in memory (HTTP uploads, tests).
public func readCSVTable(bytes: [UInt8], source: String, plan: CSVColumnPlan = CSVColumnPlan()) throws -> Table {
    var reader = CSVRecordReader.inMemory(bytes, source: source)
    var pass = try CSVPass(reader: &reader, source: source, plan: plan, fileSize: bytes.count, textColumns: nil)
    if !pass.flippedToText.isEmpty {
        var again = CSVRecordReader.inMemory(bytes, source: source)
        let second = try CSVPass(reader: &again, source: source, plan: plan, fileSize: bytes.count, textColumns: pass.flippedToText)
        pass.mergeTextColumns(from: second)
    }
    return pass.table(source: source)
}

/// One read of the file. With `textColumns` set, only those columns are read, as text.
private struct CSVPass {
    enum Slot {
        case skip
        case numeric(Int)  // index into numerics
        case text(Int)  // index into texts
    }

    var header: [String] = []
    var slots: [Slot] = []
    var numerics: [NumericColumn] = []
    var numericInferred: [Bool] = []  // kind inferred (may flip) vs fixed
    var texts: [CategoricalColumn] = []
    var interning: [[String: Int32]] = []
    var flippedToText: Set<String> = []
    var rows = 0

    init(reader: inout CSVRecordReader, source: String, plan: CSVColumnPlan, fileSize: Int, textColumns: Set<String>?) throws {
        var headerRead = false
        var estimatedRows = 0
        var localSelf = self
        while try reader.nextRecord({ fields, position in
            if !headerRead {
                try localSelf.readHeader(fields, source: source, plan: plan, textColumns: textColumns)
                headerRead = true
                return
            }
            if fields.count != localSelf.slots.count {
                throw InputError(source: source, line: position.line,
                                 message: "expected \(localSelf.slots.count) fields as in the header, found \(fields.count)")
            }
            if localSelf.rows == 64 {
                // Size the columns once from the bytes per row seen so far.
                let perRow = max(position.bytesConsumed / 65, 1)
                estimatedRows = fileSize / perRow + fileSize / perRow / 20 + 64
                for i in localSelf.numerics.indices { localSelf.numerics[i].values.reserveCapacity(estimatedRows) }
                for i in localSelf.texts.indices { localSelf.texts[i].codes.reserveCapacity(estimatedRows) }
            }
            localSelf.addRow(fields)
        }) {}
        guard headerRead else { throw InputError(source: source, message: "empty file: a header row is required") }
        self = localSelf
    }

    mutating func readHeader(_ fields: [UnsafeBufferPointer<UInt8>], source: String, plan: CSVColumnPlan, textColumns: Set<String>?) throws {
        var seen = Set<String>()
        for (index, field) in fields.enumerated() {
            var name = String(decoding: field, as: UTF8.self).trimmingSpaces()
            if index == 0 && name.hasPrefix("\u{FEFF}") { name.removeFirst() }  // UTF-8 BOM
            if name.isEmpty { throw InputError(source: source, line: 1, message: "header field \(index + 1) is empty; every column needs a name") }
            if !seen.insert(name).inserted { throw InputError(source: source, line: 1, message: "duplicate column name \"\(name)\" in the header") }
            header.append(name)
            if plan.ignore.contains(name) {
                slots.append(.skip)
            } else if let textColumns {
                if textColumns.contains(name) {
                    slots.append(.text(texts.count))
                    texts.append(CategoricalColumn(name: name))
                    interning.append([:])
                } else {
                    slots.append(.skip)
                }
            } else if plan.categorical.contains(name) || plan.fixedKinds[name] == .categorical {
                slots.append(.text(texts.count))
                texts.append(CategoricalColumn(name: name))
                interning.append([:])
            } else {
                slots.append(.numeric(numerics.count))
                numerics.append(NumericColumn(name: name))
                numericInferred.append(plan.fixedKinds[name] == nil)
            }
        }
    }

    mutating func addRow(_ fields: [UnsafeBufferPointer<UInt8>]) {
        rows += 1
        for (i, slot) in slots.enumerated() {
            switch slot {
            case .skip:
                continue
            case .numeric(let k):
                numerics[k].quality.total += 1
                switch parseNumber(fields[i]) {
                case .empty:
                    numerics[k].quality.missing += 1
                    numerics[k].values.append(.nan)
                case .number(let v):
                    if v.isNaN {
                        numerics[k].quality.nan += 1
                    } else if v == .infinity {
                        numerics[k].quality.positiveInfinity += 1
                    } else if v == -.infinity {
                        numerics[k].quality.negativeInfinity += 1
                    }
                    numerics[k].values.append(v)
                case .notANumber:
                    if numericInferred[k] { flippedToText.insert(numerics[k].name) }
                    numerics[k].quality.wrongType += 1
                    numerics[k].values.append(.nan)
                }
            case .text(let k):
                texts[k].quality.total += 1
                let field = fields[i]
                if field.isEmpty {
                    texts[k].quality.missing += 1
                    texts[k].codes.append(-1)
                    continue
                }
                let value = String(decoding: field, as: UTF8.self)
                if let code = interning[k][value] {
                    texts[k].codes.append(code)
                } else {
                    let code = Int32(texts[k].dictionary.count)
                    interning[k][value] = code
                    texts[k].dictionary.append(value)
                    texts[k].codes.append(code)
                }
            }
        }
    }

    /// Replaces the numeric columns that met text with their text reading.
    mutating func mergeTextColumns(from second: CSVPass) {
        for column in second.texts {
            guard let slotIndex = header.firstIndex(of: column.name) else { continue }
            slots[slotIndex] = .text(texts.count)
            texts.append(column)
        }
    }

    func table(source: String) -> Table {
        var columns: [Column] = []
        for slot in slots {
            switch slot {
            case .skip: continue
            case .numeric(let k): columns.append(.numeric(numerics[k]))
            case .text(let k): columns.append(.categorical(texts[k]))
            }
        }
        return Table(source: source, rows: rows, columns: columns)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s.removeLast() }
        return String(s)
    }
}
