import DriftCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The shared store for several replicas: a PostgreSQL database (15 or newer) through
/// postgres-nio, with the same behaviour as ``SQLiteStore`` (the conformance suite runs on both).
///
/// Every method is synchronous and throwing, like the protocol; each write method is one
/// transaction on one pooled connection and has committed when it returns, so 202 means
/// committed in PostgreSQL (`synchronous_commit` as the server is configured: its default, on,
/// means the commit's WAL is flushed). Why blocking is safe here: ``PostgresConnectionPool``.
///
/// Errors: the server's conditions (unreachable, disk full, read-only standby, lock timeouts)
/// become ``DriftStoreError/unavailable(_:message:)`` (the server answers 503 + Retry-After);
/// a constraint the caller broke becomes the same typed error as on SQLite.
public final class PostgresStore: Store {
    let pool: PostgresConnectionPool
    let health = StoreHealth()
    let serveLease = PostgresServeLease()
    public let location: PostgresLocation
    var logger: Logger { pool.logger }

    /// Connects and brings the schema up to date under an advisory lock (`migrate: true`), or
    /// only checks it (`migrate: false`: a schema that is behind is ``DriftStoreError/schemaBehind(_:)``,
    /// naming `driftwatch migrate`). A schema newer than this binary is always refused.
    public init(location: PostgresLocation, migrate: Bool = true, logger: Logger = Logger(label: "driftwatch.store.postgres")) throws {
        self.location = location
        self.pool = try PostgresConnectionPool(location: location, logger: logger)
        do {
            try pool.withConnection { connection in
                if migrate {
                    let applied = try PostgresSchema.migrate(connection, logger: logger)
                    if !applied.isEmpty { logger.info("migrated the PostgreSQL schema", metadata: ["applied": "\(applied.joined(separator: ", "))"]) }
                } else if case .behind(let missing) = try PostgresSchema.status(connection, logger: logger) {
                    throw DriftStoreError.schemaBehind(
                        "the database lacks \(missing.count) migration(s) (\(missing.joined(separator: ", "))): run driftwatch migrate --store \(location)")
                }
            }
        } catch let error as DriftStoreError {
            pool.close()
            throw error
        } catch {
            pool.close()
            throw DriftStoreError.cannotOpen(path: location.description, reason: Self.describe(error))
        }
    }

    deinit {
        serveLease.release()
        pool.close()
    }

    /// Makes this process the one that serves the database (see ``PostgresServeLease``): blocks
    /// while another holds it (`waiting` is called once), then fences every later write by the
    /// epoch it took. A watcher re-takes the lock when its connection drops (a PostgreSQL
    /// restart); when another process took over meanwhile, `fenced` is called with why.
    public func serveExclusively(waiting: () -> Void, fenced: @escaping @Sendable (String) -> Void) throws {
        do {
            try serveLease.acquire(open: { try self.pool.makeDedicatedConnection() }, logger: logger, waiting: waiting)
        } catch let error as DriftStoreError {
            throw error
        } catch {
            throw classify(error, writing: false)
        }
        let lease = serveLease, pool = self.pool, logger = self.logger
        Thread.detachNewThread {
            // After the lock's connection closes, a live standby gets `reclaimGrace` seconds to
            // take over before this process tries to take the lock back: a holder whose
            // connection died while the server is up is the suspect one.
            var lostAt: Date?
            while lease.heldEpoch != nil {
                Thread.sleep(forTimeInterval: 1)
                guard lease.heldEpoch != nil, !lease.connectionAlive else { continue }
                guard let since = lostAt else {
                    logger.warning("the serve lock's connection closed; taking the lock again unless a standby does")
                    lostAt = Date()
                    continue
                }
                guard Date().timeIntervalSince(since) >= Self.reclaimGrace else { continue }
                do {
                    switch try lease.reacquire(open: { try pool.makeDedicatedConnection() }, logger: logger) {
                    case .held:
                        logger.notice("the serve lock is held again")
                        lostAt = nil
                    case .released:
                        return
                    case .takenOver:
                        fenced("another driftwatch took over this database while the serve lock's connection was down")
                        return
                    }
                } catch {
                    continue  // the server does not answer yet (or the store closed): the loop decides
                }
            }
        }
    }

    /// Seconds a holder whose lock connection closed leaves to a standby before taking it back.
    static let reclaimGrace: TimeInterval = 3

    /// Closes the connections (releasing the serve lock); later calls throw.
    public func close() throws {
        serveLease.release()
        pool.close()
    }

    /// The names of the schema migrations this binary knows, in order.
    public static var schemaMigrations: [String] { PostgresSchema.migrations.map(\.name) }

