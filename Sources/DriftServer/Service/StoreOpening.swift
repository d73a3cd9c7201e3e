import DriftStore
import Foundation
import Logging

extension ServerConfiguration {
    /// The store for logs and messages: the PostgreSQL URL without its password, or the SQLite directory.
    public var storeDescription: String {
        if let store {
            do {
                return try PostgresLocation(url: store).description
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
        if migrateOnStart { return try PostgresStore(location: location, migrate: true, logger: storeLogger) }
        var warned = false
        while true {
            do {
                return try PostgresStore(location: location, migrate: false, logger: storeLogger)
            } catch DriftStoreError.schemaBehind(let message) {
                if !warned { logger.warning("not ready: \(message)") }
                warned = true
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }
}
