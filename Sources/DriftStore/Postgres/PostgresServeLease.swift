import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One active `driftwatch serve` per PostgreSQL database, the others hot standbys.
///
/// Until models are shared between replicas (each model's windows assembled by one owner from
/// every replica's batches), two processes serving one database would each close and evaluate
/// their own windows. So the server that holds the database is the one holding a session
/// advisory lock, on a connection of its own; a second replica waits for the lock before it
/// listens (not ready), and takes over within about a second when the holder dies: PostgreSQL
/// releases a session lock as soon as its connection closes (SIGKILL included).
///
/// Fencing: taking the lock also bumps `serve_lease.epoch`; from then on every write
/// transaction of the store first reads the epoch `FOR SHARE` and is refused
/// (``DriftStoreError/fenced(_:)``) when another process has taken over — so an ex-holder that
/// lost its lock connection (a PostgreSQL restart, a network partition) cannot write after a
/// standby started, and a takeover waits for writes in flight to commit.
final class PostgresServeLease: @unchecked Sendable {
    // @unchecked Sendable is safe: `connection` and `epoch` are read and written only under `lock`.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var epoch: Int64?
    private let holder = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    /// `pg_advisory_lock` key of the serving process ("drif" "tsrv").
    static let key: Int64 = 0x6472_6966_7473_7276

    /// The epoch this process holds (nil: not holding; writes are then not fenced).
    var heldEpoch: Int64? { lock.withLock { epoch } }

    /// Blocks until this process holds the lock; `waiting` is called once if another holds it.
    func acquire(open: () throws -> PostgresConnection, logger: Logger, waiting: () -> Void) throws {
        var warned = false
        while true {
            let connection = try open()
            if try closingOnError(connection, { try tryLock(connection, logger: logger) }) { return }
            Self.close(connection)
            if !warned { waiting() }
            warned = true
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// Takes the lock on `connection` if it is free, and then the next epoch; false when another holds it.
    private func tryLock(_ connection: PostgresConnection, logger: Logger) throws -> Bool {
        let held = try connection.query("SELECT pg_try_advisory_lock(\(Self.key))", logger: logger).wait().rows.first?.decode(Bool.self) ?? false
        if held {
            let epoch = try connection.query("""
                INSERT INTO serve_lease (id, epoch, holder, since) VALUES (1, 1, \(holder), \(Date().timeIntervalSince1970))
                ON CONFLICT (id) DO UPDATE SET epoch = serve_lease.epoch + 1, holder = excluded.holder, since = excluded.since
                RETURNING epoch
                """, logger: logger).wait().rows.first?.decode(Int64.self)
            guard let epoch else { throw DriftStoreError.notFound("serve_lease epoch after taking the lock") }
            lock.withLock {
                self.connection = connection
                self.epoch = epoch
            }
            logger.notice("this process serves the database", metadata: ["epoch": "\(epoch)", "holder": "\(holder)"])
            return true
        }
        return false
    }

    /// True while the lock connection is open (the lock is held as long as it is).
    var connectionAlive: Bool { lock.withLock { connection.map { !$0.isClosed } ?? false } }

    /// What re-taking the lock found.
    enum Reacquired: Equatable {
        /// This process holds the lock again, with its epoch.
        case held
        /// Another process holds it, or took it and moved the epoch on: this process is fenced.
        case takenOver
        /// This process released the lease meanwhile (the store closed): nothing to do.
        case released
    }

    /// Re-takes the lock on a new connection after the old one closed (the server restarted):
    /// only if no other process took it meanwhile.
    func reacquire(open: () throws -> PostgresConnection, logger: Logger) throws -> Reacquired {
        guard heldEpoch != nil else { return .released }
        let connection = try open()
        let ours = try closingOnError(connection) {
            let held = try connection.query("SELECT pg_try_advisory_lock(\(Self.key))", logger: logger).wait().rows.first?.decode(Bool.self) ?? false
            let stored = try connection.query("SELECT epoch FROM serve_lease WHERE id = 1", logger: logger).wait().rows.first?.decode(Int64.self)
            return held && stored != nil && stored == heldEpoch
        }
        // A close() that ran meanwhile wins: the store is going away, not being replaced.
        let outcome: Reacquired = lock.withLock {
            guard epoch != nil else { return .released }
            guard ours else { return .takenOver }
            self.connection = connection
            return .held
        }
        if outcome != .held { Self.close(connection) }
        return outcome
    }

    /// Runs `body`; a connection it fails on is closed (postgres-nio requires every connection closed).
    private func closingOnError<T>(_ connection: PostgresConnection, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            Self.close(connection)
            throw error
        }
    }

    private static func close(_ connection: PostgresConnection) {
        _ = try? (connection.close() as EventLoopFuture<Void>).wait()  // closing a connection we give up: nothing to report
    }

    /// The fence every write transaction passes first (a no-op when the lease is not held).
    func check(_ session: PostgresSession) throws {
        guard let mine = heldEpoch else { return }
        let current = try session.value("SELECT epoch FROM serve_lease WHERE id = 1 FOR SHARE", as: Int64.self)
        guard current == mine else {
            throw DriftStoreError.fenced(
                "another driftwatch took over this database (serve epoch \(current.map(String.init) ?? "none"), this process held \(mine)); "
                    + "this process must stop writing")
        }
    }

    func release() {
        let connection: PostgresConnection? = lock.withLock {
            defer { self.connection = nil; epoch = nil }
            return self.connection
        }
        if let connection { Self.close(connection) }  // closing releases the lock
    }
}
