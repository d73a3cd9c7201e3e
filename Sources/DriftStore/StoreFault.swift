import Foundation

/// Why the store cannot do its work right now: a condition of the machine or the database
/// server, not of the request,
/// so the caller may retry the same request later. Raw values are the `cause` label of
/// `driftwatch_store_errors_total`.
public enum StoreFault: String, Sendable, Codable, CaseIterable {
    /// The filesystem of the data directory is full (SQLite: SQLITE_FULL).
    case diskFull = "disk_full"
    /// Reading or writing the database file failed (SQLITE_IOERR, SQLITE_CANTOPEN).
    case ioError = "io_error"
    /// Another connection holds the database longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
    case busy
    /// The database file or its directory became read-only (SQLITE_READONLY).
    case readOnly = "read_only"
    /// The database server does not answer or closed the connection (PostgreSQL down,
    /// restarting, failing over, or too many connections).
    case unreachable

    /// What an operator should do, in the words of a problem detail.
    public var remedy: String {
        switch self {
        case .diskFull: "free space on the data directory's filesystem (or grow the volume)"
        case .ioError: "check the data directory's volume (dmesg, the volume's health)"
        case .busy: "another process holds the database: only one driftwatch may use a SQLite data directory; on PostgreSQL, look for long transactions or too many connections (pg_stat_activity)"
        case .readOnly: "make the data directory writable again (the volume may have been remounted read-only)"
        case .unreachable: "check that the PostgreSQL server is up and reachable from this replica (pg_isready, its logs)"
        }
    }
}

/// The store's write health: the fault of the last failed write, until a write succeeds.
public struct StoreFaultReport: Sendable, Equatable {
    public var fault: StoreFault
    /// The backend's own words (e.g. SQLite's message).
    public var message: String
    /// When writes started failing.
    public var since: Date

    public init(fault: StoreFault, message: String, since: Date) {
        self.fault = fault
        self.message = message
        self.since = since
    }
}

/// Tracks write faults for `/readyz` and the metrics: set by a failed write, cleared by a
/// successful one.
final class StoreHealth: @unchecked Sendable {
    // @unchecked Sendable is safe: `report` and `observers` are read and written only under `lock`.
    private let lock = NSLock()
    private var report: StoreFaultReport?
    private var observers: [@Sendable (StoreFault) -> Void] = []

    var current: StoreFaultReport? { lock.withLock { report } }

    func observe(_ handler: @escaping @Sendable (StoreFault) -> Void) {
        lock.withLock { observers.append(handler) }
    }

    func succeeded() {
        lock.withLock { if report != nil { report = nil } }
    }

    func failed(_ fault: StoreFault, message: String) {
        let handlers: [@Sendable (StoreFault) -> Void] = lock.withLock {
            if report?.fault != fault { report = StoreFaultReport(fault: fault, message: message, since: Date()) }
            return observers
        }
        for h in handlers { h(fault) }
    }
}
