import DriftCore
import Foundation
import GRDB

/// The service's durable store: one SQLite file (`driftwatch.sqlite`) in WAL mode behind a
/// GRDB `DatabasePool` (one writer connection, concurrent readers on WAL snapshots).
///
/// Every method is synchronous and throwing; writes are serialized by GRDB's writer queue and
/// each public write method is one transaction. Callers on async contexts should hop off the
/// cooperative pool for large calls (pruning, reading many batches) as for any blocking I/O.
///
/// ## Durability ("acknowledged means on disk")
/// A write method returns only after its transaction has committed, so the ingest route can
/// send `202` right after ``appendBatch(model:receivedAt:rows:firstEventTime:lastEventTime:idempotencyKey:payload:predictionIDs:)``
/// returns. What "committed" survives depends on ``StoreDurability``:
/// - `.processCrash` (default, `synchronous=NORMAL`): the commit's WAL frames have been handed
///   to the kernel with `write()`, so kill -9, a crash or an OOM kill lose no acknowledged batch.
///   A power loss / kernel panic may lose the transactions committed since the last WAL sync
///   (checkpoints sync), never corrupting the file. No fsync on the ingest path.
/// - `.powerLoss` (`synchronous=FULL`): the WAL is fsynced at every commit, so acknowledged
///   batches also survive power loss; costs one fsync per batch (milliseconds on most disks),
///   which caps the batch rate.
public final class SQLiteStore: Store {
    /// `DatabasePool` for files, `DatabaseQueue` for in-memory stores; both are Sendable and
    /// serialize writes themselves.
    let writer: any DatabaseWriter
    /// Path of the SQLite file, nil for in-memory stores.
    public let path: String?
    public let durability: StoreDurability
    /// The fault of the last failed write, until a write succeeds.
    let health = StoreHealth()

    public static let fileName = "driftwatch.sqlite"

