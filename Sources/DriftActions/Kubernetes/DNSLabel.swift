import Foundation

/// A DNS label made from free text: lower-cased, other characters → '-', shortened with a
/// stable hash suffix when too long (so two long names stay distinct).
public func dnsLabel(_ text: String) -> String {
    var s = String(text.lowercased().unicodeScalars.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-" })
    while s.contains("--") { s = s.replacingOccurrences(of: "--", with: "-") }
    s = s.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    if s.count > 63 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let suffix = String(h % 0xFFFFFF, radix: 16)
        s = String(s.prefix(62 - suffix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) + "-" + suffix
    }
    return s.isEmpty ? "x" : s
}
