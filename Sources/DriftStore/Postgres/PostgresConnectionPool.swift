import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A fixed number of PostgreSQL connections for the synchronous ``Store`` methods: a caller
/// borrows one connection for one statement or one transaction, waiting while all are lent.
///
/// Why blocking here is safe: the ``Store`` protocol is synchronous (SQLite's GRDB is too), so a
/// caller's thread waits on `EventLoopFuture.wait()`. The connections live on an event loop
/// group of their own, never on a caller's thread and never on the Swift concurrency pool, so
/// the I/O a waiting caller needs always has a thread to run on — no caller can starve it.
/// postgres-nio's `PostgresClient` pool is not used because its `run()` loop and its async
/// `withConnection` need the cooperative pool, whose threads (one per core) are exactly what
/// blocked callers hold.
///
/// A connection the server closed (a restart, a failover) is dropped when it is returned and
/// replaced by a new one on the next borrow, so the store recovers without a restart.
final class PostgresConnectionPool: @unchecked Sendable {
    // @unchecked Sendable is safe: `idle`, `open`, `closed`, `nextID` and `connecting` are read and written
    // only while `condition` is locked; the other stored properties are immutable and Sendable.
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var closed = false
    private var nextID = 0
    /// Dedicated connections being opened right now.
    private var connecting = 0
    private let capacity: Int
    private let group: MultiThreadedEventLoopGroup
    private let configuration: PostgresConnection.Configuration
    let logger: Logger
    /// How long a caller waits for a free connection before the store reports itself busy.
    private let borrowTimeout: TimeInterval = 30

    init(location: PostgresLocation, logger: Logger) throws {
        let tls: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer, .require:
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: .makeClientConfiguration())
            } catch {
                throw DriftStoreError.cannotOpen(path: location.description, reason: "cannot set up TLS: \(error)")
            }
            tls = location.tls == .require ? .require(context) : .prefer(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        // A server that does not answer is reported within seconds (ingest answers 503), not
        // after NIO's default of 10 s.
        configuration.options.connectTimeout = .seconds(3)
        self.configuration = configuration
        self.capacity = location.poolSize
        self.logger = logger
        // One thread: the store's I/O is small messages; the work is in the server.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Runs `body` on a borrowed connection. A connection that breaks while lent is dropped.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try borrow()
        defer { giveBack(connection) }
        return try body(connection)
    }

    private func borrow() throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(borrowTimeout)
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw DriftStoreError.unavailable(.unreachable, message: "the PostgreSQL store is closed")
            }
            while let connection = idle.popLast() {
                if !connection.isClosed {
                    condition.unlock()
                    return connection
                }
                open -= 1
            }
            if open < capacity { break }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw DriftStoreError.unavailable(.busy, message: "all \(capacity) PostgreSQL connections stayed busy for \(Int(borrowTimeout)) s")
            }
        }
        open += 1
        nextID += 1
        let id = nextID
        condition.unlock()
        do {
            return try PostgresConnection.connect(
                on: group.next(), configuration: configuration, id: id, logger: logger
            ).wait()
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    /// A connection outside the pool, for the caller to keep and close (the serve lock's).
    /// Counted while in flight, so that ``close()`` does not shut the event loops down under it.
    func makeDedicatedConnection() throws -> PostgresConnection {
        let id: Int = try condition.withLock {
            guard !closed else { throw DriftStoreError.unavailable(.unreachable, message: "the PostgreSQL store is closed") }
            nextID += 1
            connecting += 1
            return nextID
        }
        defer {
            condition.withLock {
                connecting -= 1
                condition.broadcast()
            }
        }
        return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait()
    }

    private func giveBack(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isClosed || closed {
            open -= 1
        } else {
            idle.append(connection)
        }
        let closeNow = closed && !connection.isClosed
        condition.signal()
        condition.unlock()
        if closeNow { _ = connection.close() as EventLoopFuture<Void> }
    }

    /// Closes every idle connection; lent ones close when returned. Later borrows throw.
    func close() {
        condition.lock()
        if closed {
            condition.unlock()
            return
        }
        closed = true
        let toClose = idle
        idle = []
        open -= toClose.count
        condition.broadcast()
        // A dedicated connection being opened (the serve lock's watcher) finishes first: its
        // future must complete before the event loops go away.
        let deadline = Date().addingTimeInterval(10)
        while connecting > 0, condition.wait(until: deadline) {}
        condition.unlock()
        for connection in toClose { try? (connection.close() as EventLoopFuture<Void>).wait() }  // closing: nothing to report
        try? group.syncShutdownGracefully()  // idem
    }
}
