import ArgumentParser
import AsyncHTTPClient
import DriftCore
import DriftServer
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
        guard let doc = try decodeServiceAnswer(ReportDocument.self, data: data, url: url, format: format) else { return }
        print(renderTerminalReport(doc, colour: isatty(STDOUT_FILENO) == 1), terminator: "")
    }
}

/// The report as text: banner, drifted features first, quality, actions.
func renderTerminalReport(_ d: ReportDocument, colour: Bool) -> String {
    func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func num(_ v: Double?) -> String { v.map(formatFigure) ?? "—" }
    func time(_ t: Double?) -> String {
        guard let t else { return "—" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t))
    }
    var out = ""
    let stateCode: String
    switch d.state {
    case .confirmed: stateCode = "1;31"
    case .suspected: stateCode = "1;33"
    case .resolved, .ok: stateCode = "1;32"
    }
    out += paint("\(d.model): \(d.state.rawValue.uppercased())", stateCode)
    if let since = d.since { out += " since \(time(since))" }
    out += "\n"
    if let m = d.mlflow {
        out += "baseline: MLflow run \(m.runID) (\(m.artifact))"
        if let v = m.modelVersion { out += ", \(m.registeredModel) version \(v)" }
        out += "\n"
    }
    if let latest = d.latest {
        out += "window \(latest.seq) (\(time(latest.startedAt)) – \(time(latest.endedAt))): \(latest.summary.drifted) of \(latest.summary.evaluated) features drifted, \(latest.rows) rows\n\n"
        let features = latest.allResults.sorted { a, b in
            if a.drifted != b.drifted { return a.drifted }
            return (a.psi ?? 0) > (b.psi ?? 0)
        }
        let header = ["feature", "verdict", "PSI", "KS D", "p (adj.)", "JS", "missing"]
        var rows: [[String]] = []
        for f in features {
            let p = f.ks.map { $0.pvalueAdjusted ?? $0.pvalue } ?? f.chi2.map { $0.pvalueAdjusted ?? $0.pvalue }
            rows.append([f.name, f.drifted ? "DRIFTED" : (f.status == .insufficientData ? "too few" : "ok"),
                         num(f.psi), num(f.ks?.statistic), num(p), num(f.js), num(f.quality.missingShare * 100) + "%"])
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
    if let q = d.quality {
        out += "\nquality (\(q.metric), window \(q.seq), \(q.labelledRows) labelled rows): realized \(num(q.realized)), estimated \(num(q.estimatedValue)), baseline \(num(q.baseline))"
        if let degraded = q.degraded { out += degraded ? paint(" DEGRADED", "31") : " ok" }
        out += "\n"
    }
    if let e = d.episode {
        out += "\nepisode \(e.id) (\(e.state.rawValue)): "
        out += e.transitions.map { "\($0.from.rawValue)→\($0.to.rawValue) @ window \($0.window_seq)" }.joined(separator: ", ") + "\n"
        for a in e.actions {
            out += "  action \(a.key): \(a.stateLine(model: d.model))\(a.last_error.map { " (\($0))" } ?? "")\n"
        }
        for r in e.remediations {
            out += "  \(r.kind.rawValue) \(r.name): \(r.state.rawValue)\(r.detail.map { " (\($0))" } ?? "")\n"
        }
    }
    for c in d.candidates {
        out += "candidate \(c.version) (shadow \(c.shadow)): gate \(c.verdict.rawValue)"
        out += c.reasons.isEmpty ? "\n" : " — \(c.reasons.joined(separator: "; "))\n"
    }
    out += "\nrunbook: \(d.runbook_url)\n"
    return out
}
