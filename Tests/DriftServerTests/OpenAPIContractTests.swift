import DriftCore
@testable import DriftServer
import Foundation
import HTTPTypes
import XCTest

/// The OpenAPI document (openapi/openapi.json, embedded and served at `GET /openapi.json`) and
/// the route table say the same: every route is documented with its method and the scope its
/// `RouteAccess` needs, and every documented operation is a route. A route added without its
/// documentation, or documented and never served, fails here.
final class OpenAPIContractTests: XCTestCase {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    private func document() throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(openAPIDocumentJSON.utf8))
        return try XCTUnwrap(parsed as? [String: Any], "the document is a JSON object")
    }

    private func operations(_ doc: [String: Any]) throws -> [(path: String, method: String, operation: [String: Any])] {
        let paths = try XCTUnwrap(doc["paths"] as? [String: Any], "the document has paths")
        var out: [(String, String, [String: Any])] = []
        for (path, item) in paths {
            let item = try XCTUnwrap(item as? [String: Any], "\(path) is a path item")
            for method in Self.methods {
                if let op = item[method] {
                    out.append((path, method, try XCTUnwrap(op as? [String: Any], "\(method) \(path) is an operation")))
                }
            }
        }
        return out
    }

    private func routes() throws -> [APIRoute] {
        let s = try LiveService()
        defer { try? s.service.store.close() }
        return s.service.routeTable.routes
    }

    /// The scope word the document uses for a route's access.
    private func scopeWord(_ access: RouteAccess) -> String {
        switch access {
        case .open: "open"
        case .scope(let s): s.rawValue
        case .kserveLogger: "kserve-logger"
        }
    }

    func testDocumentIsOpenAPI31() throws {
        let doc = try document()
        XCTAssertEqual(doc["openapi"] as? String, "3.1.0")
        let schemes = (doc["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]
        let bearer = schemes?["bearer"] as? [String: Any]
        XCTAssertEqual(bearer?["type"] as? String, "http")
        XCTAssertEqual(bearer?["scheme"] as? String, "bearer")
    }

    func testRoutesAndOperationsAreTheSameBothWays() throws {
        let routes = try routes()
        XCTAssertGreaterThanOrEqual(routes.count, 23, "the whole API is in the route table")
        let served = Set(routes.map { "\($0.method.rawValue.lowercased()) \($0.openAPIPath)" })
        XCTAssertEqual(served.count, routes.count, "no route is registered twice")
        let ops = try operations(try document())
        let documented = Set(ops.map { "\($0.method) \($0.path)" })
        XCTAssertEqual(documented.count, ops.count)
        for route in served.subtracting(documented).sorted() {
            XCTFail("route \(route) is served but not in openapi/openapi.json: document it (then scripts/gen-openapi.sh)")
        }
        for op in documented.subtracting(served).sorted() {
            XCTFail("operation \(op) is documented but no route serves it: remove it from openapi/openapi.json or add the route")
        }
        // HEAD comes with every GET (Router .autoGenerateHeadEndpoints): never documented on its own.
        XCTAssertFalse(ops.contains { $0.method == "head" }, "HEAD is implied by GET")
        XCTAssertEqual(served, documented)
    }

    func testEachOperationDeclaresTheScopeAndSecurityOfItsRoute() throws {
        let routes = try routes()
        let ops = try operations(try document())
        var checked = 0
        for route in routes {
            let method = route.method.rawValue.lowercased()
            guard let op = ops.first(where: { $0.path == route.openAPIPath && $0.method == method })?.operation else {
                continue  // reported by testRoutesAndOperationsAreTheSameBothWays
            }
            let what = "\(route.method) \(route.openAPIPath)"
            XCTAssertEqual(op["x-driftwatch-scope"] as? String, scopeWord(route.access), "\(what): x-driftwatch-scope must be the route's access")
            let security = try XCTUnwrap(op["security"] as? [[String: Any]], "\(what) declares its security")
            let schemes = security.map { $0.keys.sorted() }
            switch route.access {
            case .open:
                XCTAssertTrue(security.isEmpty, "\(what) is open: security []")
            case .scope:
                XCTAssertEqual(schemes, [["bearer"]], "\(what) needs a bearer token")
            case .kserveLogger:
                XCTAssertEqual(schemes, [["bearer"], []], "\(what): a bearer token, or none with kserve_without_token")
            }
            checked += 1
        }
        XCTAssertEqual(checked, routes.count)
    }

    func testEveryOperationDocumentsItsParametersAndProblemAnswers() throws {
        let doc = try document()
        let components = try XCTUnwrap(doc["components"] as? [String: Any])
        let sharedParameters = components["parameters"] as? [String: Any] ?? [:]
        let sharedResponses = components["responses"] as? [String: Any] ?? [:]
        func resolve(_ value: Any, in shared: [String: Any]) -> [String: Any]? {
            guard let object = value as? [String: Any] else { return nil }
            guard let ref = object["$ref"] as? String else { return object }
            return shared[String(ref.split(separator: "/").last ?? "")] as? [String: Any]
        }
        for (path, method, op) in try operations(doc) {
            let what = "\(method) \(path)"
            // Every {name} of the path is a required path parameter, and nothing else is.
            let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            let parameters = (op["parameters"] as? [Any] ?? []).compactMap { resolve($0, in: sharedParameters) }
            let inPath = parameters.filter { $0["in"] as? String == "path" }
            XCTAssertEqual(Set(inPath.compactMap { $0["name"] as? String }), Set(names), "\(what): path parameters")
            for p in inPath { XCTAssertEqual(p["required"] as? Bool, true, "\(what): path parameter \(p["name"] ?? "?") is required") }

            let responses = try XCTUnwrap(op["responses"] as? [String: Any], "\(what) has responses")
            XCTAssertNil(responses["default"], "\(what): every status is listed, no default")
            XCTAssertTrue(responses.keys.contains { $0.hasPrefix("2") }, "\(what) has a success answer")
            for (status, value) in responses {
                let response = try XCTUnwrap(resolve(value, in: sharedResponses), "\(what) \(status) resolves")
                guard let code = Int(status), code >= 400 else { continue }
                let content = response["content"] as? [String: Any]
                XCTAssertEqual(content.map { Array($0.keys) }, ["application/problem+json"], "\(what) \(status) is a problem document")
                let schema = (content?["application/problem+json"] as? [String: Any])?["schema"] as? [String: Any]
                XCTAssertEqual(schema?["$ref"] as? String, "#/components/schemas/Problem", "\(what) \(status)")
            }
            // Routes with a token answer 401 and 403; routes with a model 400 (its name) and 404.
            if (op["security"] as? [Any])?.isEmpty == false {
                XCTAssertNotNil(responses["401"], "\(what) documents 401")
                XCTAssertNotNil(responses["403"], "\(what) documents 403")
            }
            if names.contains("model") {
                XCTAssertNotNil(responses["400"], "\(what) documents 400 for a bad model name")
                XCTAssertNotNil(responses["404"], "\(what) documents 404 for an unknown (or concurrently deleted) model")
            }
            if op["requestBody"] != nil {
                for code in ["408", "413", "415"] { XCTAssertNotNil(responses[code], "\(what) reads a body: documents \(code)") }
            }
        }
    }

    /// `GET /openapi.json` serves exactly the embedded document, which is openapi/openapi.json
    /// (scripts/gen-openapi.sh --check in CI).
    func testServedDocumentIsTheEmbeddedOne() async throws {
        let s = try LiveService()
        try await s.running { s in
            let r = try await s.call("GET", "/openapi.json", contentType: nil)
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.headers["content-type"], "application/json")
            XCTAssertEqual(r.text, openAPIDocumentJSON)
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/openapi.json")
        let onDisk = try String(contentsOf: source, encoding: .utf8)
        XCTAssertEqual(onDisk.trimmingCharacters(in: .newlines), openAPIDocumentJSON,
                       "Sources/DriftServer/OpenAPI/OpenAPIDocument.swift is stale: run scripts/gen-openapi.sh")
    }
}
