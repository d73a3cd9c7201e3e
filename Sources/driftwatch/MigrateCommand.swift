import ArgumentParser
import DriftStore
import Foundation

/// `driftwatch migrate`: brings a PostgreSQL store's schema up to date, or copies an embedded
/// SQLite store into an empty PostgreSQL one (moving a single-node install to replicas).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply PostgreSQL schema migrations, or copy a SQLite store into PostgreSQL.",
        discussion: """
            driftwatch migrate --store postgres://user@host:5432/db
                applies the migrations the database lacks (under an advisory lock, so replicas \
            starting at the same time are safe) and prints them.
            driftwatch migrate --from ./driftwatch-data --to postgres://user@host:5432/db
                also copies every model, baseline, batch, window, episode, label, action and \
            candidate of the SQLite store in DIR, keeping their ids, into the (empty) database. \
            Stop the single-node service first: rows it writes during the copy are not copied.
            """)

    @Option(help: "PostgreSQL store to migrate in place.") var store: String?
    @Option(help: "SQLite data directory to copy from (the serve --data-dir).") var from: String?
    @Option(help: "PostgreSQL store to copy into (must hold no model).") var to: String?

    func validate() throws {
        switch (store, from, to) {
        case (.some, nil, nil), (nil, .some, .some): return
        default: throw ValidationError("give --store URL (schema only) or --from DIR --to URL (copy)")
        }
    }

    func run() throws {
        let url = store ?? to ?? ""
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: url)
        } catch let e as DriftStoreError {
            throw UserFacingError(message: e.description)
        }
        let target: PostgresStore
        do {
            target = try PostgresStore(location: location, migrate: true)
        } catch let e as DriftStoreError {
            throw UserFacingError(message: e.description)
        }
        defer { try? target.close() }  // closing after the work: nothing left to report
        print("\(location): schema current (\(PostgresStore.schemaMigrations.count) migrations)")
        guard let from else { return }
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: from).appendingPathComponent(SQLiteStore.fileName).path) else {
            throw UserFacingError(message: "--from \(from) holds no \(SQLiteStore.fileName): give the serve --data-dir of the SQLite store")
        }
        do {
            let source = try SQLiteStore(directory: from)
            defer { try? source.close() }  // idem
            let report = try StoreCopy.copy(from: source, to: target) { table, rows in
                print("  \(table): \(rows) rows")
            }
            print("copied \(report.tables.map(\.rows).reduce(0, +)) rows from \(from) into \(location)")
        } catch let e as DriftStoreError {
            throw UserFacingError(message: e.description)
        }
    }
}
