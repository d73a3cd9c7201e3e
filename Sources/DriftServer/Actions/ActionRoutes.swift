import DriftActions
import DriftCore
import DriftStore
import Foundation
import Hummingbird

/// An outbox action and how its delivery stands: the objects of `GET /v1/models/{model}/actions`,
/// of an episode's `actions`, and of an admin's retry.
public struct ActionDocument: Codable, Sendable, Equatable {
    public var kind: String
    public var key: String
    /// `pending` until delivered or given up.
    public var state: ActionState
    /// Failed attempts so far (and the delivering one, once delivered).
    public var attempts: Int
    public var last_error: String?
    public var created_at: Double
    public var updated_at: Double
    /// While pending: when the next attempt is due.
    public var next_attempt_at: Double?
    public var episode_id: Int64?

    init(_ a: ActionRecord) {
        kind = a.kind
        key = a.key
        state = a.state
        attempts = a.attempts
        last_error = a.lastError
        created_at = a.createdAt.timeIntervalSince1970
        updated_at = a.updatedAt.timeIntervalSince1970
        next_attempt_at = a.state == .pending ? a.nextAttemptAt.timeIntervalSince1970 : nil
        episode_id = a.episodeID
    }
}

extension ActionDocument {
    /// How its delivery stands in one line, for the report page and `driftwatch report`.
    public func stateLine(model: String) -> String {
        switch state {
        case .delivered:
            return attempts > 1 ? "delivered after \(attempts) attempts" : "delivered"
        case .pending where attempts == 0:
            return "pending"
        case .pending:
            let failed = "pending: \(attempts) failed attempt\(attempts == 1 ? "" : "s")"
            return failed + (next_attempt_at.map { ", next at \(rfc3339(Date(timeIntervalSince1970: $0)))" } ?? "")
        case .givenUp:
            return "given up after \(attempts) attempt\(attempts == 1 ? "" : "s") (retry: driftwatch actions retry --model \(model) \(key))"
        }
    }
}

extension DriftService {
    /// `GET /v1/models/{model}/actions[?state=pending|delivered|given_up][&limit=N]`, newest first.
    func listActions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let limit = try limitParameter(request, default: 100)
        var state: ActionState?
        if let raw = request.uri.queryParameters.get("state") {
            guard let s = ActionState(rawValue: raw) else {
                throw Problem.badRequest("state must be one of \(ActionState.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(raw)\"")
            }
            state = s
        }
        let actions = try store.actions(model: name, state: state, limit: limit).map(ActionDocument.init)
        return try jsonResponse(["actions": actions])
    }

    /// `POST /v1/models/{model}/actions/{key}/retry` (admin): a given-up (or pending) action is
    /// due now with a fresh budget of attempts; a delivered one is a 409.
    func retryAction(_ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("model")
        _ = try await monitor(name)
        let key = try context.parameters.require("key")
        let retried: ActionRecord
        do {
            retried = try store.retryAction(model: name, key: key, now: clock())
        } catch DriftStoreError.notFound {
            throw Problem.notFound("model \(name) has no action \"\(key)\"; GET /v1/models/\(name)/actions lists them")
        } catch DriftStoreError.conflict(let message) {
            throw Problem.conflict(message)
        }
        logger.notice("action retried by an admin", metadata: ["model": .string(name), "action": .string(key)])
        return try jsonResponse(ActionDocument(retried))
    }
}
