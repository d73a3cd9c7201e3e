// The tokens and the error of the JSON scanner (JSONScanner.swift).

/// A syntax error at a byte offset of the whole request body.
struct JSONSyntaxError: Error {
    var offset: Int
    var message: String

    /// The sentence a person reads in the HTTP 400 answer.
    var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// Where a string token's bytes are: a span of the input (no escapes), or the scanner's
/// `scratch` buffer (escapes decoded).
struct StringToken {
    var start: Int
    var count: Int
    var escaped: Bool
}

/// The scanner's view of a JSON number: its value and whether it was written as an integer
/// (no fraction or exponent), which `id` needs to keep integer ids as their decimal text.
struct NumberToken {
    var value: Double
    var start: Int
    var count: Int
    var isInteger: Bool
}

/// Nesting deeper than this is refused so that a hostile body cannot exhaust the stack.
let maxJSONDepth = 256
