import Foundation

/// The body of a peer's error answer: its structured form when it is one (MLflow's error JSON,
/// a problem+json), otherwise its text (a proxy's HTML page, a plain message). Either way the
/// body is kept for the message a person reads; it is never dropped.
public enum ErrorBody<Structured: Decodable> {
    case structured(Structured)
    case text(String)

    public init(_ data: Data) {
        do {
            self = .structured(try JSONDecoder().decode(Structured.self, from: data))
        } catch {
            // Not the structured form: the text is what there is to show.
            self = .text(String(decoding: data.prefix(2000), as: UTF8.self))
        }
    }

    public var structured: Structured? {
        if case .structured(let s) = self { return s }
        return nil
    }

    /// The raw text when the body was not the structured form.
    public var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}
