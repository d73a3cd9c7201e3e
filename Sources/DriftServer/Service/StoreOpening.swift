import DriftStore
import Foundation
import Logging

extension ServerConfiguration {
    /// The store for logs and messages: the PostgreSQL URL without its password, or the SQLite directory.
    public var storeDescription: String {
        if let store {
            do {
                return try PostgresLocation(url: store, resolvingPassword: false).description
            } catch {
                return "postgres (\(error))"
            }
        }
        return "sqlite:\(dataDir)"
    }

    /// Opens the configured store: PostgreSQL when `store` is set, else SQLite in `data_dir`.
    /// With `migrate_on_start: false`, a PostgreSQL schema that is behind is waited for (the
    /// replica does not listen, so it is not ready) until `driftwatch migrate` has run.
    func openStore(logger: Logger) throws -> any Store {
        guard let url = store else {
            return try SQLiteStore(directory: dataDir, durability: durability)
        }
        let location = try PostgresLocation(url: url)
        var storeLogger = logger
        storeLogger[metadataKey: "store"] = "\(location)"
        let store = try openPostgres(location, logger: storeLogger)
        // One serving process per database until replicas share models: a second replica is a
        // hot standby that waits here, not listening (so not ready), and takes over when the
        // holder dies. A process that finds itself replaced exits: its state is stale.
        try store.serveExclusively(
            waiting: { logger.notice("standby: another driftwatch serves \(location); taking over when it stops") },
            fenced: { message in
                logger.critical("stepping down: \(message)")
                exit(75)
            })
        return store
    }

    private func openPostgres(_ location: PostgresLocation, logger: Logger) throws -> PostgresStore {
        if migrateOnStart { return try PostgresStore(location: location, migrate: true, logger: logger) }
        var warned = false
        while true {
            do {
                return try PostgresStore(location: location, migrate: false, logger: logger)
            } catch DriftStoreError.schemaBehind(let message) {
                if !warned { logger.warning("not ready: \(message)") }
                warned = true
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }
}
