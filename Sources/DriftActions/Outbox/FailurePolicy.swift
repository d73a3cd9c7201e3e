import Foundation

/// The one retry rule of the outbox: a failed attempt is due again after an exponential backoff
/// (1, 2, 4 … 60 s), and given up when the error says no retry can help (a 4xx) or the attempts
/// are used up. In wall-clock terms: ``giveUpSeconds`` of failing attempts (30 attempts ≈ 24 min).
public struct FailurePolicy: Sendable, Equatable {
    /// Attempts before an action is given up.
    public var maxAttempts: Int

    public init(maxAttempts: Int) { self.maxAttempts = maxAttempts }

    /// What happens after a failed attempt.
    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp
    }

    /// Backoff after the n-th failed attempt (1-based): 1, 2, 4 … 60 s.
    public static func backoff(afterAttempt n: Int) -> Double { min(60, pow(2, Double(max(0, n - 1)))) }

    /// Seconds from the first failed attempt to the last, when every attempt fails: how long a
    /// peer may be down before its actions are given up (30 attempts: 1+2+…+32 + 23 × 60 s =
    /// 1,443 s ≈ 24 min). The probe of an unreachable peer does not count as an attempt.
    public var giveUpSeconds: Double {
        (1..<max(1, maxAttempts)).reduce(0) { $0 + Self.backoff(afterAttempt: $1) }
    }

    /// The decision after `attempts` failed attempts (this one included).
    public func decide(attempts: Int, retryable: Bool, now: Date) -> Decision {
        if !retryable || attempts >= maxAttempts { return .giveUp }
        return .retry(at: now.addingTimeInterval(Self.backoff(afterAttempt: attempts)))
    }
}
