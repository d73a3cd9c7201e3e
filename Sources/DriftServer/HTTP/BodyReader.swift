import DriftCore
import DriftIngest
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// What a route's body may be: its size limit and whether gzip is accepted.
enum BodyKind: Sendable {
    /// Observations, labels, KServe events, candidates: `max_body_bytes`, gzip up to `max_decoded_bytes`.
    case ingest
    /// Model settings: `max_body_bytes`, no gzip.
    case settings
    /// Training data: `max_baseline_bytes`, before and after gzip.
    case baseline
}

/// Bytes of request bodies being held at once (every body being read, baselines aside),
/// bounded by `max_buffered_body_bytes`: many slow senders cost a bounded amount of memory,
/// and one that goes over gets 503 instead of pushing the process out of memory.
final class BodyBudget: Sendable {
    private let used = NIOLockedValueBox(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }

    /// Takes `n` bytes; false when that would pass the limit.
    func take(_ n: Int) -> Bool {
        used.withLockedValue { u in
            guard u <= limit - n else { return false }
            u += n
            return true
        }
    }

    func give(_ n: Int) { used.withLockedValue { $0 -= n } }
}

/// Why a body read stopped before its end.
private enum BodyReadStop: Error {
    case tooLarge
    case overBudget
    /// The whole body took longer than `body_timeout_seconds`.
    case deadline
    /// No byte came for `body_idle_seconds`.
    case stalled
}

extension DriftService {
    /// The request body within its route's limits, gunzipped when `Content-Encoding: gzip`.
    ///
    /// Reading has a deadline (`body_timeout_seconds` for the whole body) and an idle timeout
    /// (`body_idle_seconds` without a byte): a slow or stalled sender gets 408 and its
    /// connection is closed. Routes read the body *before* taking an ingest slot, so such a
    /// sender never holds one. A declared length over the limit is refused before reading.
    func readBody(_ request: Request, _ kind: BodyKind) async throws -> [UInt8] {
        let limit = kind == .baseline ? config.maxBaselineBytes : config.maxBodyBytes
        let advice = kind == .baseline ? "raise max_baseline_bytes or upload a sample" : "send smaller batches"
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            throw Problem(.contentTooLarge, "body of \(length) bytes is over the limit of \(limit) bytes; \(advice)").closingConnection()
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collect(request.body, limit: limit, budget: kind == .baseline ? nil : bodyBudget)
        } catch let stop as BodyReadStop {
            switch stop {
            case .tooLarge:
                throw Problem(.contentTooLarge, "body is over the limit of \(limit) bytes; \(advice)").closingConnection()
            case .overBudget:
                var p = Problem(.serviceUnavailable, "too many request bodies are being received at once (max_buffered_body_bytes \(bodyBudget.limit)); retry after 1 s")
                p.headers[.retryAfter] = "1"
                throw p.closingConnection()
            case .deadline:
                throw Problem(.requestTimeout, "the body did not arrive within \(formatSeconds(config.bodyTimeoutSeconds)) s (body_timeout_seconds); send it faster or in smaller requests").closingConnection()
            case .stalled:
                throw Problem(.requestTimeout, "no body bytes arrived for \(formatSeconds(config.bodyIdleSeconds)) s (body_idle_seconds); the connection is closed").closingConnection()
            }
        } catch let e as HTTPParserError {
            throw HTTPErrorHandler.problem(for: e) ?? Problem.badRequest("the body's framing is not valid HTTP/1.1")
        }
        let bytes = Array(buffer.readableBytesView)
        let encoding = request.headers[.contentEncoding]?.lowercased() ?? "identity"
        switch encoding {
        case "identity", "":
            return bytes
        case "gzip", "x-gzip":
            guard kind != .settings else { throw Problem(.unsupportedMediaType, "Content-Encoding gzip is not accepted on this route: send the JSON as it is") }
            do {
                return try gunzip(bytes, maxOutput: kind == .baseline ? config.maxBaselineBytes : config.maxDecodedBytes)
            } catch {
                throw Problem.badRequest("gzip body could not be decoded: \(error)")
            }
        default:
            throw Problem(.unsupportedMediaType, "Content-Encoding \(encoding) is not supported (identity or gzip)")
        }
    }

    /// An ingest route's body (observations, KServe events): refusals are counted in
    /// `driftwatch_observations_rejected_total` (`too_large`, `bad_body`) for the model.
    func readIngestBody(_ request: Request, model: String) async throws -> [UInt8] {
        do {
            return try await readBody(request, .ingest)
        } catch let p as Problem {
            metrics.rejected(model: model, reason: p.status == .contentTooLarge ? "too_large" : "bad_body", 1)
            throw p
        }
    }

    /// Collects the body, racing it against the deadline and the idle timeout.
    private func collect(_ body: RequestBody, limit: Int, budget: BodyBudget?) async throws -> ByteBuffer {
        let deadline = ContinuousClock.now + .milliseconds(Int64(config.bodyTimeoutSeconds * 1000))
        let idle = Duration.milliseconds(Int64(config.bodyIdleSeconds * 1000))
        let lastByte = NIOLockedValueBox(ContinuousClock.now)
        let taken = NIOLockedValueBox(0)
        defer { budget?.give(taken.withLockedValue { $0 }) }
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var out = ByteBuffer()
                for try await chunk in body {
                    guard chunk.readableBytes <= limit - out.readableBytes else { throw BodyReadStop.tooLarge }
                    if let budget {
                        guard budget.take(chunk.readableBytes) else { throw BodyReadStop.overBudget }
                        taken.withLockedValue { $0 += chunk.readableBytes }
                    }
                    var c = chunk
                    out.writeBuffer(&c)
                    lastByte.withLockedValue { $0 = .now }
                }
                return out
            }
            group.addTask {
                while true {
                    let wake = Swift.min(deadline, lastByte.withLockedValue { $0 } + idle)
                    let now = ContinuousClock.now
                    if now >= deadline { throw BodyReadStop.deadline }
                    if now >= wake { throw BodyReadStop.stalled }
                    try await Task.sleep(until: wake, clock: .continuous)
                }
            }
            defer { group.cancelAll() }
            // The first child to finish decides: the body, or the timer's error.
            guard let first = try await group.next(), let buffer = first else { throw BodyReadStop.deadline }
            return buffer
        }
    }
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(s)
}

/// Refuses a JSON-only route's body sent as something else (415); no Content-Type is taken
/// as JSON.
func requireJSON(_ request: Request, what: String) throws {
    guard let type = request.headers[.contentType] else { return }
    let media = mediaType(of: type)
    guard media == "application/json" || media.hasSuffix("+json") else {
        throw Problem(.unsupportedMediaType, "\(what) must be application/json, got \(type)")
    }
}
