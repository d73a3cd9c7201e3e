import AsyncHTTPClient
import NIOCore

/// The HTTP client of every outbound call to Alertmanager and MLflow (the Kubernetes, Argo and
/// webhook transport makes its own, with the cluster's CA, and the same pool setting).
public enum OutboundHTTP {
    /// AsyncHTTPClient's pool, by default, retries a refused connection itself with a backoff
    /// of 100 ms × 1.25ⁿ capped at 60 s, and a request waiting on that timer fails with the
    /// last connect error: after a 3-minute Alertmanager outage driftwatch kept failing for
    /// 59–73 s after the peer was back (issue 16). The outbox has its own retry policy, so the
    /// pool does not retry: a refused connection fails the request at once, and the next
    /// request connects afresh.
    public static func configuration(connectTimeout: TimeAmount = .seconds(5)) -> HTTPClient.Configuration {
        var c = HTTPClient.Configuration()
        c.connectionPool.retryConnectionEstablishment = false
        c.timeout = .init(connect: connectTimeout)
        return c
    }

    /// One client for the process (never shut down, like `HTTPClient.shared`: a static is
    /// never deinitialised, so AsyncHTTPClient's shut-down-before-deinit check never runs).
    public static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration())
}
