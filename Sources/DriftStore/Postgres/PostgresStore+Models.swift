import DriftCore
import Foundation
import PostgresNIO

// Models, their versioned baselines and per-baseline references, MLflow links.
extension PostgresStore {
    @discardableResult
    public func upsertModel(name: String, settings: ModelSettings, now: Date) throws -> ModelRecord {
        guard !name.isEmpty else { throw DriftStoreError.invalidArgument("model name is empty") }
        let settingsJSON = try StoredJSON.encode(settings)
        let t = now.timeIntervalSince1970
        return try write { s in
            guard let row = try s.rows("""
                INSERT INTO models (name, settings_json, created_at, updated_at) VALUES (\(name), \(settingsJSON), \(t), \(t))
                ON CONFLICT (name) DO UPDATE SET settings_json = excluded.settings_json, updated_at = excluded.updated_at
                RETURNING name, settings_json, created_at, updated_at
                """).first
            else { throw DriftStoreError.notFound("model '\(name)' after upsert") }
            return try ModelRecord(postgres: row)
        }
    }

    public func model(named name: String) throws -> ModelRecord? {
        try read { s in
            try s.rows("SELECT name, settings_json, created_at, updated_at FROM models WHERE name = \(name)").first.map(ModelRecord.init(postgres:))
        }
    }

    public func models() throws -> [ModelRecord] {
        try read { s in
            try s.rows("SELECT name, settings_json, created_at, updated_at FROM models ORDER BY name").map(ModelRecord.init(postgres:))
        }
    }

    /// Deletes the model and everything of it; the prediction-key index keeps stale entries,
    /// which fail verification against their (deleted) batch and go with their partition.
    @discardableResult
    public func deleteModel(named name: String) throws -> Bool {
        try write { s in try s.execute("DELETE FROM models WHERE name = \(name)") > 0 }
    }

    // MARK: baselines

    public func insertBaseline(model: String, source: String, profile: BaselineProfile, upload: BaselineUpload, now: Date) throws -> BaselineRecord {
        let rows = profile.rows
        guard rows >= 0 else { throw DriftStoreError.invalidArgument("baseline rows \(rows) < 0") }
        let blob = Data(BaselineCodec.encode(profile))
        let metadataJSON = try StoredJSON.encode(upload)
        let t = now.timeIntervalSince1970
        return try requiringModel(model) {
            try write { s in
                // The model's row lock serializes concurrent uploads (other replicas included),
                // so MAX + 1 cannot race.
                guard try s.value("SELECT name FROM models WHERE name = \(model) FOR UPDATE", as: String.self) != nil else {
                    throw DriftStoreError.unknownModel(model)
                }
                let last = try s.value("SELECT MAX(version) FROM baselines WHERE model = \(model)", as: Int?.self) ?? nil
                let version = (last ?? 0) + 1
                try s.execute("""
                    INSERT INTO baselines (model, version, created_at, source, rows, profile, metadata_json)
                    VALUES (\(model), \(version), \(t), \(source), \(rows), \(blob), \(metadataJSON))
                    """)
                return BaselineRecord(model: model, version: version, createdAt: now, source: source, profile: profile, upload: upload)
            }
        }
    }

    public func latestBaseline(model: String) throws -> BaselineRecord? {
        try read { s in
            try s.rows("""
                SELECT model, version, created_at, source, rows, profile, metadata_json FROM baselines
                WHERE model = \(model) ORDER BY version DESC LIMIT 1
                """).first.map(BaselineRecord.init(postgres:))
        }
    }

    public func baseline(model: String, version: Int) throws -> BaselineRecord? {
        try read { s in
            try s.rows("""
                SELECT model, version, created_at, source, rows, profile, metadata_json FROM baselines
                WHERE model = \(model) AND version = \(version)
                """).first.map(BaselineRecord.init(postgres:))
        }
    }

    public func baselineVersions(model: String) throws -> [BaselineSummary] {
        try read { s in
            try s.rows("""
                SELECT model, version, created_at, source, rows, metadata_json FROM baselines
                WHERE model = \(model) ORDER BY version
                """).map(BaselineSummary.init(postgres:))
        }
    }

    // MARK: per-baseline references

    public func saveQualityBaseline(model: String, _ baseline: QualityBaseline) throws {
        try saveReference(baseline, version: baseline.baselineVersion, model: model, table: "quality_baselines", column: "report_json")
    }

    public func qualityBaseline(model: String) throws -> QualityBaseline? {
        try newestReference(QualityBaseline.self, model: model, table: "quality_baselines", column: "report_json")
    }

