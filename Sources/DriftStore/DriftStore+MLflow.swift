import Foundation
import GRDB

extension DriftStore {
    /// Records which MLflow run (and model version) a baseline came from (JSON, the service's shape).
    public func saveMLflowLink(model: String, baselineVersion: Int, json: String) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO mlflow_links (model, baseline_version, link_json) VALUES (?, ?, ?)",
                arguments: [model, baselineVersion, json])
        }
    }

    /// The MLflow link of the model's newest baseline that has one.
    public func mlflowLink(model: String) throws -> (baselineVersion: Int, json: String)? {
        try writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT baseline_version, link_json FROM mlflow_links WHERE model = ? ORDER BY baseline_version DESC LIMIT 1",
                arguments: [model]
            ).map { (try $0.decode(forColumn: "baseline_version"), try $0.decode(forColumn: "link_json")) }
        }
    }

    /// The newest registry version already seen (versions up to it are not new candidates).
    public func mlflowLastVersion(model: String) throws -> Int? {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT last_version FROM mlflow_registry WHERE model = ?", arguments: [model])
        }
    }

    /// Moves the watermark forward (never back).
    public func setMLflowLastVersion(model: String, version: Int) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO mlflow_registry (model, last_version) VALUES (?, ?)
                    ON CONFLICT(model) DO UPDATE SET last_version = max(last_version, excluded.last_version)
                    """,
                arguments: [model, version])
        }
    }
}
