import DriftTabular
import DriftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A small JSON scanner over raw UTF-8 bytes, specialised for the ingest shapes.
//
// Foundation's JSONDecoder builds a generic tree and goes through Codable; JSONSerialization
// is slower still and rounds some doubles wrongly. Here the decoders walk the bytes once:
// keys are compared as bytes (never turned into Strings on the hot path), numbers are handed
// to DriftTabular's correctly rounded `parseNumber` straight from their byte span, and only text
// values become Strings. Errors are typed throws so that the hot path never boxes an error.

/// A cursor over the bytes of one JSON body: tokens, keys compared as bytes, numbers parsed in place.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    /// One past the last byte this scanner may read (a line's end for NDJSON).
    var end: Int
    var i: Int
    /// Decoded bytes of the last escaped string.
    var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, start: Int, end: Int) {
        self.base = base
        self.i = start
        self.end = end
        scratch.reserveCapacity(64)
    }

    // MARK: Basic reading

    @inline(__always)
    mutating func skipWhitespace() {
        while i < end {
            let c = base[i]
            // Space, \n, \r, \t: the only whitespace JSON allows.
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    /// The next non-whitespace byte without consuming it; 0 at the end (NUL is never valid JSON,
    /// so it cannot be mistaken for a token).
    @inline(__always)
    mutating func peek() -> UInt8 {
        skipWhitespace()
        return i < end ? base[i] : 0
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(JSONSyntaxError) {
        if peek() == byte { i += 1; return }
        throw error(expected: what())
    }

    /// `expected …, found …` at the current position.
    func error(expected: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = offset ?? i
        return JSONSyntaxError(offset: at, message: "expected \(expected), found \(describeByte(at: at))")
    }

    func describeByte(at offset: Int) -> String {
        guard offset < end else { return "end of input" }
        let c = base[offset]
        switch c {
        case 0x22: return "'\"'"
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(c)))'"
        case 0x0A, 0x0D: return "a line break"
        default: return "byte 0x\(String(c, radix: 16, uppercase: true))"
        }
    }

    /// A short name of the value that starts at the current byte, for "found …" messages of
    /// the semantic checks (a feature that is an array, a row that is a string, …).
    func describeValue() -> String {
        guard i < end else { return "end of input" }
        switch base[i] {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "a number"
        }
    }

    // MARK: Literals

    /// Consumes `literal` (true/false/null/NaN/Infinity) or throws.
    @inline(__always)
    mutating func consumeLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let n = literal.utf8CodeUnitCount
        let p = literal.utf8Start
        if i + n <= end && memcmp(base + i, p, n) == 0 {
            i += n
            return
        }
        throw JSONSyntaxError(offset: i, message: "invalid literal (expected \(literal))")
    }

    // MARK: Strings

    /// Reads a string whose opening quote is at `i`. Escape-free strings (nearly all keys and
    /// categories) are returned as a span of the input; others are decoded into `scratch`.
    @inline(__always)
    mutating func readString() throws(JSONSyntaxError) -> StringToken {
        i += 1  // opening quote
        let start = i
        // Eight bytes at a time while no quote, backslash or control byte is in the word
        // (SWAR; keys and categories are short, ids and timestamps are not).
        while i + 8 <= end {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if hasSpecialByte(w) { break }
            i += 8
        }
        while i < end {
            let c = base[i]
            if c == 0x22 {
                let token = StringToken(start: start, count: i - start, escaped: false)
                i += 1
                return token
            }
            if c == 0x5C { return try readEscapedString(from: start) }
            if c < 0x20 { throw controlCharacterError() }
            i += 1
        }
        throw JSONSyntaxError(offset: start - 1, message: "unterminated string")
    }

    func controlCharacterError() -> JSONSyntaxError {
        JSONSyntaxError(offset: i, message: "raw control character (\(describeByte(at: i))) in a string; escape it as \\u00XX")
    }

    /// Slow path: copies the escape-free prefix, then decodes escapes into `scratch`.
    mutating func readEscapedString(from start: Int) throws(JSONSyntaxError) -> StringToken {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
        while i < end {
            let c = base[i]
            if c == 0x22 {
                i += 1
                return StringToken(start: 0, count: scratch.count, escaped: true)
            }
            if c < 0x20 { throw controlCharacterError() }
            if c != 0x5C {
                scratch.append(c)
                i += 1
                continue
            }
            let escapeStart = i
            i += 1
            guard i < end else { break }
            let e = base[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4(escapeStart: escapeStart)
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by \uDC00–\uDFFF: together they are
                    // one code point above U+FFFF (JSON's UTF-16 heritage).
                    if i + 6 <= end && base[i] == 0x5C && base[i + 1] == UInt8(ascii: "u") {
                        let save = i
                        i += 2
                        let low = try readHex4(escapeStart: save)
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            // Not a pair: the lone high surrogate becomes U+FFFD and the
                            // second escape is decoded on its own.
                            scalar = 0xFFFD
                            i = save
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD  // lone low surrogate: not a character
                }
                appendUTF8(scalar)
            default:
                throw JSONSyntaxError(offset: escapeStart, message: "invalid escape '\\\(describeEscape(e))' in a string")
            }
        }
        throw JSONSyntaxError(offset: start - 1, message: "unterminated string")
    }

    private func describeEscape(_ e: UInt8) -> String {
        (0x21...0x7E).contains(e) ? String(Character(Unicode.Scalar(e))) : "x\(String(e, radix: 16))"
    }

    private mutating func readHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= end else {
            throw JSONSyntaxError(offset: escapeStart, message: "\\u escape needs four hex digits")
        }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw JSONSyntaxError(offset: escapeStart, message: "\\u escape needs four hex digits")
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }

    private mutating func appendUTF8(_ s: UInt32) {
        switch s {
        case 0..<0x80:
            scratch.append(UInt8(s))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | s >> 6))
            scratch.append(UInt8(0x80 | s & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | s >> 12))
            scratch.append(UInt8(0x80 | (s >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | s >> 18))
            scratch.append(UInt8(0x80 | (s >> 12) & 0x3F))
            scratch.append(UInt8(0x80 | (s >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        }
    }

    /// The token's text. Invalid UTF-8 is repaired with U+FFFD (as every Swift String is).
    @inline(__always)
    func string(_ t: StringToken) -> String {
        if t.escaped {
            return scratch.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
        return String(decoding: UnsafeBufferPointer(start: base + t.start, count: t.count), as: UTF8.self)
    }

    /// Calls `body` with the token's bytes (input span or scratch) without making a String.
    @inline(__always)
    func withBytes<R>(_ t: StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if t.escaped { return scratch.withUnsafeBufferPointer(body) }
        return body(UnsafeBufferPointer(start: base + t.start, count: t.count))
    }

    /// True when the token's bytes equal `literal` (an ASCII key such as "features").
    @inline(__always)
    func equals(_ t: StringToken, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard t.count == n else { return false }
        if t.escaped {
            return scratch.withUnsafeBufferPointer { buf in
                guard let p = buf.baseAddress else { return false }
                return memcmp(p, literal.utf8Start, n) == 0
            }
        }
        return memcmp(base + t.start, literal.utf8Start, n) == 0
    }

    /// Reads an object key and the colon after it; `i` is at the opening quote's position
    /// after whitespace.
    @inline(__always)
    mutating func readKey() throws(JSONSyntaxError) -> StringToken {
        guard peek() == 0x22 else { throw error(expected: "a string key in double quotes") }
        let key = try readString()
        if i < end && base[i] == UInt8(ascii: ":") {
            i += 1
        } else {
            try expect(UInt8(ascii: ":"), "':' after an object key")
        }
        return key
    }

    /// After a member or element: consumes ',' (returns true) or `close` (returns false).
    @inline(__always)
    mutating func nextMember(close: UInt8, _ what: @autoclosure () -> String) throws(JSONSyntaxError) -> Bool {
        let c = peek()
        if c == UInt8(ascii: ",") { i += 1; return true }
        if c == close { i += 1; return false }
        throw error(expected: "',' or '\(Character(Unicode.Scalar(close)))' \(what())")
    }

    // MARK: Numbers

    /// Reads a JSON number at `i`, validating RFC 8259's grammar while collecting its decimal
    /// mantissa and exponent. Up to 19 significant digits (every double's shortest form) are
    /// converted by Eisel–Lemire; longer numbers and the rare undecidable cases go to DriftCore's
    /// correctly rounded `parseNumber` on the number's byte span — exact either way. Python's
    /// json module writes NaN, Infinity and -Infinity for non-finite floats: accepted too.
    @inline(__always)
    mutating func readNumber() throws(JSONSyntaxError) -> NumberToken {
        let start = i
        var negative = false
        if base[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
            if i < end && base[i] == UInt8(ascii: "I") {
                try consumeLiteral("Infinity")
                return NumberToken(value: -.infinity, start: start, count: i - start, isInteger: false)
            }
        }
        var w: UInt64 = 0
        var digits = 0  // significant digits in w (leading zeros excluded)
        var q = 0  // decimal exponent of w
        var isInteger = true
        if i < end && base[i] == UInt8(ascii: "0") {
            i += 1
        } else if i < end && base[i] &- 0x31 < 9 {
            readDigits(&w, &digits)
        } else {
            throw error(expected: "a digit")
        }
        if i < end && base[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            let fractionStart = i
            // Zeros before the first significant digit (0.000123) only move the exponent.
            if w == 0 { while i < end && base[i] == UInt8(ascii: "0") { i &+= 1 } }
            readDigits(&w, &digits)
            guard i > fractionStart else { throw error(expected: "a digit after the decimal point") }
            q = fractionStart - i
        }
        if i < end && (base[i] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            i += 1
            var expNegative = false
            if i < end && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) {
                expNegative = base[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < end && base[i] &- 0x30 < 10 else { throw error(expected: "a digit in the exponent") }
            var e = 0
            while i < end {
                let d = base[i] &- 0x30
                if d >= 10 { break }
                if e < 1_000_000 { e = e * 10 + Int(d) }  // beyond any double's range either way
                i += 1
            }
            q += expNegative ? -e : e
        }
        if digits == 0 {  // no significant digit (w itself may wrap to 0 past 19 digits)
            return NumberToken(value: negative ? -0.0 : 0.0, start: start, count: i - start, isInteger: isInteger)
        }
        if digits <= 19, let v = eiselLemire(w, q, negative: negative) {
            return NumberToken(value: v, start: start, count: i - start, isInteger: isInteger)
        }
        let span = UnsafeBufferPointer(start: base + start, count: i - start)
        guard case .number(let value) = parseNumber(span) else {
            // Unreachable for text that passed the grammar above; kept as an error, not a trap.
            throw JSONSyntaxError(offset: start, message: "unreadable number")
        }
        return NumberToken(value: value, start: start, count: i - start, isInteger: isInteger)
    }

    /// Appends the digits at `i` to `w`: eight at a time while they fit in 19 digits (SWAR, as
    /// fast_float does), then one by one. Past 19 digits `w` wraps, and `digits` > 19 tells the
    /// caller to use the slow exact path instead.
    @inline(__always)
    mutating func readDigits(_ w: inout UInt64, _ digits: inout Int) {
        while digits <= 11 && i &+ 8 <= end {
            let chunk = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self).littleEndian
            guard isEightDigits(chunk) else { break }
            w = w &* 100_000_000 &+ parseEightDigits(chunk)
            digits &+= 8
            i &+= 8
        }
        while i < end {
            let d = base[i] &- 0x30
            if d >= 10 { break }
            w = w &* 10 &+ UInt64(d)
            digits &+= 1
            i &+= 1
        }
    }

    // MARK: Skipping

    /// Skips one value of any type, checking its syntax (an unknown key's value, a rejected row).
    mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) {
        guard depth < maxJSONDepth else {
            throw JSONSyntaxError(offset: i, message: "nesting deeper than \(maxJSONDepth) levels")
        }
        switch peek() {
        case UInt8(ascii: "{"):
            i += 1
            if peek() == UInt8(ascii: "}") { i += 1; return }
            repeat {
                _ = try readKey()
                try skipValue(depth: depth + 1)
            } while try nextMember(close: UInt8(ascii: "}"), "in an object")
        case UInt8(ascii: "["):
            i += 1
            if peek() == UInt8(ascii: "]") { i += 1; return }
            repeat {
                try skipValue(depth: depth + 1)
            } while try nextMember(close: UInt8(ascii: "]"), "in an array")
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "t"): try consumeLiteral("true")
        case UInt8(ascii: "f"): try consumeLiteral("false")
        case UInt8(ascii: "n"): try consumeLiteral("null")
        case UInt8(ascii: "N"): try consumeLiteral("NaN")
        case UInt8(ascii: "I"): try consumeLiteral("Infinity")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try readNumber()
        default:
            throw error(expected: "a JSON value")
        }
    }

    // MARK: Scalars

    /// One scalar value as the ingest formats see it.
    enum Scalar {
        case number(NumberToken)
        case string(StringToken)
        case bool(Bool)
        case null
        /// An array or object where a scalar belongs; the value has been skipped. The payload
        /// says which ("an array" / "an object").
        case nested(String)
    }

    /// Reads a scalar; nested values are skipped and reported (the caller rejects the row).
    @inline(__always)
    mutating func readScalar() throws(JSONSyntaxError) -> Scalar {
        let c = peek()
        switch c {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumber())
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "n"):
            try consumeLiteral("null")
            return .null
        case UInt8(ascii: "t"):
            try consumeLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try consumeLiteral("false")
            return .bool(false)
        case UInt8(ascii: "N"):
            let start = i
            try consumeLiteral("NaN")
            return .number(NumberToken(value: .nan, start: start, count: 3, isInteger: false))
        case UInt8(ascii: "I"):
            let start = i
            try consumeLiteral("Infinity")
            return .number(NumberToken(value: .infinity, start: start, count: 8, isInteger: false))
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let what = describeValue()
            try skipValue()
            return .nested(what)
        default:
            throw error(expected: "a JSON value")
        }
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(JSONSyntaxError) {
        if peek() != 0 || i < end {
            throw JSONSyntaxError(offset: i, message: "unexpected \(describeByte(at: i)) after the JSON value")
        }
    }
}
