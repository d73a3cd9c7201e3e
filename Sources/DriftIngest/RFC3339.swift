import DriftTabular
import DriftCore

// RFC 3339 timestamps ("2026-11-29T12:00:00Z", "2026-11-29T12:00:00.250+01:00") → Unix seconds,
// by hand: Foundation's ISO8601DateFormatter is a class, costs microseconds a call and needs an
// option to accept fractional seconds at all.

/// Unix seconds of an RFC 3339 date-time, or nil when `text` is not one. Accepts 'T', 't' or a
/// space between date and time (RFC 3339 §5.6 note), 'Z'/'z' or ±hh:mm, any number of
/// fractional digits; a leap second (:60) counts as the next second's start, as POSIX time does.
func parseRFC3339(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = text.count
    guard n >= 20 else { return nil }  // "YYYY-MM-DDTHH:MM:SSZ"

    @inline(__always) func digits(_ at: Int, _ count: Int) -> Int? {
        var v = 0
        for k in at..<(at + count) {
            let d = text[k] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    guard let year = digits(0, 4), text[4] == UInt8(ascii: "-"),
          let month = digits(5, 2), text[7] == UInt8(ascii: "-"),
          let day = digits(8, 2),
          text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: "t") || text[10] == UInt8(ascii: " "),
          let hour = digits(11, 2), text[13] == UInt8(ascii: ":"),
          let minute = digits(14, 2), text[16] == UInt8(ascii: ":"),
          let second = digits(17, 2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
          hour <= 23, minute <= 59, second <= 60
    else { return nil }

    var i = 19
    var fraction = 0.0
    if i < n && text[i] == UInt8(ascii: ".") {
        let start = i
        i += 1
        while i < n && text[i] &- 0x30 < 10 { i += 1 }
        guard i > start + 1 else { return nil }
        // "0.xxx" through the correctly rounded parser, on the stack: one rounding for the
        // fraction. Digits past the 30th cannot change a Unix time's double.
        let used = Swift.min(i - start, 31)
        let parsed = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: used + 1) { buf -> ParsedNumber in
            buf[0] = UInt8(ascii: "0")
            for k in 0..<used { buf[k + 1] = text[start + k] }
            return parseNumber(UnsafeBufferPointer(buf))
        }
        guard case .number(let f) = parsed else { return nil }
        fraction = f
    }
    guard i < n else { return nil }
    var offsetSeconds = 0
    switch text[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
        i += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
        let sign = text[i] == UInt8(ascii: "-") ? -1 : 1
        guard i + 6 <= n, let oh = digits(i + 1, 2), text[i + 3] == UInt8(ascii: ":"),
              let om = digits(i + 4, 2), oh <= 23, om <= 59
        else { return nil }
        offsetSeconds = sign * (oh * 3600 + om * 60)
        i += 6
    default:
        return nil
    }
    guard i == n else { return nil }

    let days = daysFromCivil(year: year, month: month, day: day)
    let whole = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    return Double(whole) + fraction
}

private func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

private func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible
/// low-level date algorithms").
private func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
