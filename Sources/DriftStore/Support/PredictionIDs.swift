import Foundation

// The stable key and the blob form of prediction ids, shared by both backends' id indexes.

/// The 64-bit index key of (model, prediction id): FNV-1a over the model's UTF-8, a 0xFF
/// separator (never a UTF-8 byte, so ("ab","c") and ("a","bc") differ), the id's UTF-8, then
/// the MurmurHash3 64-bit finalizer to spread the bits. Stable across processes and
/// versions (Swift's `Hasher` is seeded per process): the keys are stored.
enum PredictionKey {
    static func seed(model: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in model.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return (h ^ 0xFF) &* 0x0000_0100_0000_01b3
    }

    static func key(modelHash: UInt64, id: String) -> Int64 {
        var h = modelHash
        for byte in id.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return Int64(bitPattern: h)
    }
}

/// The prediction ids of one batch as a blob: u32 count, then per id u32 row, u32 byte
/// length, UTF-8 bytes (little-endian).
enum BatchIDs {
    static func encode(_ ids: [(id: String, row: Int)]) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(4 + ids.count * 16)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
        u32(ids.count)
        for (id, row) in ids {
            u32(row)
            u32(id.utf8.count)
            out.append(contentsOf: id.utf8)
        }
        return Data(out)
    }

    /// Calls `body(row, id)` for each entry in stored order; stops at a truncated entry.
    static func forEach(_ data: Data, _ body: (Int, String) -> Void) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            func u32() -> Int? {
                guard offset + 4 <= raw.count else { return nil }
                defer { offset += 4 }
                return Int(UInt32(raw[offset]) | UInt32(raw[offset + 1]) << 8 | UInt32(raw[offset + 2]) << 16 | UInt32(raw[offset + 3]) << 24)
            }
            guard let count = u32() else { return }
            for _ in 0..<count {
                guard let row = u32(), let length = u32(), offset + length <= raw.count else { return }
                body(row, String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)]), as: UTF8.self))
                offset += length
            }
        }
    }

    /// Moves each wanted id this batch holds from `wanted` into `found` (the last row holding
    /// an id wins within a batch, as the latest observation does).
    static func take(_ wanted: inout Set<String>, from blob: Data, batchID: Int64, into found: inout [String: PredictionLocation]) {
        var hits: [String: Int] = [:]
        forEach(blob) { row, candidate in if wanted.contains(candidate) { hits[candidate] = row } }
        for (id, row) in hits {
            found[id] = PredictionLocation(batchID: batchID, row: row)
            wanted.remove(id)
        }
    }

    static func decode(_ data: Data) -> [(id: String, row: Int)] {
        var out: [(id: String, row: Int)] = []
        forEach(data) { row, id in out.append((id, row)) }
        return out
    }
}
