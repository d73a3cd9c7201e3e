import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema as named migrations, applied in order by whichever replica starts
/// first, under an advisory lock (other replicas wait on the lock, then find nothing to do).
/// Never edit a shipped migration: add one. Conventions match the SQLite backend so records
/// map one to one (and `driftwatch migrate` copies rows unchanged): times are `float8` Unix
/// seconds, domain values are JSON text, every model-owned table references
/// `models(name) ON DELETE CASCADE` except the prediction-key index (see
/// PostgresStore+PredictionIndex.swift).
enum PostgresSchema {
    /// A migration: its name (stored in `driftwatch_migrations`) and its statements.
    struct Migration {
        var name: String
        var statements: [String]
    }

    /// `pg_advisory_lock` key under which migrations run ("drif" "tmig").
    static let migrationLock: Int64 = 0x6472_6966_746D_6967

    static let migrations: [Migration] = [
        Migration(name: "pg1-models-baselines", statements: [
            """
            CREATE TABLE models (
                name          text PRIMARY KEY,
                settings_json text NOT NULL,
                created_at    float8 NOT NULL,
                updated_at    float8 NOT NULL
            )
            """,
            """
            CREATE TABLE baselines (
                model         text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                version       integer NOT NULL CHECK (version >= 1),
                created_at    float8 NOT NULL,
                source        text NOT NULL,
                rows          bigint NOT NULL,
                profile       bytea NOT NULL,
                metadata_json text NOT NULL,
                PRIMARY KEY (model, version)
            )
            """,
            """
            CREATE TABLE quality_baselines (
                model            text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                baseline_version integer NOT NULL,
                report_json      text NOT NULL,
                PRIMARY KEY (model, baseline_version)
            )
            """,
            """
            CREATE TABLE multivariate_baselines (
                model            text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                baseline_version integer NOT NULL,
                model_json       text NOT NULL,
                PRIMARY KEY (model, baseline_version)
            )
            """,
            """
            CREATE TABLE mlflow_links (
                model            text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                baseline_version integer NOT NULL,
                link_json        text NOT NULL,
                PRIMARY KEY (model, baseline_version)
            )
            """,
            """
            CREATE TABLE mlflow_registry (
                model        text PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
                last_version integer NOT NULL
            )
            """,
        ]),
        Migration(name: "pg1-batches", statements: [
            // One row per batch: the opaque payload and the blob of its prediction ids. Ids come
            // from an identity column and, per model, are taken under a per-model advisory lock
            // in the inserting transaction, so a model's batch ids grow in commit order (a reader
            // that has seen batch n never later finds a batch < n) — see appendBatch.
            """
            CREATE TABLE batches (
                id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                model            text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                received_at      float8 NOT NULL,
                rows             integer NOT NULL CHECK (rows >= 0),
                first_event_time float8,
                last_event_time  float8,
                idempotency_key  text,
                payload          bytea NOT NULL,
                ids              bytea
            )
            """,
            // Out of line, uncompressed: the payload is already a compact binary encoding of
            // doubles, which pglz barely shrinks while costing PostgreSQL ~8 ms of CPU per
            // 130 KB batch (bench/postgres-ingest.sh, protobuf: PostgreSQL CPU 19 → 7.8 ms per 1,000
            // observations, 47k → 100k observations/s).
            "ALTER TABLE batches ALTER COLUMN payload SET STORAGE EXTERNAL, ALTER COLUMN ids SET STORAGE EXTERNAL",
            "CREATE INDEX batches_by_model ON batches (model, id)",
            "CREATE INDEX batches_by_received ON batches (received_at)",
            "CREATE UNIQUE INDEX batches_by_key ON batches (model, idempotency_key) WHERE idempotency_key IS NOT NULL",
            // Batches whose ids are not in `prediction_keys` yet (the background indexer's queue).
            """
            CREATE TABLE unindexed_batches (
                batch_id bigint PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
                model    text NOT NULL
            )
            """,
            "CREATE INDEX unindexed_batches_by_model ON unindexed_batches (model, batch_id)",
            // The id index: 64-bit key of (model, id) → batch and row, partitioned by the batch's
            // receive time, one partition per UTC day, created by the indexer and dropped whole
            // by retention. No foreign key: a hit is verified against the batch's own ids.
            """
            CREATE TABLE prediction_keys (
                key         bigint NOT NULL,
                batch_id    bigint NOT NULL,
                row         integer NOT NULL,
                received_at float8 NOT NULL
            ) PARTITION BY RANGE (received_at)
            """,
            "CREATE INDEX prediction_keys_by_key ON prediction_keys (key)",
        ]),
        Migration(name: "pg1-windows-episodes", statements: [
            """
            CREATE TABLE windows (
                model          text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                seq            integer NOT NULL,
                started_at     float8 NOT NULL,
                ended_at       float8 NOT NULL,
                first_batch_id bigint NOT NULL,
                last_batch_id  bigint NOT NULL,
                rows           bigint NOT NULL,
                drifted        boolean NOT NULL,
                drift_share    float8 NOT NULL,
                report_json    text NOT NULL,
                PRIMARY KEY (model, seq)
            )
            """,
            """
            CREATE TABLE episodes (
                id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                model           text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                kind            text NOT NULL,
                state           text NOT NULL,
                opened_at       float8 NOT NULL,
                confirmed_at    float8,
                resolved_at     float8,
                last_window_seq integer NOT NULL,
                evidence_json   text NOT NULL
            )
            """,
            "CREATE INDEX episodes_by_model ON episodes (model, id)",
            """
            CREATE TABLE episode_transitions (
                id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                episode_id    bigint NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
                model         text NOT NULL,
                from_state    text NOT NULL,
                to_state      text NOT NULL,
                at            float8 NOT NULL,
                window_seq    integer NOT NULL,
                evidence_json text NOT NULL
            )
            """,
            "CREATE INDEX episode_transitions_by_episode ON episode_transitions (episode_id, id)",
        ]),
        Migration(name: "pg1-labels-quality", statements: [
            """
            CREATE TABLE labels (
                model         text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                prediction_id text NOT NULL,
                label         float8 NOT NULL,
                label_ts      float8,
                received_at   float8 NOT NULL,
                state         text NOT NULL CHECK (state IN ('pending', 'joined', 'unmatched')),
                batch_id      bigint,
                row           integer,
                endpoint      text,
                score         float8,
                segment       text,
                PRIMARY KEY (model, prediction_id)
            )
            """,
            "CREATE INDEX labels_pending ON labels (model, received_at) WHERE state = 'pending'",
            "CREATE INDEX labels_by_batch ON labels (model, batch_id) WHERE state = 'joined'",
            """
            CREATE TABLE window_quality (
                model       text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                seq         integer NOT NULL,
                report_json text NOT NULL,
                updated_at  float8 NOT NULL,
                PRIMARY KEY (model, seq)
            )
            """,
        ]),
        Migration(name: "pg1-outbox-remediation", statements: [
            """
            CREATE TABLE outbox (
                id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                model           text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                kind            text NOT NULL,
                key             text NOT NULL UNIQUE,
                payload_json    text NOT NULL,
                state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at float8 NOT NULL,
                last_error      text,
                created_at      float8 NOT NULL,
                updated_at      float8 NOT NULL,
                episode_id      bigint REFERENCES episodes(id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX outbox_by_model ON outbox (model, id)",
            "CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending'",
            "CREATE INDEX outbox_by_episode ON outbox (episode_id) WHERE episode_id IS NOT NULL",
            """
            CREATE TABLE remediations (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                model      text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                episode_id bigint,
                kind       text NOT NULL,
                name       text NOT NULL,
                state      text NOT NULL,
                detail     text,
                created_at float8 NOT NULL,
                updated_at float8 NOT NULL,
                UNIQUE (model, kind, name)
            )
            """,
            "CREATE INDEX remediations_by_episode ON remediations (episode_id) WHERE episode_id IS NOT NULL",
            """
            CREATE TABLE candidates (
                model          text NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                version        text NOT NULL,
                model_uri      text NOT NULL,
                metrics_json   text NOT NULL,
                episode_id     bigint,
                shadow_name    text NOT NULL,
                verdict        text NOT NULL,
                decision_json  text,
                created_at     float8 NOT NULL,
                updated_at     float8 NOT NULL,
                mlflow_version text,
                seq            bigint GENERATED ALWAYS AS IDENTITY,
                PRIMARY KEY (model, version)
            )
            """,
            "CREATE TABLE store_probe (id integer PRIMARY KEY, at float8 NOT NULL, pad bytea)",
        ]),
        Migration(name: "pg2-serve-lease", statements: [
            // Which process serves the database, and the epoch that fences every write of an
            // earlier holder (PostgresServeLease.swift).
            """
            CREATE TABLE serve_lease (
                id     integer PRIMARY KEY CHECK (id = 1),
                epoch  bigint NOT NULL,
                holder text NOT NULL,
                since  float8 NOT NULL
            )
            """,
        ]),
    ]

    /// Applies the migrations this binary knows and the database lacks, under the advisory
    /// lock. A database holding a migration this binary does not know was migrated by a newer
    /// driftwatch: refused, with what to do. Returns the names applied.
    static func migrate(_ connection: PostgresConnection, logger: Logger) throws -> [String] {
        _ = try connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger).wait()
        defer { _ = connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger) }
        _ = try connection.query("""
            CREATE TABLE IF NOT EXISTS driftwatch_migrations (
                name text PRIMARY KEY, applied_at float8 NOT NULL, seq integer NOT NULL)
            """, logger: logger).wait()
        let applied = try appliedMigrations(connection, logger: logger)
        try checkNotNewer(applied)
        var done: [String] = []
        for (index, migration) in migrations.enumerated() where !applied.contains(migration.name) {
            _ = try connection.query("BEGIN", logger: logger).wait()
            do {
                for statement in migration.statements {
                    _ = try connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).wait()
                }
                let now = Date().timeIntervalSince1970
                _ = try connection.query(
                    "INSERT INTO driftwatch_migrations (name, applied_at, seq) VALUES (\(migration.name), \(now), \(index + 1))",
                    logger: logger
                ).wait()
                _ = try connection.query("COMMIT", logger: logger).wait()
            } catch {
                _ = try? connection.query("ROLLBACK", logger: logger).wait()  // the migration's own error is the one to report
                throw error
            }
            done.append(migration.name)
        }
        return done
    }

    /// How the database's schema compares with this binary's.
    enum Status: Equatable {
        case current
        /// Migrations this binary would apply.
        case behind(missing: [String])
    }

    /// The schema's status without changing it (a newer schema throws, as in ``migrate``).
    static func status(_ connection: PostgresConnection, logger: Logger) throws -> Status {
        let exists = try connection.query("SELECT to_regclass('driftwatch_migrations') IS NOT NULL", logger: logger)
            .wait().rows.first?.decode(Bool.self) ?? false
        let applied = exists ? try appliedMigrations(connection, logger: logger) : []
        try checkNotNewer(applied)
        let missing = migrations.map(\.name).filter { !applied.contains($0) }
        return missing.isEmpty ? .current : .behind(missing: missing)
    }

    private static func appliedMigrations(_ connection: PostgresConnection, logger: Logger) throws -> Set<String> {
        Set(try connection.query("SELECT name FROM driftwatch_migrations", logger: logger).wait().rows.map { try $0.decode(String.self) })
    }

    private static func checkNotNewer(_ applied: Set<String>) throws {
        let known = Set(migrations.map(\.name))
        let unknown = applied.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw DriftStoreError.schemaTooNew(
                "the database schema has migrations this driftwatch does not know (\(unknown.joined(separator: ", "))): "
                    + "it was migrated by a newer driftwatch; run that version (or newer) against it")
        }
    }
}
