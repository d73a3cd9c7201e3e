import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// An HTTP endpoint of the test's own on 127.0.0.1 and a free port: records every POST body
/// and answers with a status the test controls. Stands in for Alertmanager (API v2) in the
/// in-process tests and is the webhook receiver of the real Alertmanager in the end-to-end one.
final class Recorder: Sendable {
    struct Recorded: Sendable {
        var path: String
        var body: Data
        /// The body parsed as JSON (or the text, when it is not JSON).
        var json: Any { (try? JSONSerialization.jsonObject(with: body)) ?? String(decoding: body, as: UTF8.self) }
    }

    actor State {
        var status: HTTPResponse.Status = .ok
        var bodies: [Recorded] = []
        func record(_ path: String, _ body: Data) -> HTTPResponse.Status {
            bodies.append(Recorded(path: path, body: body))
            return status
        }
        func set(_ s: HTTPResponse.Status) { status = s }
        func all() -> [Recorded] { bodies }
    }

    let state = State()
    private let server: LoopbackServer

    init() async throws {
        let state = self.state
        let router = Router()
        router.post("**") { request, context -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let status = await state.record(request.uri.path, Data(buffer: body))
            return Response(status: status)
        }
        server = await LoopbackServer(router: router, label: "recorder")
    }

    var port: Int { server.port }
    var url: String { server.url }
    func stop() async { await server.stop() }

    /// Polls until `predicate` holds for the recorded bodies, or fails after `seconds`.
    func wait(_ what: String, seconds: Double, _ predicate: ([Recorded]) -> Bool) async throws -> [Recorded] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let all = await state.all()
            if predicate(all) { return all }
            try await Task.sleep(for: .milliseconds(100))
        }
        struct Timeout: Error, CustomStringConvertible { var description: String }
        let seen = await state.all().map { "\($0.path): \($0.json)" }.suffix(5).joined(separator: "\n")
        throw Timeout(description: "timed out after \(seconds) s waiting for \(what); last bodies received:\n\(seen)")
    }
}

/// A Hummingbird app of the test's own on 127.0.0.1 and a free port (the stand-ins for
/// Alertmanager, webhooks and the Kubernetes API), stopped with `stop()`.
struct LoopbackServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, Error>

    /// `port` 0: a free one (a test that restarts a peer passes the port it had).
    init(router: Router<BasicRequestContext>, label: String, port: Int = 0) async {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        running = Task { try await group.run() }
        var bound = 0
        for await value in stream { bound = value; break }
        self.port = bound
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}
