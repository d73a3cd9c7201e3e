import DriftCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV input problem, located: which source, which line, what is wrong.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public var source: String
    public var line: Int?
    public var message: String

    public init(source: String, line: Int? = nil, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}

/// Where a record stands in its input.
public struct RecordPosition: Sendable {
    /// Physical line where the record starts (1 = header).
    public var line: Int
    /// Bytes read up to the end of this record.
    public var bytesConsumed: Int
}

/// Streaming RFC 4180 reader: fields separated by commas, records by LF or CRLF, fields may
/// be double-quoted (with "" for a quote, and commas or newlines inside). The input is read
/// in fixed-size chunks, so memory is the chunk plus what the caller keeps of the fields.
public struct CSVRecordReader {
    public typealias Field = UnsafeBufferPointer<UInt8>

    private let source: String
    private let readChunk: (UnsafeMutableRawBufferPointer) throws -> Int
    private var buffer: [UInt8]
    private var scratch: [UInt8] = []  // unescaped quoted fields
    public private(set) var line = 1  // physical line where the next record starts
    public private(set) var bytesConsumed = 0

    public init(source: String, chunkSize: Int = 1 << 22, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.source = source
        self.readChunk = read
        self.buffer = []
        self.buffer.reserveCapacity(chunkSize * 2)
        self.chunkSize = chunkSize
    }

    private let chunkSize: Int
    private var start = 0  // first unconsumed byte in buffer
    private var boundsStore: [(Int, Int, Bool)] = []
    private var fieldsStore: [Field] = []
    private var spansStore: [(Bool, Int, Int)] = []
    private var eof = false