    public func saveMultivariateBaseline(model: String, _ baseline: MultivariateBaseline) throws {
        try saveReference(baseline, version: baseline.baselineVersion, model: model, table: "multivariate_baselines", column: "model_json")
    }

    public func multivariateBaseline(model: String) throws -> MultivariateBaseline? {
        try newestReference(MultivariateBaseline.self, model: model, table: "multivariate_baselines", column: "model_json")
    }

    public func saveMLflowLink(model: String, _ record: MLflowLinkRecord) throws {
        try saveReference(record.link, version: record.baselineVersion, model: model, table: "mlflow_links", column: "link_json")
    }

    public func mlflowLink(model: String) throws -> MLflowLinkRecord? {
        try read { s in
            try s.rows("SELECT baseline_version, link_json FROM mlflow_links WHERE model = \(model) ORDER BY baseline_version DESC LIMIT 1")
                .first.map { row in
                    let (version, json) = try row.decode((Int, String).self)
                    return MLflowLinkRecord(
                        baselineVersion: version,
                        link: try StoredJSON.decode(MLflowLink.self, json, table: "mlflow_links", key: "\(model) v\(version)"))
                }
        }
    }

    public func mlflowLastVersion(model: String) throws -> Int? {
        try read { s in try s.value("SELECT last_version FROM mlflow_registry WHERE model = \(model)", as: Int.self) }
    }

    public func setMLflowLastVersion(model: String, version: Int) throws {
        try requiringModel(model) {
            try write { s in
                try s.execute("""
                    INSERT INTO mlflow_registry (model, last_version) VALUES (\(model), \(version))
                    ON CONFLICT (model) DO UPDATE SET last_version = GREATEST(mlflow_registry.last_version, excluded.last_version)
                    """)
            }
        }
    }

    /// A per-baseline-version reference as JSON in `table.column` (table and column are this
    /// file's constants, never input).
    private func saveReference<T: Encodable>(_ value: T, version: Int, model: String, table: String, column: String) throws {
        let json = try StoredJSON.encode(value)
        try requiringModel(model) {
            try write { s in
                try s.execute("""
                    INSERT INTO \(unescaped: table) (model, baseline_version, \(unescaped: column)) VALUES (\(model), \(version), \(json))
                    ON CONFLICT (model, baseline_version) DO UPDATE SET \(unescaped: column) = excluded.\(unescaped: column)
                    """)
            }
        }
    }

    private func newestReference<T: Decodable>(_ type: T.Type, model: String, table: String, column: String) throws -> T? {
        try read { s in
            try s.rows("""
                SELECT baseline_version, \(unescaped: column) FROM \(unescaped: table) WHERE model = \(model)
                ORDER BY baseline_version DESC LIMIT 1
                """).first.map { row in
                let (version, json) = try row.decode((Int, String).self)
                return try StoredJSON.decode(T.self, json, table: table, key: "\(model) v\(version)")
            }
        }
    }
}

extension ModelRecord {
    init(postgres row: PostgresRow) throws {
        let (name, json, created, updated) = try row.decode((String, String, Double, Double).self)
        self.init(
            name: name, settings: try StoredJSON.decode(ModelSettings.self, json, table: "models", key: name),
            createdAt: Date(timeIntervalSince1970: created), updatedAt: Date(timeIntervalSince1970: updated))
    }
}

extension BaselineRecord {
    init(postgres row: PostgresRow) throws {
        let (model, version, created, source, _, blob, metadata) = try row.decode((String, Int, Double, String, Int, Data, String).self)
        let key = "\(model) v\(version)"
        let profile: BaselineProfile
        do {
            profile = try BaselineCodec.decode(Array(blob))
        } catch {
            throw DriftStoreError.corruptRecord(table: "baselines", key: key, reason: "profile: \(error)")
        }
        self.init(
            model: model, version: version, createdAt: Date(timeIntervalSince1970: created), source: source, profile: profile,
            upload: try StoredJSON.decode(BaselineUpload.self, metadata, table: "baselines", key: key))
    }
}

extension BaselineSummary {
    init(postgres row: PostgresRow) throws {
        let (model, version, created, source, rows, metadata) = try row.decode((String, Int, Double, String, Int, String).self)
        self.init(
            model: model, version: version, createdAt: Date(timeIntervalSince1970: created), source: source, rows: rows,
            upload: try StoredJSON.decode(BaselineUpload.self, metadata, table: "baselines", key: "\(model) v\(version)"))
    }
}
