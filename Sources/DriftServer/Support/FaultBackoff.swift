import Foundation

/// The pace of a background loop while its work keeps failing (a full disk, an unreadable
/// store): the delay doubles from the loop's own interval to `maxDelay`, and the failure is
/// logged the first time, then once a minute, then the recovery — not ten lines a second.
struct FaultBackoff: Sendable {
    /// The loop's delay when all is well.
    let interval: Double
    var maxDelay: Double = 30
    var logEvery: Double = 60
    private(set) var failures = 0
    private var lastLogged: ContinuousClock.Instant?

    init(interval: Double, maxDelay: Double = 30) {
        self.interval = interval
        self.maxDelay = maxDelay
    }

    /// Seconds to sleep before the next round.
    var delay: Double { failures == 0 ? interval : min(maxDelay, interval * pow(2, Double(min(failures, 16)))) }

    /// Records a failed round; true when this one should be logged.
    mutating func failed(now: ContinuousClock.Instant = .now) -> Bool {
        failures += 1
        guard failures == 1 || lastLogged.map({ now - $0 >= .seconds(logEvery) }) ?? true else { return false }
        lastLogged = now
        return true
    }

    /// Records a round that worked; the failed rounds before it (0 when none), to log the recovery.
    mutating func succeeded() -> Int {
        defer { failures = 0; lastLogged = nil }
        return failures
    }

    /// Sleeps for `delay`.
    func pause() async { try? await Task.sleep(for: .milliseconds(Int64(delay * 1000))) }
}