    public func ping() throws {
        _ = try read { s in try s.rows("SELECT 1") }
    }

    public func writeFault() -> StoreFaultReport? { health.current }

    /// One committed write the size of an ingest batch (64 KiB), freed in the same transaction.
    public func probeWrite() throws {
        try write { s in
            let pad = Data(count: 65_536)
            let now = Date().timeIntervalSince1970
            try s.execute("""
                INSERT INTO store_probe (id, at, pad) VALUES (1, \(now), \(pad))
                ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad
                """)
            try s.execute("UPDATE store_probe SET pad = NULL WHERE id = 1")
        }
    }

    public func observeFaults(_ handler: @escaping @Sendable (StoreFault) -> Void) { health.observe(handler) }

    // MARK: transactions

    /// One transaction: committed when this returns, rolled back when `body` throws.
    @discardableResult
    func write<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        do {
            let value = try pool.withConnection { connection in
                let session = PostgresSession(connection: connection, logger: logger)
                try session.execute("BEGIN")
                let value: T
                do {
                    try serveLease.check(session)
                    value = try body(session)
                } catch {
                    // A failed ROLLBACK means the connection broke; the pool drops it.
                    _ = try? session.execute("ROLLBACK")  // the body's error is the one to report
                    throw error
                }
                try session.execute("COMMIT")
                return value
            }
            health.succeeded()
            return value
        } catch {
            throw classify(error, writing: true)
        }
    }

    /// Statements outside a transaction (each one its own snapshot).
    @discardableResult
    func read<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        do {
            return try pool.withConnection { connection in try body(PostgresSession(connection: connection, logger: logger)) }
        } catch {
            throw classify(error, writing: false)
        }
    }

    /// Conditions of the server become `.unavailable` (recorded when writing); violations of
    /// the caller's own making become typed store errors; anything else passes unchanged.
    private func classify(_ error: any Error, writing: Bool) -> any Error {
        if let e = error as? DriftStoreError {
            if case .unavailable(let fault, let message) = e, writing { health.failed(fault, message: message) }
            return e
        }
        guard let fault = Self.fault(of: error) else { return error }
        let message = Self.describe(error)
        if writing { health.failed(fault, message: message) }
        return DriftStoreError.unavailable(fault, message: message)
    }

    /// The fault a PostgreSQL or network error stands for (nil: not a condition of the server).
    static func fault(of error: any Error) -> StoreFault? {
        if let e = error as? PSQLError {
            switch e.code {
            case .server:
                let state = e.serverInfo?[.sqlState] ?? ""
                switch state {
                case "53100": return .diskFull
                case "58030", "53200": return .ioError
                case "25006": return .readOnly
                case "40001", "40P01", "55P03", "53300", "57014": return .busy
                default:
                    // Class 08 (connection exception) and 57P0x (shutdown, cannot connect now).
                    if state.hasPrefix("08") || state.hasPrefix("57P") { return .unreachable }
                    return nil
                }
            case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
                return .unreachable
            default:
                return nil
            }
        }
        if error is NIOConnectionError || error is ChannelError || error is IOError { return .unreachable }
        return nil
    }

    /// The server's own words (postgres-nio's description hides them on purpose).
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let state = e.serverInfo?[.sqlState].map { " \($0)" } ?? ""
                return "PostgreSQL\(state): \(message)"
            }
            if let underlying = e.underlying { return "PostgreSQL \(e.code): \(underlying)" }
            return "PostgreSQL \(e.code)"
        }
        if let e = error as? DriftStoreError { return e.description }
        return "\(error)"
    }

    /// The SQLSTATE of a server error (nil for other errors).
    static func sqlState(_ error: any Error) -> String? {
        guard let e = error as? PSQLError, e.code == .server else { return nil }
        return e.serverInfo?[.sqlState]
    }

    /// Runs `body`, turning a foreign-key violation into `.unknownModel(model)`: every
    /// model-owned table references `models(name)`.
    @discardableResult
    func requiringModel<T>(_ model: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch where Self.sqlState(error) == "23503" {
            throw DriftStoreError.unknownModel(model)
        }
    }
}

/// One borrowed connection inside a ``PostgresStore`` call: statements wait for their results.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// All rows of a query.
    @discardableResult
    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        try connection.query(query, logger: logger).wait().rows
    }

    /// Runs a statement; the number of rows it changed.
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        try connection.query(query, logger: logger).wait().metadata.rows ?? 0
    }

    /// The first column of the first row (nil: no row).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T? {
        try rows(query).first?.decode(T.self)
    }
}
