import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A stand-in for the Kubernetes API server (and Argo Server) on 127.0.0.1: stores what is
/// created, answers GET/DELETE/PATCH on it, records every request, and fails the next N
/// requests with 500 on demand.
final class KubernetesStandIn: Sendable {
    struct Call: Sendable {
        var method: String
        var path: String
        var body: Data
        var authorization: String?
        var status: Int
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    actor State {
        var calls: [Call] = []
        var objects: [String: Data] = [:]
        var failNext = 0
        func fail(next n: Int) { failNext = n }
        func setObject(_ path: String, _ json: [String: Any]) {
            objects[path] = try? JSONSerialization.data(withJSONObject: json)
        }
        func all() -> [Call] { calls }

        func handle(method: String, path: String, body: Data, authorization: String?) -> (Int, Data) {
            var status = 200
            var answer = Data("{}".utf8)
            if failNext > 0 {
                failNext -= 1
                status = 500
                answer = Data(#"{"kind":"Status","message":"etcdserver: request timed out"}"#.utf8)
            } else {
                switch method {
                case "POST":
                    let name = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]).flatMap {
                        ($0["metadata"] as? [String: Any])?["name"] as? String ?? (($0["submitOptions"] as? [String: Any])?["name"] as? String)
                    } ?? "unnamed"
                    let key = path.hasSuffix("/submit") ? path.replacingOccurrences(of: "/submit", with: "") + "/" + name : path + "/" + name
                    if objects[key] != nil {
                        status = 409
                        answer = Data(#"{"kind":"Status","reason":"AlreadyExists"}"#.utf8)
                    } else {
                        objects[key] = body
                        status = 201
                        answer = body
                    }
                case "GET":
                    if let o = objects[path] { answer = o } else { status = 404 }
                case "DELETE":
                    if objects.removeValue(forKey: path) == nil { status = 404 }
                case "PATCH":
                    if objects[path] == nil { objects[path] = body }
                default:
                    status = 405
                }
            }
            calls.append(Call(method: method, path: path, body: body, authorization: authorization, status: status))
            return (status, answer)
        }
    }

    let state = State()
    private let server: LoopbackServer

    init(port: Int = 0) async throws {
        let state = self.state
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            let (status, answer) = await state.handle(
                method: request.method.rawValue, path: request.uri.path, body: Data(buffer: body),
                authorization: request.headers[.authorization])
            return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(data: answer)))
        }
        router.on("**", method: .post, use: handler)
        router.on("**", method: .get, use: handler)
        router.on("**", method: .delete, use: handler)
        router.on("**", method: .patch, use: handler)
        server = await LoopbackServer(router: router, label: "k8s-stand-in", port: port)
    }

    var port: Int { server.port }
    var url: String { server.url }
    func stop() async { await server.stop() }

    func calls(_ method: String, _ pathPrefix: String) async -> [Call] {
        await state.all().filter { $0.method == method && $0.path.hasPrefix(pathPrefix) }
    }

    func wait(_ what: String, seconds: Double = 30, _ predicate: ([Call]) -> Bool) async throws -> [Call] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let all = await state.all()
            if predicate(all) { return all }
            try await Task.sleep(for: .milliseconds(100))
        }
        struct Timeout: Error, CustomStringConvertible { var description: String }
        let seen = await state.all().map { "\($0.method) \($0.path) → \($0.status)" }.suffix(10).joined(separator: "\n")
        throw Timeout(description: "timed out after \(seconds) s waiting for \(what); last requests:\n\(seen)")
    }
}
