import DriftCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Records which MLflow run (and model version) a baseline version came from.
    public func saveMLflowLink(model: String, _ record: MLflowLinkRecord) throws {
        let json = try StoredJSON.encode(record.link)
        let baselineVersion = record.baselineVersion
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO mlflow_links (model, baseline_version, link_json) VALUES (?, ?, ?)",
                arguments: [model, baselineVersion, json])
        }
    }

    /// The MLflow link of the model's newest baseline that has one.
    public func mlflowLink(model: String) throws -> MLflowLinkRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT baseline_version, link_json FROM mlflow_links WHERE model = ? ORDER BY baseline_version DESC LIMIT 1",
                arguments: [model]
            ).map { row in
                let version: Int = try row.decode(forColumn: "baseline_version")
                return MLflowLinkRecord(
                    baselineVersion: version,
                    link: try StoredJSON.decode(MLflowLink.self, try row.decode(forColumn: "link_json"), table: "mlflow_links",
                                                key: "\(model) v\(version)"))
            }
        }
    }

    /// The newest registry version already seen (versions up to it are not new candidates).
    public func mlflowLastVersion(model: String) throws -> Int? {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT last_version FROM mlflow_registry WHERE model = ?", arguments: [model])
        }
    }

    /// Moves the watermark forward (never back).
    public func setMLflowLastVersion(model: String, version: Int) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO mlflow_registry (model, last_version) VALUES (?, ?)
                    ON CONFLICT(model) DO UPDATE SET last_version = max(last_version, excluded.last_version)
                    """,
                arguments: [model, version])
        }
    }
}
