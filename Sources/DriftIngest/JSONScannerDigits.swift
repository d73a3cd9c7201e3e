import DriftTabular
import DriftCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// True when all eight bytes of `v` (little-endian) are ASCII digits.
@inline(__always)
func isEightDigits(_ v: UInt64) -> Bool {
    ((v & 0xF0F0_F0F0_F0F0_F0F0) | (((v &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)) == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits (first digit in the lowest byte), with three multiplies.
@inline(__always)
func parseEightDigits(_ chunk: UInt64) -> UInt64 {
    let mask: UInt64 = 0x0000_00FF_0000_00FF
    let mul1: UInt64 = 0x000F_4240_0000_0064  // 100 + (1000000 << 32)
    let mul2: UInt64 = 0x0000_2710_0000_0001  // 1 + (10000 << 32)
    var v = chunk &- 0x3030_3030_3030_3030
    v = (v &* 10) &+ (v >> 8)
    v = (((v & mask) &* mul1) &+ (((v >> 16) & mask) &* mul2)) >> 32
    return v & 0xFFFF_FFFF
}

/// True when some byte of `w` is '"', '\\' or below 0x20 (classic SWAR zero-byte tests).
@inline(__always)
func hasSpecialByte(_ w: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let quote = w ^ (ones &* 0x22)
    let backslash = w ^ (ones &* 0x5C)
    let hasQuote = (quote &- ones) & ~quote & highs
    let hasBackslash = (backslash &- ones) & ~backslash & highs
    let hasControl = (w &- ones &* 0x20) & ~w & highs
    return (hasQuote | hasBackslash | hasControl) != 0
}

/// Runs `body` over the bytes of `array` as one pointer (an empty array gets a valid
/// one-byte buffer so the scanner never sees a nil base address).
@inline(__always)
func withBodyPointer<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
    try bytes.withUnsafeBufferPointer { buf in
        if let p = buf.baseAddress { return try body(p, buf.count) }
        var zero: UInt8 = 0
        return try withUnsafePointer(to: &zero) { try body($0, 0) }
    }
}
