import ArgumentParser
import AsyncHTTPClient
import DriftCore
import Foundation
import NIOCore
import NIOHTTP1

/// `driftwatch report`: the on-call report in the terminal, from a running service.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a model's drift report: state, drifted features, quality, what driftwatch did.",
        discussion: "Colour when stdout is a terminal, plain when piped. --format json prints the service's JSON report.")

    @Option(help: "Model name.") var model: String
    @Option(help: "The driftwatch service.") var server = "http://127.0.0.1:8080"
    @Option(help: "An episode id (default: the latest).") var episode: Int64?
    @Option(help: "table or json.") var format = "table"
    @Option(help: "Bearer token with the read scope (or DRIFTWATCH_TOKEN).") var token: String?

    func run() async throws {
        guard format == "table" || format == "json" else { throw UserFacingError(message: "--format must be table or json") }
        guard isValidModelName(model) else { throw UserFacingError(message: "model name \"\(model)\" must match \(modelNamePattern)") }
        var url = server.withoutTrailingSlash
        url += "/v1/models/\(model)/report" + (episode.map { "?episode=\($0)" } ?? "")
        // 10 s: a person is waiting.
        let (status, data) = try await requestService(.GET, url: url, server: server, token: token, timeout: .seconds(10))
        guard status == 200 else { throw serviceError(url: url, status: status, data: data) }
        if format == "json" {
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        guard let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw UserFacingError(message: "\(url): the answer is not a JSON report")
        }
        print(renderTerminalReport(doc, colour: isatty(STDOUT_FILENO) == 1), terminator: "")
    }
}

/// The report as text: banner, drifted features first, quality, actions.
func renderTerminalReport(_ d: [String: Any], colour: Bool) -> String {
    func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func num(_ v: Any?) -> String { (v as? Double).map(formatFigure) ?? (v as? Int).map(String.init) ?? "—" }
    func time(_ v: Any?) -> String {
        guard let t = v as? Double else { return "—" }
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t))
    }
    var out = ""
    let state = d["state"] as? String ?? "ok"
    let stateCode = ["confirmed": "1;31", "suspected": "1;33", "resolved": "1;32", "ok": "1;32"][state] ?? "1"
    out += paint("\(d["model"] as? String ?? "?"): \(state.uppercased())", stateCode)
    if let since = d["since"] as? Double { out += " since \(time(since))" }
    out += "\n"
    if let m = d["mlflow"] as? [String: Any], let run = m["run_id"] as? String {
        out += "baseline: MLflow run \(run) (\(m["artifact"] as? String ?? "?"))"
        if let v = m["model_version"] as? String { out += ", \(m["registered_model"] as? String ?? "model") version \(v)" }
        out += "\n"
    }
    if let latest = d["latest"] as? [String: Any] {
        let summary = latest["summary"] as? [String: Any] ?? [:]
        out += "window \(num(latest["seq"])) (\(time(latest["started_at"])) – \(time(latest["ended_at"]))): \(num(summary["drifted"])) of \(num(summary["evaluated"])) features drifted, \(num(latest["rows"])) rows\n\n"
        var features = latest["features"] as? [[String: Any]] ?? []
        if let p = latest["prediction"] as? [String: Any] { features.append(p) }
        features.sort { a, b in
            let da = a["drifted"] as? Bool ?? false, db = b["drifted"] as? Bool ?? false
            if da != db { return da }
            return (a["psi"] as? Double ?? 0) > (b["psi"] as? Double ?? 0)
        }
        let header = ["feature", "verdict", "PSI", "KS D", "p (adj.)", "JS", "missing"]
        var rows: [[String]] = []
        for f in features {
            let ks = f["ks"] as? [String: Any]
            let chi = f["chi2"] as? [String: Any]
            let p = ks?["pvalue_adjusted"] ?? ks?["pvalue"] ?? chi?["pvalue_adjusted"] ?? chi?["pvalue"]
            let q = f["quality"] as? [String: Any] ?? [:]
            let drifted = f["drifted"] as? Bool ?? false
            rows.append([f["name"] as? String ?? "?", drifted ? "DRIFTED" : (f["status"] as? String == "insufficient_data" ? "too few" : "ok"),
                         num(f["psi"]), num(ks?["statistic"]), num(p), num(f["js"]), num((q["missing_share"] as? Double).map { $0 * 100 }) + "%"])
        }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i < 2 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - c.count) + c }
                .joined(separator: "  ")
        }
        out += paint(line(header), "1") + "\n"
        for r in rows { out += (r[1] == "DRIFTED" ? paint(line(r), "31") : line(r)) + "\n" }
    } else {
        out += "no window evaluated yet\n"
    }
    if let q = d["quality"] as? [String: Any] {
        out += "\nquality (\(q["metric"] as? String ?? "?"), window \(num(q["seq"])), \(num(q["labelled_rows"])) labelled rows): realized \(num(q["realized"])), estimated \(num(q["estimated_value"])), baseline \(num(q["baseline"]))"
        if let degraded = q["degraded"] as? Bool { out += degraded ? paint(" DEGRADED", "31") : " ok" }
        out += "\n"
    }
    if let e = d["episode"] as? [String: Any] {
        out += "\nepisode \(num(e["id"])) (\(e["state"] as? String ?? "?")): "
        out += (e["transitions"] as? [[String: Any]] ?? []).map { "\($0["from"] ?? "")→\($0["to"] ?? "") @ window \(num($0["window_seq"]))" }.joined(separator: ", ") + "\n"
        for a in e["actions"] as? [[String: Any]] ?? [] {
            out += "  action \(a["key"] as? String ?? "?"): \(a["state"] as? String ?? "?")\((a["last_error"] as? String).map { " (\($0))" } ?? "")\n"
        }
        for r in e["remediations"] as? [[String: Any]] ?? [] {
            out += "  \(r["kind"] as? String ?? "?") \(r["name"] as? String ?? "?"): \(r["state"] as? String ?? "?")\((r["detail"] as? String).map { " (\($0))" } ?? "")\n"
        }
    }
    for c in d["candidates"] as? [[String: Any]] ?? [] {
        out += "candidate \(c["version"] as? String ?? "?") (shadow \(c["shadow"] as? String ?? "?")): gate \(c["verdict"] as? String ?? "?")"
        let reasons = c["reasons"] as? [String] ?? []
        out += reasons.isEmpty ? "\n" : " — \(reasons.joined(separator: "; "))\n"
    }
    out += "\nrunbook: \(d["runbook_url"] as? String ?? "")\n"
    return out
}
