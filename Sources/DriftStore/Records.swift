import DriftCore
import Foundation

// The typed records exchanged with a ``Store``. Times are `Date` (stored as REAL Unix
// seconds, so sub-microsecond differences may not survive a round trip); event times are the
// caller's own Doubles. Domain values (settings, reports, evidence, quality) cross the
// boundary as their DriftCore types; a backend encodes them as it likes, and a stored value
// that no longer decodes is ``DriftStoreError/corruptRecord(table:key:reason:)``.

/// How far an acknowledged write survives. See ``SQLiteStore/init(directory:durability:)``.
public enum StoreDurability: Sendable, Equatable {
    /// `synchronous=NORMAL` in WAL mode: a committed transaction has been written to the
    /// WAL file through the OS, so it survives the process being killed (kill -9, crash,
    /// OOM kill). A power loss or kernel panic can lose the last transactions before the
    /// next checkpoint (the database stays consistent, never corrupt).
    case processCrash
    /// `synchronous=FULL`: the WAL is fsynced at every commit, so a committed transaction
    /// also survives power loss, at the price of one fsync per ingest batch.
    case powerLoss
}

/// A monitored model and its settings.
public struct ModelRecord: Sendable, Equatable {
    public var name: String
    public var settings: ModelSettings
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, settings: ModelSettings, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// How a baseline was uploaded (kept with it, shown nowhere yet but useful when debugging).
public struct BaselineUpload: Sendable, Equatable, Codable {
    public var contentType: String
    public var bytes: Int

    public init(contentType: String, bytes: Int) {
        self.contentType = contentType
        self.bytes = bytes
    }

    // Stores written before typed records held `bytes` as a string; migration v10-typed-json
    // rewrote them as integers.
    enum CodingKeys: String, CodingKey { case contentType = "content_type", bytes }
}

/// A stored baseline version with its profile.
public struct BaselineRecord: Sendable {
    public var model: String
    public var version: Int
    public var createdAt: Date
    /// Free text saying where the baseline came from (file name, MLflow run, …).
    public var source: String
    public var profile: BaselineProfile
    public var upload: BaselineUpload

    public init(model: String, version: Int, createdAt: Date, source: String, profile: BaselineProfile, upload: BaselineUpload) {
        self.model = model
        self.version = version
        self.createdAt = createdAt
        self.source = source
        self.profile = profile
        self.upload = upload
    }

    public var rows: Int { profile.rows }

    public var summary: BaselineSummary {
        BaselineSummary(model: model, version: version, createdAt: createdAt, source: source, rows: rows, upload: upload)
    }
}

/// A baseline without its profile (for listings).
public struct BaselineSummary: Sendable, Equatable {
    public var model: String
    public var version: Int
    public var createdAt: Date
    public var source: String
    public var rows: Int
    public var upload: BaselineUpload

    public init(model: String, version: Int, createdAt: Date, source: String, rows: Int, upload: BaselineUpload) {
        self.model = model
        self.version = version
        self.createdAt = createdAt
        self.source = source
        self.rows = rows
        self.upload = upload
    }
}

/// One acknowledged ingest batch. The payload is the batch in the ingest layer's compact
/// encoding (DriftIngest's batch codec): the store keeps it as bytes so that the ingest path
/// never decodes what it just encoded.
public struct BatchRecord: Sendable, Equatable {
    public var id: Int64
    public var model: String
    public var receivedAt: Date
    public var rows: Int
    public var firstEventTime: Double?
    public var lastEventTime: Double?
    public var payload: Data

    public init(
        id: Int64, model: String, receivedAt: Date, rows: Int, firstEventTime: Double?,
        lastEventTime: Double?, payload: Data
    ) {
        self.id = id
        self.model = model
        self.receivedAt = receivedAt
        self.rows = rows
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.payload = payload
    }
}

/// A closed window without its report: what the episode replay and the label join need.
/// `batches` are the batches it was computed from; later batches belong to the open window.
public struct WindowSummary: Sendable, Equatable {
    public var model: String
    public var seq: Int
    public var startedAt: Date
    public var endedAt: Date
    public var batches: ClosedRange<Int64>
    public var rows: Int
    public var drifted: Bool
    public var driftShare: Double