    /// Opens a file for reading; the error names the file.
    public static func open(path: String, chunkSize: Int = 1 << 22) throws -> (CSVRecordReader, fileSize: Int) {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InputError(source: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        if (st.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw InputError(source: path, message: "is a directory, not a CSV file")
        }
        let handle = FileDescriptorBox(fd)
        let reader = CSVRecordReader(source: path, chunkSize: chunkSize) { dst in
            let n = Glibc.read(handle.fd, dst.baseAddress, dst.count)
            if n < 0 { throw InputError(source: path, message: "read failed: \(String(cString: strerror(errno)))") }
            return n
        }
        return (reader, size)
    }

    /// Reader over bytes in memory (HTTP bodies, tests).
    public static func inMemory(_ bytes: [UInt8], source: String) -> CSVRecordReader {
        final class Cursor { var offset = 0 }
        let cursor = Cursor()
        // Chunks no larger than the input: a 4-row body needs no 4 MiB buffer.
        return CSVRecordReader(source: source, chunkSize: max(1, min(bytes.count, 1 << 22))) { dst in
            let n = min(dst.count, bytes.count - cursor.offset)
            if n > 0 {
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[cursor.offset..<(cursor.offset + n)]))
                }
                cursor.offset += n
            }
            return n
        }
    }

    /// Refills the buffer, keeping the unconsumed tail. Returns false at end of input.
    private mutating func refill() throws -> Bool {
        if eof { return false }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let old = buffer.count
        // Array(repeating:) is one memset in the standard library; appending a generic
        // repeatElement walked it byte by byte in debug builds (2.8 s per 4 MiB refill).
        buffer.append(contentsOf: [UInt8](repeating: 0, count: chunkSize))
        let n = try buffer.withUnsafeMutableBytes { raw in
            try readChunk(UnsafeMutableRawBufferPointer(rebasing: raw[old..<(old + chunkSize)]))
        }
        buffer.removeLast(chunkSize - n)
        if n == 0 { eof = true }
        return n > 0
    }

    /// Calls `body` with the fields of the next record; returns false at end of input.
    /// Field buffers are valid only during the call. Blank lines are skipped.
    public mutating func nextRecord(_ body: (_ fields: [Field], _ record: RecordPosition) throws -> Void) throws -> Bool {
        while true {
            switch try parseRecord(body, atEOF: eof) {
            case .record: return true
            case .blank: continue
            case .end: return false
            case .needMore:
                if try !refill() {
                    // eof is now set: the next round parses a last record without newline.
                    if start >= buffer.count { return false }
                }
            }
        }
    }

    private enum ParseOutcome { case record, blank, needMore, end }

    /// Parses one record from buffer[start...] if it is complete (or the input has ended).
    private mutating func parseRecord(_ body: ([Field], RecordPosition) throws -> Void, atEOF: Bool) throws -> ParseOutcome {
        if start >= buffer.count { return atEOF ? .end : .needMore }
        var bounds = boundsStore  // moved out and back: no allocation per record
        boundsStore = []
        defer { boundsStore = bounds }
        bounds.removeAll(keepingCapacity: true)
        var newlines = 0
        var next = -1  // index after the record's newline; -1 = incomplete
        var unterminated = false
        let from = start
        buffer.withUnsafeBufferPointer { buf in
            var i = from
            var fieldStart = i
            var inQuotes = false
            var quoted = false
            while i < buf.count {
                let c = buf[i]
                if inQuotes {
                    if c == 0x22 {
                        if i + 1 < buf.count && buf[i + 1] == 0x22 { i += 2; continue }
                        if i + 1 >= buf.count && !atEOF { return }  // "" may straddle chunks
                        inQuotes = false
                    } else if c == 0x0A {
                        newlines += 1
                    }
                    i += 1
                    continue
                }
                if c == 0x2C {
                    bounds.append((fieldStart, i, quoted))
                    quoted = false
                    fieldStart = i + 1
                } else if c == 0x0A {
                    var e = i
                    if e > fieldStart && buf[e - 1] == 0x0D { e -= 1 }
                    bounds.append((fieldStart, e, quoted))
                    next = i + 1
                    return
                } else if c == 0x22 && i == fieldStart {
                    inQuotes = true
                    quoted = true
                }
                i += 1
            }
            if atEOF {
                if inQuotes { unterminated = true; return }
                var e = buf.count
                if e > fieldStart && buf[e - 1] == 0x0D { e -= 1 }
                bounds.append((fieldStart, e, quoted))
                next = buf.count
            }
        }
        if unterminated {
            throw InputError(source: source, line: line, message: "unterminated quoted field at end of file")
        }
        if next < 0 { return .needMore }
        let recordLine = line
        line = recordLine + newlines + 1
        bytesConsumed += next - start
        start = next
        if bounds.count == 1 && bounds[0].0 == bounds[0].1 && !bounds[0].2 { return .blank }
        try withFields(bounds, recordLine: recordLine, body)
        return .record
    }

    private mutating func withFields(_ bounds: [(Int, Int, Bool)], recordLine: Int, _ body: ([Field], RecordPosition) throws -> Void) throws {
        // Unquote quoted fields into scratch; plain fields point into the buffer.
        scratch.removeAll(keepingCapacity: true)
        var spans = spansStore
        spansStore = []
        defer { spansStore = spans }
        spans.removeAll(keepingCapacity: true)
        for (lo, hi, quoted) in bounds {
            if !quoted {
                spans.append((false, lo, hi))
                continue
            }
            // Closing quote must end the field: "abc"x is malformed.
            var i = lo + 1
            let s0 = scratch.count
            var closed = false
            while i < hi {
                let c = buffer[i]
                if c == 0x22 {
                    if i + 1 < hi && buffer[i + 1] == 0x22 {
                        scratch.append(0x22)
                        i += 2
                        continue
                    }
                    closed = true
                    i += 1
                    break
                }
                scratch.append(c)
                i += 1
            }
            if !closed || i != hi {
                throw InputError(source: source, line: recordLine, message: "malformed quoted field (text after the closing quote)")
            }
            spans.append((true, s0, scratch.count))
        }
        let consumed = bytesConsumed
        var fields = fieldsStore
        fieldsStore = []
        defer { fieldsStore = fields }
        try buffer.withUnsafeBufferPointer { buf in
            try scratch.withUnsafeBufferPointer { scr in
                fields.removeAll(keepingCapacity: true)
                for (fromScratch, lo, hi) in spans {
                    fields.append(fromScratch
                        ? UnsafeBufferPointer(rebasing: scr[lo..<hi])
                        : UnsafeBufferPointer(rebasing: buf[lo..<hi]))
                }
                try body(fields, RecordPosition(line: recordLine, bytesConsumed: consumed))
                fields.removeAll(keepingCapacity: true)
            }
        }
    }
}

/// Owns a file descriptor; closes it when the reader is gone.
final class FileDescriptorBox {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { Glibc.close(fd) }
}