    /// Opens (creating if needed) `directory/driftwatch.sqlite` and runs pending migrations.
    /// Errors are ``DriftStoreError/cannotOpen(path:reason:)`` naming the path that failed.
    public init(directory: String, durability: StoreDurability = .processCrash) throws {
        let directoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        let path = directoryURL.appendingPathComponent(Self.fileName).path
        do {
            try FileManager.default.createDirectory(
                at: directoryURL, withIntermediateDirectories: true)
        } catch {
            throw DriftStoreError.cannotOpen(
                path: directoryURL.path,
                reason: "cannot create the store directory: \(Self.diagnose(directoryURL, error))")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: Self.configuration())
            // GRDB sets synchronous=NORMAL on the writer when it enables WAL, after any
            // prepareDatabase hook, so the durability choice is applied here, on the only
            // connection that commits.
            let mode = durability == .powerLoss ? "FULL" : "NORMAL"
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(mode)")
            }
            try Schema.migrator.migrate(pool)
        } catch {
            throw DriftStoreError.cannotOpen(path: path, reason: Self.describe(error))
        }
        self.writer = pool
        self.path = path
        self.durability = durability
    }

    private init(writer: any DatabaseWriter) {
        self.writer = writer
        self.path = nil
        self.durability = .processCrash
    }

    /// A private in-memory store (tests, dry runs). Same schema, no durability.
    public static func inMemory() throws -> SQLiteStore {
        let queue = try DatabaseQueue(configuration: configuration())
        try Schema.migrator.migrate(queue)
        return SQLiteStore(writer: queue)
    }

    /// Closes all connections; later calls throw. Safe to call once the service stops.
    public func close() throws {
        try writer.close()
    }

    /// Cheap liveness check for `/readyz`: a read through a reader connection.
    public func ping() throws {
        _ = try read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The fault of the last failed write (nil while writes succeed).
    public func writeFault() -> StoreFaultReport? { health.current }

    /// One committed write the size of an ingest batch (64 KiB of pages, freed again in the same
    /// transaction), to learn whether writes work again: a one-row update could fit in space a
    /// full disk still has while batches do not.
    public func probeWrite() throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO store_probe (id, at, pad) VALUES (1, ?, zeroblob(65536))", arguments: [Date().unixSeconds])
            try db.execute(sql: "UPDATE store_probe SET pad = NULL WHERE id = 1")
        }
    }

    /// Calls `handler` on every failed write, with its fault (the metrics count them).
    public func observeFaults(_ handler: @escaping @Sendable (StoreFault) -> Void) { health.observe(handler) }

    // MARK: transactions

    /// A write transaction; a machine-side failure is `.unavailable` with its fault, recorded.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            let value = try writer.write(updates)
            health.succeeded()
            return value
        } catch {
            throw classify(error, writing: true)
        }
    }

    /// The same, suspending while another transaction holds the writer.
    func write<T: Sendable>(_ updates: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            let value = try await writer.write(updates)
            health.succeeded()
            return value
        } catch {
            throw classify(error, writing: true)
        }
    }

    /// A read on a snapshot; an I/O failure is `.unavailable` too.
    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(value)
        } catch {
            throw classify(error, writing: false)
        }
    }

    /// SQLite's result codes for conditions of the machine (full disk, I/O, locks, read-only)
    /// become ``DriftStoreError/unavailable(_:message:)``; every other error passes unchanged.
    private func classify(_ error: any Error, writing: Bool) -> any Error {
        guard let e = error as? DatabaseError else { return error }
        let fault: StoreFault
        switch e.resultCode {
        case .SQLITE_FULL: fault = .diskFull
        case .SQLITE_IOERR, .SQLITE_CANTOPEN: fault = .ioError
        case .SQLITE_BUSY, .SQLITE_LOCKED: fault = .busy
        case .SQLITE_READONLY: fault = .readOnly
        default: return error
        }
        let message = e.message ?? "SQLite error \(e.resultCode.rawValue)"
        if writing { health.failed(fault, message: message) }
        return DriftStoreError.unavailable(fault, message: message)
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "driftwatch.store"
        // Another process (sqlite3 CLI, a backup) may hold a lock briefly: wait, don't fail.
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            // Keep the WAL file from staying huge after a burst; 64 MiB.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // The id index is a B-tree keyed by (model, prediction id) that every batch
            // touches at random places: a larger page cache on the writer keeps it resident.
            // Negative = KiB: 64 MiB for the writer, SQLite's default 2 MiB for readers.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -65536")
            }
        }
        return config
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "\(error)")"
        }
        if let error = error as? DriftStoreError { return error.description }
        let nsError = error as NSError
        // Foundation's file errors wrap the errno that says what actually went wrong.
        if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return nsError.localizedDescription
    }

    /// Names the path component that stops directory creation (Foundation's own message
    /// is often just "error 512").
    static func diagnose(_ directory: URL, _ error: any Error) -> String {
        var current = directory.standardizedFileURL
        while current.path != "/" && !current.path.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: current.path, isDirectory: &isDirectory) {
                if !isDirectory.boolValue { return "\(current.path) exists and is not a directory" }
                if !FileManager.default.isWritableFile(atPath: current.path) {
                    return "\(current.path) is not writable"
                }
                break
            }
            current = current.deletingLastPathComponent()
        }
        return describe(error)
    }

    /// Reads a pragma on the writer connection (tests check durability settings with it).
    func pragma(_ name: String) throws -> String? {
        try writer.writeWithoutTransaction { db in
            try String.fetchOne(db, sql: "PRAGMA \(name)")
        }
    }
}

// MARK: - Helpers shared by the extensions

extension Date {
    /// Stored form of a Date: REAL Unix seconds.
    var unixSeconds: Double { timeIntervalSince1970 }
    init(unixSeconds: Double) { self.init(timeIntervalSince1970: unixSeconds) }
}

extension Row {
    func date(_ column: String) throws -> Date {
        Date(unixSeconds: try decode(Double.self, forColumn: column))
    }
    func optionalDate(_ column: String) throws -> Date? {
        try decode(Double?.self, forColumn: column).map(Date.init(unixSeconds:))
    }
}

extension DatabaseError {
    var isForeignKeyViolation: Bool { extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY }
    var isUniqueViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
            || extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
    }
}

/// Runs `body`, turning a foreign-key violation into `.unknownModel(model)`: every
/// model-owned table references `models(name)`.
func requiringModel<T>(_ model: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DatabaseError where error.isForeignKeyViolation {
        throw DriftStoreError.unknownModel(model)
    }
}
