import DriftCore

/// A generic JSON tree, for payloads whose shape varies (KServe v1/v2). The observation
/// formats never build one: they are decoded straight into columns.
///
/// Not `indirect`: arrays and objects already keep their elements in heap buffers, so a
/// scalar is stored inline in its array (24 bytes) instead of in a box of its own (a pointer
/// and a 48-byte allocation each, which made a 1M-row KServe body cost 2 GB).
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// An array whose elements are all numbers (tensor data, rows of numeric features), kept
    /// unboxed: 8 bytes an element instead of 24.
    case numbers([Double])
    /// Members in document order (a later duplicate key wins in `member(_:)`).
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.numbers(let x), .numbers(let y)): return x == y
        case (.numbers(let x), .array(let y)), (.array(let y), .numbers(let x)):
            return x.count == y.count && zip(x, y).allSatisfy { JSONValue.number($0) == $1 }
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    /// The elements of an array, whichever way it is stored; nil for other values.
    var arrayElements: [JSONValue]? {
        switch self {
        case .array(let a): a
        case .numbers(let n): n.map { .number($0) }
        default: nil
        }
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array, .numbers: "an array"
        case .object: "an object"
        }
    }

    /// Why a document did not become a tree.
    enum ParseFailure: Error {
        /// Not JSON: the sentence for the 400 answer.
        case syntax(String)
        /// More than `maxValues` values (scalars, arrays and objects each count one); parsing
        /// stopped there, so the tree never held more.
        case tooManyValues
    }

    /// Parses a whole document of at most `maxValues` values.
    static func parse(_ body: [UInt8], maxValues: Int = .max) throws(ParseFailure) -> JSONValue {
        let result: Result<JSONValue, ParseFailure> = withBodyPointer(body) { base, count in
            var s = JSONScanner(base: base, start: 0, end: count)
            var budget = maxValues
            do throws(JSONSyntaxError) {
                if s.peek() == 0 { throw JSONSyntaxError(offset: 0, message: "the body is empty") }
                let v = try s.readValue(depth: 0, budget: &budget)
                try s.expectEnd()
                return .success(v)
            } catch {
                return .failure(budget < 0 ? .tooManyValues : .syntax(error.description))
            }
        }
        return try result.get()
    }
}

extension JSONScanner {
    /// True for the first byte of a number as `readScalar` reads one (NaN and Infinity too).
    static func startsNumber(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "N") || c == UInt8(ascii: "I")
    }

    /// Reads one value; `budget` is the number of values still allowed, and going below zero
    /// throws (the caller tells that from a syntax error by the budget).
    mutating func readValue(depth: Int, budget: inout Int) throws(JSONSyntaxError) -> JSONValue {
        budget -= 1
        guard budget >= 0 else { throw JSONSyntaxError(offset: i, message: "too many values") }
        guard depth < maxJSONDepth else {
            throw JSONSyntaxError(offset: i, message: "nesting deeper than \(maxJSONDepth) levels")
        }
        switch peek() {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, JSONValue)] = []
            if peek() == UInt8(ascii: "}") { i += 1; return .object(members) }
            repeat {
                let key = string(try readKey())
                members.append((key, try readValue(depth: depth + 1, budget: &budget)))
            } while try nextMember(close: UInt8(ascii: "}"), "in an object")
            return .object(members)
        case UInt8(ascii: "["):
            i += 1
            if peek() == UInt8(ascii: "]") { i += 1; return .array([]) }
            // Numbers first: while every element is one, they are kept unboxed.
            var numbers: [Double] = []
            while Self.startsNumber(peek()) {
                budget -= 1
                guard budget >= 0 else { throw JSONSyntaxError(offset: i, message: "too many values") }
                guard case .number(let n) = try readScalar() else {
                    throw JSONSyntaxError(offset: i, message: "unreadable number")  // unreachable: the byte starts a number
                }
                numbers.append(n.value)
                guard try nextMember(close: UInt8(ascii: "]"), "in an array") else { return .numbers(numbers) }
            }
            var elements = numbers.map { JSONValue.number($0) }
            repeat {
                elements.append(try readValue(depth: depth + 1, budget: &budget))
            } while try nextMember(close: UInt8(ascii: "]"), "in an array")
            return .array(elements)
        default:
            switch try readScalar() {
            case .number(let n): return .number(n.value)
            case .string(let t): return .string(string(t))
            case .bool(let b): return .bool(b)
            case .null: return .null
            case .nested: return .null  // unreachable: '[' and '{' are handled above
            }
        }
    }
}
