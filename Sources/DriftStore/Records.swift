import Foundation

// Plain values exchanged with the store. Times are `Date` (stored as REAL Unix seconds,
// so sub-microsecond differences may not survive a round trip); event times are the
// caller's own Doubles. JSON columns are opaque text: the store never parses them.

/// How far an acknowledged write survives. See ``DriftStore/init(directory:durability:)``.
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

public struct ModelRecord: Sendable, Equatable {
    public var name: String
    public var settingsJSON: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, settingsJSON: String, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.settingsJSON = settingsJSON
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct BaselineRecord: Sendable, Equatable {
    public var model: String
    public var version: Int
    public var createdAt: Date
    /// Free text saying where the baseline came from (file name, window range, …).
    public var source: String
    public var rows: Int
    /// Opaque profile bytes (encoded by the caller).
    public var profile: Data
    public var metadataJSON: String

    public init(
        model: String, version: Int, createdAt: Date, source: String, rows: Int,
        profile: Data, metadataJSON: String
    ) {
        self.model = model
        self.version = version
        self.createdAt = createdAt
        self.source = source
        self.rows = rows
        self.profile = profile
        self.metadataJSON = metadataJSON
    }

    public var summary: BaselineSummary {
        BaselineSummary(
            model: model, version: version, createdAt: createdAt, source: source, rows: rows,
            metadataJSON: metadataJSON)
    }
}

/// A baseline without its profile blob (for listings).
public struct BaselineSummary: Sendable, Equatable {
    public var model: String
    public var version: Int
    public var createdAt: Date
    public var source: String
    public var rows: Int
    public var metadataJSON: String

    public init(
        model: String, version: Int, createdAt: Date, source: String, rows: Int, metadataJSON: String
    ) {
        self.model = model
        self.version = version
        self.createdAt = createdAt
        self.source = source
        self.rows = rows
        self.metadataJSON = metadataJSON
    }
}

public struct BatchRecord: Sendable, Equatable {
    public var id: Int64
    public var model: String
    public var receivedAt: Date
    public var rows: Int
    public var firstEventTime: Double?
    public var lastEventTime: Double?
    /// The batch as encoded by the ingest layer's codec; opaque to the store.
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

/// A closed window. `firstBatchID...lastBatchID` are the batches it was computed from;
/// batches after `lastBatchID` belong to the open window.
public struct WindowRecord: Sendable, Equatable {
    public var model: String
    public var seq: Int64
    public var startedAt: Date
    public var endedAt: Date
    public var firstBatchID: Int64
    public var lastBatchID: Int64
    public var rows: Int
    public var drifted: Bool
    public var driftShare: Double
    public var reportJSON: String

    public init(
        model: String, seq: Int64, startedAt: Date, endedAt: Date, firstBatchID: Int64,
        lastBatchID: Int64, rows: Int, drifted: Bool, driftShare: Double, reportJSON: String
    ) {
        self.model = model
        self.seq = seq
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.firstBatchID = firstBatchID
        self.lastBatchID = lastBatchID
        self.rows = rows
        self.drifted = drifted
        self.driftShare = driftShare
        self.reportJSON = reportJSON
    }
}

public struct EpisodeRecord: Sendable, Equatable {
    /// 0 means "not stored yet": ``DriftStore/upsertEpisode(_:)`` assigns one.
    public var id: Int64
    public var model: String
    public var state: String
    public var openedAt: Date
    public var confirmedAt: Date?
    public var resolvedAt: Date?
    public var lastWindowSeq: Int64
    public var evidenceJSON: String
    /// `drift` or `quality_degraded`.
    public var kind: String

    public init(
        id: Int64, model: String, state: String, openedAt: Date, confirmedAt: Date?,
        resolvedAt: Date?, lastWindowSeq: Int64, evidenceJSON: String, kind: String = "drift"
    ) {
        self.kind = kind
        self.id = id
        self.model = model
        self.state = state
        self.openedAt = openedAt
        self.confirmedAt = confirmedAt
        self.resolvedAt = resolvedAt
        self.lastWindowSeq = lastWindowSeq
        self.evidenceJSON = evidenceJSON
    }
}

public struct TransitionRecord: Sendable, Equatable {
    public var episodeID: Int64
    public var model: String
    public var from: String
    public var to: String
    public var at: Date
    public var windowSeq: Int64
    public var evidenceJSON: String

    public init(
        episodeID: Int64, model: String, from: String, to: String, at: Date, windowSeq: Int64,
        evidenceJSON: String
    ) {
        self.episodeID = episodeID
        self.model = model
        self.from = from
        self.to = to
        self.at = at
        self.windowSeq = windowSeq
        self.evidenceJSON = evidenceJSON
    }
}

/// Delivery state of an outbox action.
public enum ActionState: String, Sendable, Equatable, CaseIterable {
    /// Not attempted yet.
    case pending
    /// Done; never returned by ``DriftStore/dueActions(now:limit:)`` again.
    case delivered
    /// The last attempt failed; retried once `nextAttemptAt` has passed.
    case failed
}

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
    public var updatedAt: Date

    public init(
        id: Int64, model: String, kind: String, key: String, payloadJSON: String,
        state: ActionState, attempts: Int, nextAttemptAt: Date, lastError: String?,
        episodeID: Int64? = nil, updatedAt: Date = Date(timeIntervalSince1970: 0)
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
        self.updatedAt = updatedAt
    }
}

/// Errors the store raises itself; SQLite errors are wrapped where the context helps.
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

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open store at \(path): \(reason)"
        case .unknownModel(let name): "unknown model '\(name)'"
        case .invalidArgument(let message): "invalid argument: \(message)"
        case .conflict(let message): "conflict: \(message)"
        case .notFound(let message): "not found: \(message)"
        }
    }
}

extension DriftStoreError: LocalizedError {
    public var errorDescription: String? { description }
}
