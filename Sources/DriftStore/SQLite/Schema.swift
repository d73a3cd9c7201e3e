import GRDB

// Named migrations, applied in order by `DatabaseMigrator`. Never edit a shipped migration:
// add a new one. Conventions:
// - times are REAL Unix seconds (readable with SQLite's `datetime(x, 'unixepoch')`);
// - every table that belongs to a model references `models(name) ON DELETE CASCADE`, so that
//   deleting a model deletes everything of it in one statement (GRDB turns foreign keys on);
// - the prediction-id index (`batch_ids`, `prediction_keys_<gen>`) is the exception: a
//   foreign-key check per row would sit on the ingest hot path, so the store deletes those rows
//   itself (model delete, pruning).
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-models-baselines") { db in
            try db.execute(sql: """
                CREATE TABLE models (
                    name          TEXT NOT NULL PRIMARY KEY,
                    settings_json TEXT NOT NULL,
                    created_at    REAL NOT NULL,
                    updated_at    REAL NOT NULL
                );
                CREATE TABLE baselines (
                    model         TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    version       INTEGER NOT NULL CHECK (version >= 1),
                    created_at    REAL NOT NULL,
                    source        TEXT NOT NULL,
                    rows          INTEGER NOT NULL,
                    profile       BLOB NOT NULL,
                    metadata_json TEXT NOT NULL,
                    PRIMARY KEY (model, version)
                );
                """)
        }
        migrator.registerMigration("v1-batches") { db in
            // AUTOINCREMENT: batch ids are cursors (windows' first/last batch, "batches after
            // id"), so an id must never be reused after the newest rows are deleted.
            try db.execute(sql: """
                CREATE TABLE batches (
                    id               INTEGER PRIMARY KEY AUTOINCREMENT,
                    model            TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    received_at      REAL NOT NULL,
                    rows             INTEGER NOT NULL CHECK (rows >= 0),
                    first_event_time REAL,
                    last_event_time  REAL,
                    idempotency_key  TEXT,
                    payload          BLOB NOT NULL
                );
                CREATE INDEX batches_by_model ON batches(model, id);
                CREATE INDEX batches_by_received ON batches(model, received_at);
                CREATE UNIQUE INDEX batches_by_key ON batches(model, idempotency_key)
                    WHERE idempotency_key IS NOT NULL;
                CREATE TABLE prediction_ids (
                    model         TEXT NOT NULL,
                    prediction_id TEXT NOT NULL,
                    batch_id      INTEGER NOT NULL,
                    row           INTEGER NOT NULL,
                    PRIMARY KEY (model, prediction_id)
                ) WITHOUT ROWID;
                CREATE INDEX prediction_ids_by_batch ON prediction_ids(batch_id);
                """)
        }
        migrator.registerMigration("v1-windows-episodes") { db in
            try db.execute(sql: """
                CREATE TABLE windows (
                    model          TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    seq            INTEGER NOT NULL,
                    started_at     REAL NOT NULL,
                    ended_at       REAL NOT NULL,
                    first_batch_id INTEGER NOT NULL,
                    last_batch_id  INTEGER NOT NULL,
                    rows           INTEGER NOT NULL,
                    drifted        INTEGER NOT NULL CHECK (drifted IN (0, 1)),
                    drift_share    REAL NOT NULL,
                    report_json    TEXT NOT NULL,
                    PRIMARY KEY (model, seq)
                );
                CREATE TABLE episodes (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    model           TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    state           TEXT NOT NULL,
                    opened_at       REAL NOT NULL,
                    confirmed_at    REAL,
                    resolved_at     REAL,
                    last_window_seq INTEGER NOT NULL,
                    evidence_json   TEXT NOT NULL
                );
                CREATE INDEX episodes_by_model ON episodes(model, id);
                CREATE TABLE episode_transitions (
                    id            INTEGER PRIMARY KEY,
                    episode_id    INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
                    model         TEXT NOT NULL,
                    from_state    TEXT NOT NULL,
                    to_state      TEXT NOT NULL,
                    at            REAL NOT NULL,
                    window_seq    INTEGER NOT NULL,
                    evidence_json TEXT NOT NULL
                );
                CREATE INDEX episode_transitions_by_episode ON episode_transitions(episode_id, id);
                """)
        }
        migrator.registerMigration("v1-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    model           TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    kind            TEXT NOT NULL,
                    key             TEXT NOT NULL UNIQUE,
                    payload_json    TEXT NOT NULL,
                    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                    attempts        INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    last_error      TEXT,
                    created_at      REAL NOT NULL,
                    updated_at      REAL NOT NULL
                );
                CREATE INDEX outbox_by_model ON outbox(model);
                CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state <> 'delivered';
                """)
        }
        migrator.registerMigration("v2-deferred-id-index") { db in
            // Prediction ids of a new batch wait as one blob in `pending_ids` and are moved into
            // `prediction_ids` later, sorted, many batches per transaction: indexing 500 random
            // ids inside each ingest transaction wrote ~4 MB of index pages per batch and capped
            // durable ingest near 40k observations/s. A table of its own (not a column of
            // `batches`): clearing a column would rewrite the batch row and its payload blob.
            try db.execute(sql: """
                CREATE TABLE pending_ids (
                    batch_id INTEGER NOT NULL PRIMARY KEY,
                    model    TEXT NOT NULL,
                    ids      BLOB NOT NULL
                );
                CREATE INDEX pending_ids_by_model ON pending_ids(model, batch_id);
                """)
        }
        migrator.registerMigration("v3-id-generations") { db in
            // The single `prediction_ids` B-tree, keyed by random text ids, slowed down as it
            // outgrew the page cache (every insert a random page; measured 290k → 170k ids/s
            // over its first 3M ids) and took half of the one writer's time at 140k
            // observations/s. Instead: each batch keeps its ids blob for its lifetime
            // (`batch_ids`), and the index is a series of generations, small integer-keyed
            // tables that stay in cache while they fill and are dropped whole once pruning has
            // removed all their batches. See SQLiteStore+PredictionIndex.swift.
            try db.execute(sql: """
                ALTER TABLE pending_ids RENAME TO batch_ids;
                DROP INDEX pending_ids_by_model;
                CREATE INDEX batch_ids_by_model ON batch_ids(model, batch_id);
                CREATE TABLE id_index_state (
                    id              INTEGER PRIMARY KEY CHECK (id = 1),
                    indexed_through INTEGER NOT NULL
                );
                INSERT INTO id_index_state (id, indexed_through) VALUES (1, 0);
                CREATE TABLE id_generations (
                    gen            INTEGER PRIMARY KEY AUTOINCREMENT,
                    first_batch_id INTEGER NOT NULL,
                    last_batch_id  INTEGER NOT NULL,
                    ids            INTEGER NOT NULL
                );
                """)
            // Ids already moved into `prediction_ids` go back into their batches' blobs; the
            // indexer (starting from batch 0) then builds generations for every batch.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT batch_id, model, prediction_id, row FROM prediction_ids ORDER BY batch_id, row")
            let insert = try db.makeStatement(sql: "INSERT INTO batch_ids (batch_id, model, ids) VALUES (?, ?, ?)")
            var current: (batchID: Int64, model: String, ids: [(id: String, row: Int)])?
            func flush() throws {
                if let c = current { try insert.execute(arguments: [c.batchID, c.model, BatchIDs.encode(c.ids)]) }
            }
            while let r = try rows.next() {
                let batchID: Int64 = r[0]
                if current?.batchID != batchID {
                    try flush()
                    current = (batchID, r[1], [])
                }
                current?.ids.append((r[2], r[3]))
            }
            try flush()
            try db.execute(sql: "DROP TABLE prediction_ids")
        }
        migrator.registerMigration("v4-outbox-episode") { db in
            // Alert pushes and retraining hang off an episode's transitions; the episode's
            // JSON shows their delivery state.
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN episode_id INTEGER REFERENCES episodes(id) ON DELETE CASCADE;
                CREATE INDEX outbox_by_episode ON outbox(episode_id) WHERE episode_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v5-remediation") { db in
            // What driftwatch did about an episode (retraining runs, shadow scorers) and the
            // candidates it validated.
            try db.execute(sql: """
                CREATE TABLE remediations (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    model      TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    episode_id INTEGER,
                    kind       TEXT NOT NULL,
                    name       TEXT NOT NULL,
                    state      TEXT NOT NULL,
                    detail     TEXT,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    UNIQUE (model, kind, name)
                );
                CREATE INDEX remediations_by_episode ON remediations(episode_id) WHERE episode_id IS NOT NULL;
                CREATE TABLE candidates (
                    model         TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    version       TEXT NOT NULL,
                    model_uri     TEXT NOT NULL,
                    metrics_json  TEXT NOT NULL,
                    episode_id    INTEGER,
                    shadow_name   TEXT NOT NULL,
                    verdict       TEXT NOT NULL,
                    decision_json TEXT,
                    created_at    REAL NOT NULL,
                    updated_at    REAL NOT NULL,
                    PRIMARY KEY (model, version)
                );
                """)
        }
        migrator.registerMigration("v6-labels-quality") { db in
            // Delayed labels, joined to their prediction (batch, row) when it is found; the
            // prediction's score and segment are copied at the join so that a window's quality
            // is one indexed range read. Quality baselines (with the calibrator) and per-window
            // quality reports; episodes get a kind (drift, quality_degraded).
            try db.execute(sql: """
                CREATE TABLE labels (
                    model         TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    prediction_id TEXT NOT NULL,
                    label         REAL NOT NULL,
                    label_ts      REAL,
                    received_at   REAL NOT NULL,
                    state         TEXT NOT NULL CHECK (state IN ('pending', 'joined', 'unmatched')),
                    batch_id      INTEGER,
                    row           INTEGER,
                    endpoint      TEXT,
                    score         REAL,
                    segment       TEXT,
                    PRIMARY KEY (model, prediction_id)
                ) WITHOUT ROWID;
                CREATE INDEX labels_pending ON labels(model, received_at) WHERE state = 'pending';
                CREATE INDEX labels_by_batch ON labels(model, batch_id) WHERE state = 'joined';
                CREATE TABLE quality_baselines (
                    model            TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    baseline_version INTEGER NOT NULL,
                    report_json      TEXT NOT NULL,
                    PRIMARY KEY (model, baseline_version)
                );
                CREATE TABLE window_quality (
                    model       TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    seq         INTEGER NOT NULL,
                    report_json TEXT NOT NULL,
                    updated_at  REAL NOT NULL,
                    PRIMARY KEY (model, seq)
                );
                ALTER TABLE episodes ADD COLUMN kind TEXT NOT NULL DEFAULT 'drift';
                """)
        }
        migrator.registerMigration("v7-multivariate-baselines") { db in
            // The PCA reference (encoding, components, error band) fitted on each baseline.
            try db.execute(sql: """
                CREATE TABLE multivariate_baselines (
                    model            TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    baseline_version INTEGER NOT NULL,
                    model_json       TEXT NOT NULL,
                    PRIMARY KEY (model, baseline_version)
                );
                """)
        }
        migrator.registerMigration("v8-mlflow") { db in
            // The MLflow run (and model version) each baseline came from; the registry watermark
            // (versions up to it are not candidates); which candidates are MLflow model versions.
            try db.execute(sql: """
                CREATE TABLE mlflow_links (
                    model            TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    baseline_version INTEGER NOT NULL,
                    link_json        TEXT NOT NULL,
                    PRIMARY KEY (model, baseline_version)
                );
                CREATE TABLE mlflow_registry (
                    model        TEXT PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
                    last_version INTEGER NOT NULL
                );
                ALTER TABLE candidates ADD COLUMN mlflow_version TEXT;
                """)
        }
        migrator.registerMigration("v9-store-probe") { db in
            // One row rewritten by `probeWrite()`: /readyz learns whether writes work again.
            try db.execute(sql: "CREATE TABLE store_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL, pad BLOB)")
        }
        migrator.registerMigration("v10-typed-json") { db in
            // Rows written before the typed Store protocol held two integers as strings: a
            // baseline's upload size and a quality episode's window. Rewritten once here, so the
            // records decode strictly (a value that does not decode is a corrupt record).
            try db.execute(sql: """
                UPDATE baselines
                SET metadata_json = json_set(metadata_json, '$.bytes', CAST(json_extract(metadata_json, '$.bytes') AS INTEGER))
                WHERE json_type(metadata_json, '$.bytes') = 'text';
                UPDATE baselines
                SET metadata_json = json_set(metadata_json, '$.content_type', '')
                WHERE json_type(metadata_json, '$.content_type') IS NULL;
                UPDATE baselines
                SET metadata_json = json_set(metadata_json, '$.bytes', 0)
                WHERE json_type(metadata_json, '$.bytes') IS NULL;
                UPDATE episodes
                SET evidence_json = json_set(evidence_json, '$.window_seq', CAST(json_extract(evidence_json, '$.window_seq') AS INTEGER))
                WHERE kind = 'quality_degraded' AND json_type(evidence_json, '$.window_seq') = 'text';
                UPDATE episode_transitions
                SET evidence_json = json_set(evidence_json, '$.window_seq', CAST(json_extract(evidence_json, '$.window_seq') AS INTEGER))
                WHERE episode_id IN (SELECT id FROM episodes WHERE kind = 'quality_degraded')
                  AND json_type(evidence_json, '$.window_seq') = 'text';
                """)
        }
        migrator.registerMigration("v11-action-states") { db in
            // One truth for delivery: an action is pending (retrying included) until delivered
            // or given up. Earlier versions wrote 'failed' for both a retrying action (with a
            // next attempt) and a parked one (next attempt in the far future, ≈ year 4001).
            // SQLite cannot change a CHECK constraint, so the table is rebuilt.
            try db.execute(sql: """
                CREATE TABLE outbox_v11 (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    model           TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
                    kind            TEXT NOT NULL,
                    key             TEXT NOT NULL UNIQUE,
                    payload_json    TEXT NOT NULL,
                    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
                    attempts        INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    last_error      TEXT,
                    created_at      REAL NOT NULL,
                    updated_at      REAL NOT NULL,
                    episode_id      INTEGER REFERENCES episodes(id) ON DELETE CASCADE
                );
                INSERT INTO outbox_v11 (id, model, kind, key, payload_json, state, attempts, next_attempt_at,
                                        last_error, created_at, updated_at, episode_id)
                SELECT id, model, kind, key, payload_json,
                       CASE WHEN state <> 'failed' THEN state
                            WHEN next_attempt_at >= 1.0e10 THEN 'given_up'
                            ELSE 'pending' END,
                       attempts, next_attempt_at, last_error, created_at, updated_at, episode_id
                FROM outbox;
                DROP TABLE outbox;
                ALTER TABLE outbox_v11 RENAME TO outbox;
                CREATE INDEX outbox_by_model ON outbox(model, id);
                CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state = 'pending';
                CREATE INDEX outbox_by_episode ON outbox(episode_id) WHERE episode_id IS NOT NULL;
                """)
        }
        return migrator
    }
}
