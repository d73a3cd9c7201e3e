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
        guard let doc = try decodeServiceAnswer(TerminalReport.self, data: data, url: url, format: format) else { return }
        print(renderTerminalReport(doc, colour: isatty(STDOUT_FILENO) == 1), terminator: "")
    }
}

/// A number of the report as the table shows it; a value that is not a number (absent, null,
/// an object) is shown as "—".
struct Figure: Decodable {
    var value: Double?
    init(value: Double?) { self.value = value }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = c.decodeNil() ? nil : (try? c.decode(Double.self))
    }
}

/// The parts of `GET /v1/models/{model}/report` the text report shows.
struct TerminalReport: Decodable {
    struct MLflow: Decodable {
        var runID: String?
        var artifact: String?
        var modelVersion: String?
        var registeredModel: String?
        enum CodingKeys: String, CodingKey { case runID = "run_id", artifact, modelVersion = "model_version", registeredModel = "registered_model" }
    }
    struct Test: Decodable {
        var statistic: Figure?
        var pvalue: Figure?
        var pvalueAdjusted: Figure?
        enum CodingKeys: String, CodingKey { case statistic, pvalue, pvalueAdjusted = "pvalue_adjusted" }
        /// The adjusted p-value when there is one.
        var p: Double? { pvalueAdjusted?.value ?? pvalue?.value }
    }
    struct Feature: Decodable {
        struct Quality: Decodable {
            var missingShare: Figure?
            enum CodingKeys: String, CodingKey { case missingShare = "missing_share" }
        }
        var name: String?
        var drifted: Bool?
        var status: String?
        var psi: Figure?
        var js: Figure?
        var ks: Test?
        var chi2: Test?
        var quality: Quality?
    }
    struct Window: Decodable {
        struct Summary: Decodable { var drifted: Figure?; var evaluated: Figure? }
        var seq: Figure?
        var startedAt: Figure?
        var endedAt: Figure?
        var rows: Figure?
        var summary: Summary?
        var features: [Feature]?
        var prediction: Feature?
        enum CodingKeys: String, CodingKey { case seq, startedAt = "started_at", endedAt = "ended_at", rows, summary, features, prediction }
    }
    struct Quality: Decodable {
        var metric: String?
        var seq: Figure?
        var labelledRows: Figure?
        var realized: Figure?
        var estimatedValue: Figure?
        var baseline: Figure?
        var degraded: Bool?
        enum CodingKeys: String, CodingKey {
            case metric, seq, labelledRows = "labelled_rows", realized, estimatedValue = "estimated_value", baseline, degraded
        }
    }
    struct Episode: Decodable {
        struct Transition: Decodable {
            var from: String?
            var to: String?
            var windowSeq: Figure?
            enum CodingKeys: String, CodingKey { case from, to, windowSeq = "window_seq" }
        }
        struct Action: Decodable {
            var key: String?
            var state: String?
            var lastError: String?
            enum CodingKeys: String, CodingKey { case key, state, lastError = "last_error" }
        }
        struct Remediation: Decodable { var kind: String?; var name: String?; var state: String?; var detail: String? }
        var id: Figure?
        var state: String?
        var transitions: [Transition]?
        var actions: [Action]?
        var remediations: [Remediation]?
    }
    struct Candidate: Decodable { var version: String?; var shadow: String?; var verdict: String?; var reasons: [String]? }
    var model: String?
    var state: String?
    var since: Double?
    var mlflow: MLflow?
    var latest: Window?
    var quality: Quality?
    var episode: Episode?
    var candidates: [Candidate]?
    var runbookURL: String?
    enum CodingKeys: String, CodingKey {
        case model, state, since, mlflow, latest, quality, episode, candidates, runbookURL = "runbook_url"
    }
}

/// The report as text: banner, drifted features first, quality, actions.
func renderTerminalReport(_ d: TerminalReport, colour: Bool) -> String {
    func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func num(_ v: Figure?) -> String { v?.value.map(formatFigure) ?? "—" }
    func time(_ v: Figure?) -> String {
        guard let t = v?.value else { return "—" }
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t))
    }
    var out = ""
    let state = d.state ?? "ok"
    let stateCode = ["confirmed": "1;31", "suspected": "1;33", "resolved": "1;32", "ok": "1;32"][state] ?? "1"
    out += paint("\(d.model ?? "?"): \(state.uppercased())", stateCode)
    if let since = d.since { out += " since \(time(Figure(value: since)))" }
    out += "\n"
    if let m = d.mlflow, let run = m.runID {
        out += "baseline: MLflow run \(run) (\(m.artifact ?? "?"))"
        if let v = m.modelVersion { out += ", \(m.registeredModel ?? "model") version \(v)" }
        out += "\n"
    }
    if let latest = d.latest {
        out += "window \(num(latest.seq)) (\(time(latest.startedAt)) – \(time(latest.endedAt))): \(num(latest.summary?.drifted)) of \(num(latest.summary?.evaluated)) features drifted, \(num(latest.rows)) rows\n\n"
        var features = latest.features ?? []
        if let p = latest.prediction { features.append(p) }
        features.sort { a, b in
            let da = a.drifted ?? false, db = b.drifted ?? false
            if da != db { return da }
            return (a.psi?.value ?? 0) > (b.psi?.value ?? 0)
        }
        let header = ["feature", "verdict", "PSI", "KS D", "p (adj.)", "JS", "missing"]
        var rows: [[String]] = []
        for f in features {
            let p = f.ks?.p ?? f.chi2?.p
            let drifted = f.drifted ?? false
            rows.append([f.name ?? "?", drifted ? "DRIFTED" : (f.status == "insufficient_data" ? "too few" : "ok"),
                         num(f.psi), num(f.ks?.statistic), num(Figure(value: p)), num(f.js), num(Figure(value: f.quality?.missingShare?.value.map { $0 * 100 })) + "%"])
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
        out += "\nquality (\(q.metric ?? "?"), window \(num(q.seq)), \(num(q.labelledRows)) labelled rows): realized \(num(q.realized)), estimated \(num(q.estimatedValue)), baseline \(num(q.baseline))"
        if let degraded = q.degraded { out += degraded ? paint(" DEGRADED", "31") : " ok" }
        out += "\n"
    }
    if let e = d.episode {
        out += "\nepisode \(num(e.id)) (\(e.state ?? "?")): "
        out += (e.transitions ?? []).map { "\($0.from ?? "")→\($0.to ?? "") @ window \(num($0.windowSeq))" }.joined(separator: ", ") + "\n"
        for a in e.actions ?? [] {
            out += "  action \(a.key ?? "?"): \(a.state ?? "?")\(a.lastError.map { " (\($0))" } ?? "")\n"
        }
        for r in e.remediations ?? [] {
            out += "  \(r.kind ?? "?") \(r.name ?? "?"): \(r.state ?? "?")\(r.detail.map { " (\($0))" } ?? "")\n"
        }
    }
    for c in d.candidates ?? [] {
        out += "candidate \(c.version ?? "?") (shadow \(c.shadow ?? "?")): gate \(c.verdict ?? "?")"
        let reasons = c.reasons ?? []
        out += reasons.isEmpty ? "\n" : " — \(reasons.joined(separator: "; "))\n"
    }
    out += "\nrunbook: \(d.runbookURL ?? "")\n"
    return out
}