    public init(model: String, seq: Int, startedAt: Date, endedAt: Date, batches: ClosedRange<Int64>, rows: Int,
                drifted: Bool, driftShare: Double) {
        self.model = model
        self.seq = seq
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.batches = batches
        self.rows = rows
        self.drifted = drifted
        self.driftShare = driftShare
    }
}

/// A closed window and its report; the summary's columns are the report's own figures.
public struct WindowRecord: Sendable, Equatable {
    public var summary: WindowSummary
    public var report: WindowReport

    /// A window of `report.model` over `batches`.
    public init(report: WindowReport, batches: ClosedRange<Int64>) {
        self.report = report
        summary = WindowSummary(
            model: report.model, seq: report.seq, startedAt: Date(timeIntervalSince1970: report.startedAt),
            endedAt: Date(timeIntervalSince1970: report.endedAt), batches: batches, rows: report.rows,
            drifted: report.summary.windowDrifted, driftShare: report.summary.driftedShare)
    }

    init(summary: WindowSummary, report: WindowReport) {
        self.summary = summary
        self.report = report
    }
}

/// A drift or quality episode: opened by a suspected window, confirmed, resolved or cleared.
public struct EpisodeRecord: Sendable, Equatable {
    /// 0 means "not stored yet": ``Store/upsertEpisode(_:)`` assigns one.
    public var id: Int64
    public var model: String
    public var kind: EpisodeKind
    public var state: EpisodeRecordState
    public var openedAt: Date
    public var confirmedAt: Date?
    public var resolvedAt: Date?
    public var lastWindowSeq: Int
    /// The evidence of the opening transition, replaced by the confirming one's.
    public var evidence: EpisodeEvidence

    public init(
        id: Int64, model: String, kind: EpisodeKind, state: EpisodeRecordState, openedAt: Date, confirmedAt: Date?,
        resolvedAt: Date?, lastWindowSeq: Int, evidence: EpisodeEvidence
    ) {
        self.id = id
        self.model = model
        self.kind = kind
        self.state = state
        self.openedAt = openedAt
        self.confirmedAt = confirmedAt
        self.resolvedAt = resolvedAt
        self.lastWindowSeq = lastWindowSeq
        self.evidence = evidence
    }
}

/// One state change of an episode.
public struct TransitionRecord: Sendable, Equatable {
    public var episodeID: Int64
    public var model: String
    public var from: EpisodeState
    public var to: EpisodeState
    public var at: Date
    public var windowSeq: Int
    public var evidence: EpisodeEvidence

    public init(episodeID: Int64, model: String, from: EpisodeState, to: EpisodeState, at: Date, windowSeq: Int,
                evidence: EpisodeEvidence) {
        self.episodeID = episodeID
        self.model = model
        self.from = from
        self.to = to
        self.at = at
        self.windowSeq = windowSeq
        self.evidence = evidence
    }
}

/// The MLflow run (and model version) a baseline version came from.
public struct MLflowLinkRecord: Sendable, Equatable {
    public var baselineVersion: Int
    public var link: MLflowLink

    public init(baselineVersion: Int, link: MLflowLink) {
        self.baselineVersion = baselineVersion
        self.link = link
    }
}

/// Where a stored prediction is: its batch and row.
public struct PredictionLocation: Sendable, Equatable, Hashable {
    public var batchID: Int64
    public var row: Int

    public init(batchID: Int64, row: Int) {
        self.batchID = batchID
        self.row = row
    }
}

/// A label still waiting for its prediction.
public struct PendingLabel: Sendable, Equatable {
    public var predictionID: String
    public var receivedAt: Date

