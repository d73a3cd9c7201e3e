import DriftCore

/// A generic JSON tree, for payloads whose shape varies (KServe v1/v2). The observation
/// formats never build one: they are decoded straight into columns.
indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in document order (a later duplicate key wins in `member(_:)`).
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses a whole document.
    static func parse(_ body: [UInt8]) throws(IngestDecodingError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = withBodyPointer(body) { base, count in
            var s = JSONScanner(base: base, start: 0, end: count)
            do throws(JSONSyntaxError) {
                if s.peek() == 0 { throw JSONSyntaxError(offset: 0, message: "the body is empty") }
                let v = try s.readValue(depth: 0)
                try s.expectEnd()
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw IngestDecodingError(e.description)
        }
    }
}

extension JSONScanner {
    mutating func readValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
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
                members.append((key, try readValue(depth: depth + 1)))
            } while try nextMember(close: UInt8(ascii: "}"), "in an object")
            return .object(members)
        case UInt8(ascii: "["):
            i += 1
            var elements: [JSONValue] = []
            if peek() == UInt8(ascii: "]") { i += 1; return .array(elements) }
            repeat {
                elements.append(try readValue(depth: depth + 1))
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
