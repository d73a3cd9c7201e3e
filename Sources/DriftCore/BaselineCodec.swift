import DriftStats

/// Binary form of a prepared baseline, for the store: the sorted values and category
/// counts (everything else is derived again on load in O(n)). Little-endian, versioned.
///
///   "DWBL" u32(version=1) i64(rows) str(source) u32(features)
///   per feature: str(name) u8(kind 0=numeric 1=categorical) 6×i64(quality)
///     numeric:     u32(quantile bins) i64(n) n×f64 (ascending)
///     categorical: u32(k) k×(str(category) i64(count))
public enum BaselineCodec {
    static let magic: [UInt8] = Array("DWBL".utf8)

    public static func encode(_ profile: BaselineProfile) -> [UInt8] {
        var w = ByteWriter()
        w.bytes(magic)
        w.u32(1)
        w.i64(Int64(profile.rows))
        w.string(profile.source)
        w.u32(UInt32(profile.features.count))
        for f in profile.features {
            w.string(f.name)
            w.u8(f.kind == .numeric ? 0 : 1)
            for v in [f.quality.total, f.quality.missing, f.quality.nan, f.quality.positiveInfinity,
                      f.quality.negativeInfinity, f.quality.wrongType] { w.i64(Int64(v)) }
            if f.kind == .numeric {
                let n = f.numeric
                w.u32(UInt32(n?.quantileBins ?? 10))
                let values = n?.sorted ?? []
                w.i64(Int64(values.count))
                w.doubles(values)
            } else {
                let counts = (f.categorical?.counts ?? [:]).sorted { $0.key < $1.key }
                w.u32(UInt32(counts.count))
                for (k, v) in counts {
                    w.string(k)
                    w.i64(Int64(v))
                }
            }
        }
        return w.buffer
    }

    public static func decode(_ bytes: [UInt8]) throws -> BaselineProfile {
        var r = ByteReader(bytes)
        guard try r.bytes(4) == magic else { throw CodecError(message: "not a driftwatch baseline (bad magic)") }
        let version = try r.u32()
        guard version == 1 else { throw CodecError(message: "baseline format version \(version) is newer than this driftwatch") }
        let rows = Int(try r.i64())
        let source = try r.string()
        let count = Int(try r.u32())
        var features: [FeatureBaseline] = []
        features.reserveCapacity(count)
        for _ in 0..<count {
            let name = try r.string()
            let kind: FeatureKind = try r.u8() == 0 ? .numeric : .categorical
            var q = QualityCounts()
            q.total = Int(try r.i64())
            q.missing = Int(try r.i64())
            q.nan = Int(try r.i64())
            q.positiveInfinity = Int(try r.i64())
            q.negativeInfinity = Int(try r.i64())
            q.wrongType = Int(try r.i64())
            if kind == .numeric {
                let bins = Int(try r.u32())
                let n = Int(try r.i64())
                let sorted = try r.doubles(n)
                features.append(FeatureBaseline(name: name, kind: .numeric,
                                                numeric: NumericReference(sorted: sorted, quantileBins: max(bins, 2)),
                                                categorical: nil, quality: q))
            } else {
                let k = Int(try r.u32())
                var counts: [String: Int] = [:]
                for _ in 0..<k { counts[try r.string()] = Int(try r.i64()) }
                features.append(FeatureBaseline(name: name, kind: .categorical, numeric: nil,
                                                categorical: CategoricalReference(counts: counts), quality: q))
            }
        }
        return BaselineProfile(source: source, rows: rows, features: features)
    }
}

/// A stored baseline profile that does not decode (truncated, wrong version).
public struct CodecError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

struct ByteWriter {
    var buffer: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }
    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        buffer.append(contentsOf: utf8)
    }
    mutating func doubles(_ values: [Double]) {
        // Bit patterns, little-endian: exact, and a plain memcpy on x86/ARM.
        values.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }
}

struct ByteReader {
    let data: [UInt8]
    var offset = 0
    init(_ data: [UInt8]) { self.data = data }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, offset + n <= data.count else { throw CodecError(message: "truncated baseline blob") }
        defer { offset += n }
        return Array(data[offset..<(offset + n)])
    }
    mutating func u8() throws -> UInt8 { try bytes(1)[0] }
    mutating func u32() throws -> UInt32 {
        let b = try bytes(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    mutating func i64() throws -> Int64 {
        let b = try bytes(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        return Int64(bitPattern: v)
    }
    mutating func string() throws -> String { String(decoding: try bytes(Int(try u32())), as: UTF8.self) }
    mutating func doubles(_ n: Int) throws -> [Double] {
        guard n >= 0, offset + n * 8 <= data.count else { throw CodecError(message: "truncated baseline blob") }
        var out = [Double](repeating: 0, count: n)
        out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + n * 8)]))
            }
        }
        offset += n * 8
        return out
    }
}
