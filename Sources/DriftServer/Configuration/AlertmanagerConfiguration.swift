import DriftCore
import Foundation

/// `alertmanager` in the config file: where and how confirmed episodes are pushed.
public struct AlertmanagerConfiguration: Sendable, Codable, Equatable {
    /// Alertmanager base URLs (`http://am:9093`); several for an HA pair — each gets every alert.
    public var urls: [String]
    /// Per-request timeout.
    public var timeoutSeconds: Double = 5
    /// Labels added to every pushed alert (e.g. `team`, `cluster`).
    public var labels: [String: String] = [:]
    /// While an episode stays confirmed its alert is re-sent this often (Alertmanager expects
    /// active alerts every 30 s–3 min; each push says the alert ends 4 intervals later).
    public var resendSeconds: Double = 60
    /// Delivery attempts of one firing/resolved notice before it is parked as failed.
    public var maxAttempts: Int = 30
    /// `severity` label of the pushed alert.
    public var severity: String = "critical"

    public init(urls: [String]) { self.urls = urls }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case urls, timeoutSeconds = "timeout_seconds", labels, resendSeconds = "resend_seconds"
        case maxAttempts = "max_attempts", severity
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = AlertmanagerConfiguration(urls: try c.required(.urls))
        urls = d.urls
        timeoutSeconds = try c.value(.timeoutSeconds, or: d.timeoutSeconds)
        labels = try c.value(.labels, or: d.labels)
        resendSeconds = try c.value(.resendSeconds, or: d.resendSeconds)
        maxAttempts = try c.value(.maxAttempts, or: d.maxAttempts)
        severity = try c.value(.severity, or: d.severity)
    }

    public func validate() throws {
        for url in urls where !isHTTPURL(url) {
            throw ServerConfigError(message: "alertmanager.urls: \"\(url)\" is not an http(s) URL")
        }
        guard timeoutSeconds > 0, timeoutSeconds <= 300 else {
            throw ServerConfigError(message: "alertmanager.timeout_seconds must be in (0, 300], got \(timeoutSeconds)")
        }
        guard resendSeconds >= 1, resendSeconds <= 180 else {
            throw ServerConfigError(message: "alertmanager.resend_seconds must be 1–180 (Alertmanager forgets alerts not re-sent), got \(resendSeconds)")
        }
        guard maxAttempts >= 1 else { throw ServerConfigError(message: "alertmanager.max_attempts must be ≥ 1") }
        for name in labels.keys.sorted() {
            guard isPrometheusLabelName(name), !name.hasPrefix("__") else {
                throw ServerConfigError(message: "alertmanager.labels: \"\(name)\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)")
            }
            guard !["alertname", "model", "severity"].contains(name) else {
                throw ServerConfigError(message: "alertmanager.labels: \"\(name)\" is set by driftwatch itself")
            }
        }
        guard !severity.isEmpty else { throw ServerConfigError(message: "alertmanager.severity must not be empty") }
    }
}
