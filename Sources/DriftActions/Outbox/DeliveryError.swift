/// A failed outbound call of any action (Alertmanager, Kubernetes, Argo, MLflow, webhook): what
/// went wrong in one line, and whether a retry can help. The failure policy reads `retryable`.
public struct DeliveryError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// The HTTP status, when the peer answered.
    public var status: Int?
    /// The peer's own error code (MLflow's `error_code`: RESOURCE_DOES_NOT_EXIST, …).
    public var code: String?
    public var retryable: Bool
    /// The request never reached the peer (connection refused or reset, connect timeout, DNS):
    /// the outbox then probes the peer every few seconds and delivers as soon as it answers.
    public var unreachable: Bool

    public init(message: String, status: Int? = nil, code: String? = nil, retryable: Bool, unreachable: Bool = false) {
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.unreachable = unreachable
    }

    /// A transport failure: no HTTP answer came back (retryable).
    public static func transport(_ what: String, _ error: any Error) -> DeliveryError {
        DeliveryError(message: "\(what): \(error)", retryable: true, unreachable: true)
    }

    public var description: String { message }

    /// Whether an HTTP status is worth retrying: 5xx, 408 and 429. Any other 4xx is a request no
    /// retry fixes (a bad token, a deleted object, an invalid body).
    public static func isRetryable(status: Int) -> Bool { status >= 500 || status == 408 || status == 429 }

    /// A non-2xx answer as an error, retryable by its status.
    public static func http(_ what: String, status: Int, text: String, code: String? = nil) -> DeliveryError {
        let line = String(text.prefix(200)).replacingOccurrences(of: "\n", with: " ")
        return DeliveryError(message: "\(what): HTTP \(status) \(code.map { "\($0): " } ?? "")\(line)", status: status, code: code,
                             retryable: isRetryable(status: status))
    }
}
