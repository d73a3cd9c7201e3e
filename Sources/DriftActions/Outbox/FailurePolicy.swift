import Foundation

/// The one retry rule of the outbox: a failed attempt is due again after an exponential backoff
/// (1, 2, 4 … 60 s), and parked (never due again) when the error says no retry can help (a 4xx)
/// or the attempts are used up.
public struct FailurePolicy: Sendable, Equatable {
    /// Attempts before an action is parked as failed.
    public var maxAttempts: Int

    public init(maxAttempts: Int) { self.maxAttempts = maxAttempts }

    /// What happens after a failed attempt.
    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case park
    }

    /// Backoff after the n-th failed attempt (1-based): 1, 2, 4 … 60 s.
    public static func backoff(afterAttempt n: Int) -> Double { min(60, pow(2, Double(max(0, n - 1)))) }

    /// The decision after `attempts` failed attempts (this one included).
    public func decide(attempts: Int, retryable: Bool, now: Date) -> Decision {
        if !retryable || attempts >= maxAttempts { return .park }
        return .retry(at: now.addingTimeInterval(Self.backoff(afterAttempt: attempts)))
    }
}
