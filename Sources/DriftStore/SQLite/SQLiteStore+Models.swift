import DriftCore
import Foundation
import GRDB

// Models and their versioned baselines.
extension SQLiteStore {
    /// Creates the model or replaces its settings; `createdAt` is kept on update.
    @discardableResult
    public func upsertModel(name: String, settings: ModelSettings, now: Date) throws -> ModelRecord {
        guard !name.isEmpty else { throw DriftStoreError.invalidArgument("model name is empty") }
        let settingsJSON = try StoredJSON.encode(settings)
        return try write { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    INSERT INTO models (name, settings_json, created_at, updated_at)
                    VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET
                        settings_json = excluded.settings_json, updated_at = excluded.updated_at
                    RETURNING name, settings_json, created_at, updated_at
                    """,
                arguments: [name, settingsJSON, now.unixSeconds, now.unixSeconds])
            guard let row else { throw DriftStoreError.notFound("model '\(name)' after upsert") }
            return try ModelRecord(row: row)
        }
    }

    public func model(named name: String) throws -> ModelRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM models WHERE name = ?", arguments: [name]
            ).map(ModelRecord.init(row:))
        }
    }

    /// All models, by name.
    public func models() throws -> [ModelRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY name").map(ModelRecord.init(row:))
        }
    }

    /// Deletes the model and everything of it (baselines, batches, id index, windows,
    /// episodes and transitions, outbox actions). Returns false when there was no such model.
    @discardableResult
    public func deleteModel(named name: String) throws -> Bool {
        try write { db in
            // batch_ids has no foreign key (hot path), so it is cleared explicitly; everything
            // else cascades from models(name). Index generations that held only this model's
            // batches are dropped; entries in shared ones fail verification from now on.
            try db.execute(sql: "DELETE FROM batch_ids WHERE model = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM models WHERE name = ?", arguments: [name])
            let deleted = db.changesCount > 0
            try Self.dropEmptyIDGenerations(db)
            return deleted
        }
    }

    // MARK: Baselines

    /// Stores a new baseline as the model's next version (1, 2, …).
    public func insertBaseline(
        model: String, source: String, profile: BaselineProfile, upload: BaselineUpload, now: Date
    ) throws -> BaselineRecord {
        let rows = profile.rows
        guard rows >= 0 else { throw DriftStoreError.invalidArgument("baseline rows \(rows) < 0") }
        let blob = Data(BaselineCodec.encode(profile))
        let metadataJSON = try StoredJSON.encode(upload)
        return try requiringModel(model) {
            try write { db in
                // The writer is serialized, so MAX+1 cannot race with another insert.
                let last = try Int.fetchOne(
                    db, sql: "SELECT MAX(version) FROM baselines WHERE model = ?", arguments: [model])
                let record = BaselineRecord(
                    model: model, version: (last ?? 0) + 1, createdAt: now, source: source, profile: profile, upload: upload)
                try db.execute(
                    sql: """
                        INSERT INTO baselines (model, version, created_at, source, rows, profile, metadata_json)
                        VALUES (?, ?, ?, ?, ?, COALESCE(?, x''), ?)
                        """,
                    // COALESCE: GRDB binds an empty Data as NULL (no base address).
                    arguments: [
                        model, record.version, now.unixSeconds, source, rows, blob, metadataJSON,
                    ])
                return record
            }
        }
    }

    public func latestBaseline(model: String) throws -> BaselineRecord? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM baselines WHERE model = ? ORDER BY version DESC LIMIT 1",
                arguments: [model]
            ).map(BaselineRecord.init(row:))
        }
    }

    /// A specific version, with its profile.
    public func baseline(model: String, version: Int) throws -> BaselineRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM baselines WHERE model = ? AND version = ?",
                arguments: [model, version]
            ).map(BaselineRecord.init(row:))
        }
    }

    /// All versions of the model's baseline, oldest first, without the profile blobs.
    public func baselineVersions(model: String) throws -> [BaselineSummary] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT model, version, created_at, source, rows, metadata_json
                    FROM baselines WHERE model = ? ORDER BY version
                    """,
                arguments: [model]
            ).map(BaselineSummary.init(row:))
        }
    }
}

extension ModelRecord {
    init(row: Row) throws {
        let name: String = try row.decode(forColumn: "name")
        self.init(
            name: name,
            settings: try StoredJSON.decode(ModelSettings.self, try row.decode(forColumn: "settings_json"), table: "models", key: name),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}

extension BaselineRecord {
    init(row: Row) throws {
        let model: String = try row.decode(forColumn: "model")
        let version: Int = try row.decode(forColumn: "version")
        let blob: Data = try row.decode(forColumn: "profile")
        let profile: BaselineProfile
        do {
            profile = try BaselineCodec.decode(Array(blob))
        } catch {
            throw DriftStoreError.corruptRecord(table: "baselines", key: "\(model) v\(version)", reason: "profile: \(error)")
        }
        self.init(
            model: model, version: version, createdAt: try row.date("created_at"), source: try row.decode(forColumn: "source"),
            profile: profile,
            upload: try StoredJSON.decode(BaselineUpload.self, try row.decode(forColumn: "metadata_json"), table: "baselines",
                                          key: "\(model) v\(version)"))
    }
}

extension BaselineSummary {
    init(row: Row) throws {
        let model: String = try row.decode(forColumn: "model")
        let version: Int = try row.decode(forColumn: "version")
        self.init(
            model: model, version: version, createdAt: try row.date("created_at"), source: try row.decode(forColumn: "source"),
            rows: try row.decode(forColumn: "rows"),
            upload: try StoredJSON.decode(BaselineUpload.self, try row.decode(forColumn: "metadata_json"), table: "baselines",
                                          key: "\(model) v\(version)"))
    }
}
