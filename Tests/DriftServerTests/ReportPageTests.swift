import DriftCore
@testable import DriftServer
import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The on-call report: HTML with the expected rows, figures and links, escaped user text,
/// well-formed (strict XML parser), rendered by headless Chromium; and its JSON document.
final class ReportPageTests: XCTestCase {
    static let settings = """
        {"features":[{"name":"x<&>y","kind":"numeric"},{"name":"country","kind":"categorical"}],
         "prediction":{"name":"score","kind":"numeric"},"window":{"rows":400},"min_rows":100}
        """

    func testModelPageShowsWhatDriftedEscapedWellFormedAndRenders() async throws {
        try await LiveService().running(scenario)
    }

    private func scenario(_ s: LiveService) async throws {
        var r = try await s.call("PUT", "/v1/models/pay", json: Self.settings)
        XCTAssertEqual(r.status, 201, r.text)
        var g = SeededGenerator(seed: 12)
        var csv = "x<&>y,country,score\n"
        for k in 0..<2000 { csv += "\(g.normal()),\(k % 2 == 0 ? "DE" : "FR"),\(Double.random(in: 0..<1, using: &g))\n" }
        r = try await s.call("PUT", "/v1/models/pay/baseline", body: Data(csv.utf8), contentType: "text/csv")
        XCTAssertEqual(r.status, 201, r.text)
        // A drifted window: x moved by 3σ, most rows from a country the baseline never saw
        // (a name that would be markup if not escaped).
        let evil = #"<script>alert(\"x\")</script>"#
        let rows = (0..<400).map { k in
            "{\"id\":\"r\(k)\",\"features\":{\"x<&>y\":\(3 + g.normal()),\"country\":\"\(k % 4 == 0 ? "DE" : evil)\"},\"prediction\":\(Double.random(in: 0..<1, using: &g))}"
        }
        r = try await s.call("POST", "/v1/models/pay/observations", json: "{\"observations\":[" + rows.joined(separator: ",") + "]}")
        XCTAssertEqual(r.status, 202, r.text)
        _ = try await s.drift("pay", atLeast: 1)

        r = try await s.call("GET", "/models/pay", contentType: nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["content-type"], "text/html; charset=utf-8")
        let html = r.text
        XCTAssertTrue(html.contains("Drift suspected"), "status banner")
        XCTAssertTrue(html.contains("<td>x&lt;&amp;&gt;y</td>"), "feature names escaped")
        XCTAssertFalse(html.contains("<script>"), "no user text as markup")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), "unseen category shown, escaped")
        XCTAssertTrue(html.contains("<tr class=\"drifted\"><td>x&lt;&amp;&gt;y</td><td>drifted (major)</td>"), "drifted feature first and marked, with its effect")
        let report = try await s.drift("pay", atLeast: 1)
        let x = try XCTUnwrap((report["features"] as? [[String: Any]])?.first { $0["name"] as? String == "x<&>y" })
        XCTAssertTrue(html.contains("<td class=\"num\">\(formatFigure(x["psi"] as? Double ?? -1))</td>"), "the PSI figure of the report")
        XCTAssertTrue(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "inline distribution charts")
        XCTAssertTrue(html.contains("share of rows"), "labelled axis")
        XCTAssertTrue(html.contains(AlertPolicy.runbookURL), "runbook link")
        XCTAssertFalse(html.contains("http://") && html.contains("<link"), "no external assets")
        XCTAssertNil(try wellFormed(html), "strict XML parse")

        r = try await s.call("GET", "/models/pay/episodes/1", contentType: nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.text.contains("episode 1 (drift)"), "the episode's transitions")
        assertProblem(try await s.call("GET", "/models/pay/episodes/99", contentType: nil), 404, "no episode 99")
        assertProblem(try await s.call("GET", "/models/pay/episodes/x", contentType: nil), 400, "episode must be a positive integer")
        assertProblem(try await s.call("GET", "/models/nobody", contentType: nil), 404, "no model named")
        r = try await s.call("GET", "/", contentType: nil)
        XCTAssertTrue(r.text.contains("<a href=\"/models/pay\">pay</a>"), r.text)
        XCTAssertNil(try wellFormed(r.text))
        r = try await s.call("GET", "/v1/models/pay/report?episode=1")
        XCTAssertEqual((r.json["episode"] as? [String: Any])?["id"] as? Int, 1)
        XCTAssertEqual((r.json["latest"] as? [String: Any])?["seq"] as? Int, 1)
        XCTAssertEqual(r.json["state"] as? String, "suspected")

        // Headless Chromium renders it to a PNG without errors.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dw-shot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let png = out + "/report.png"
        let chromium = try ChildProcess(
            name: "chromium", executable: "/usr/bin/chromium",
            arguments: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                        "--user-data-dir=\(out)/profile", "--window-size=1200,1600", "--screenshot=\(png)", "\(s.base)/models/pay"],
            logDirectory: out)
        let status = chromium.waitForExit(seconds: 90)
        XCTAssertEqual(status, 0, chromium.tail())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "a rendered page, not a blank one")
        // Width and height from the IHDR chunk.
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [1200, 1600])
        if let keep = ProcessInfo.processInfo.environment["DRIFTWATCH_SCREENSHOT"] { try bytes.write(to: URL(fileURLWithPath: keep)) }
    }

    /// nil when `text` parses as XML; else the parser's error.
    private func wellFormed(_ text: String) throws -> String? {
        let parser = XMLParser(data: Data(text.utf8))
        parser.shouldResolveExternalEntities = false
        if parser.parse() { return nil }
        return "\(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber), column \(parser.columnNumber)"
    }
}