    public init(predictionID: String, receivedAt: Date) {
        self.predictionID = predictionID
        self.receivedAt = receivedAt
    }
}

/// What ``Store/appendBatch(model:receivedAt:rows:firstEventTime:lastEventTime:idempotencyKey:payload:predictionIDs:)`` did.
public enum AppendOutcome: Sendable, Equatable {
    /// Newly stored (and committed) under this id.
    case stored(batchID: Int64)
    /// A batch with the same idempotency key was already stored for this model: nothing was
    /// written; these are the original batch's id and row count.
    case duplicate(batchID: Int64, rows: Int)

    public var batchID: Int64 {
        switch self {
        case .stored(let id), .duplicate(let id, _): id
        }
    }
}

/// What storing one label did.
public enum LabelOutcome: String, Sendable {
    /// New (or changed) label, stored pending its join.
    case stored
    /// The same label for the same id was already there.
    case duplicate
}

/// Delivery state of an outbox action: one truth, whoever delivered it (the outbox's own attempt,
/// or the alert re-send loop for an episode's firing notice).
public enum ActionState: String, Sendable, Equatable, CaseIterable, Codable {
    /// Not delivered yet: due at `nextAttemptAt` (now, or after a failed attempt's backoff).
    case pending
    /// Done; never due again.
    case delivered
    /// Attempts used up, or an error no retry can fix (a 4xx): never due again until an admin
    /// retries it (`POST /v1/models/{model}/actions/{key}/retry`, `driftwatch actions retry`).
    case givenUp = "given_up"
}

/// One outbox action as stored: what to deliver (kind, key, payload) and how its delivery stands.
/// The payload is DriftActions' encoding of its `Action` (opaque here; decoded there, where a
/// payload that does not decode is parked with the reason).
public struct ActionRecord: Sendable, Equatable {
    public var id: Int64
    public var model: String
    public var kind: String
    public var key: String
    public var payloadJSON: String
    public var state: ActionState
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    /// The drift episode the action belongs to, if any.
    public var episodeID: Int64?
    /// When it was enqueued.
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, model: String, kind: String, key: String, payloadJSON: String,
        state: ActionState, attempts: Int, nextAttemptAt: Date, lastError: String?,
        episodeID: Int64? = nil, createdAt: Date = Date(timeIntervalSince1970: 0), updatedAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.id = id
        self.model = model
        self.kind = kind
        self.key = key
        self.payloadJSON = payloadJSON
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.episodeID = episodeID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Errors the store raises itself; SQLite and PostgreSQL errors are wrapped where the context helps.
public enum DriftStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file could not be created or opened (path included).
    case cannotOpen(path: String, reason: String)
    /// A row references a model that was never upserted (or was deleted).
    case unknownModel(String)
    /// An argument failed validation before touching the database.
    case invalidArgument(String)
    /// A write conflicts with a stored row (duplicate window seq, episode of another model, …).
    case conflict(String)
    /// An id given by the caller does not exist.
    case notFound(String)
    /// A stored value does not decode as its type (table, row key, what failed).
    case corruptRecord(table: String, key: String, reason: String)
    /// The store cannot work now (disk full, I/O error, locked, read-only): retry later.
    case unavailable(StoreFault, message: String)
    /// The database was migrated by a newer driftwatch than this one (what to do included).
    case schemaTooNew(String)
    /// The database's schema is older than this driftwatch and was not migrated (what to run included).
    case schemaBehind(String)
    /// Another process took over the database this one served: it must not write again.
    case fenced(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open store at \(path): \(reason)"
        case .unknownModel(let name): "unknown model '\(name)'"
        case .invalidArgument(let message): "invalid argument: \(message)"
        case .conflict(let message): "conflict: \(message)"
        case .notFound(let message): "not found: \(message)"
        case .corruptRecord(let table, let key, let reason): "corrupt record in \(table) (\(key)): \(reason)"
        case .unavailable(let fault, let message): "store unavailable (\(fault.rawValue)): \(message)"
        case .schemaTooNew(let message): "schema too new: \(message)"
        case .schemaBehind(let message): "schema behind: \(message)"
        case .fenced(let message): "fenced: \(message)"
        }
    }
}

extension DriftStoreError: LocalizedError {
    public var errorDescription: String? { description }
}
