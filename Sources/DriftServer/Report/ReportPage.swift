import DriftCore
import DriftStats
import DriftStore
import Foundation

// The on-call drift report: one JSON document (`GET /v1/models/{model}/report`, what
// `driftwatch report` prints) and its server-rendered HTML page (`GET /models/{model}`,
// `/models/{model}/episodes/{id}`: the target of alert links). No external assets: styles
// and charts (inline SVG) are in the page, so it works in an air-gapped cluster. The HTML is
// also well-formed XML (tested with a strict parser).

/// The on-call report of one model: `GET /v1/models/{model}/report`, decoded by `driftwatch report`.
public struct ReportDocument: Codable, Sendable {
    /// One of the recent windows on the timeline.
    public struct WindowSummary: Codable, Sendable {
        public var seq: Int
        public var started_at: Double
        public var ended_at: Double
        public var rows: Int
        public var drifted: Bool
        public var drift_share: Double
    }
    /// A candidate and its gate verdict.
    public struct Candidate: Codable, Sendable {
        public var version: String
        public var verdict: GateVerdict
        public var reasons: [String]
        public var shadow: String
    }

    public var model: String
    public var generated_at: Double
    public var state: EpisodeState
    public var since: Double?
    public var episode: EpisodeDocument?
    public var windows: [WindowSummary]
    public var latest: WindowReport?
    public var quality: WindowQuality?
    public var quality_state: EpisodeState?
    public var candidates: [Candidate]
    public var runbook_url: String
    /// The MLflow run and model version the baseline came from.
    public var mlflow: MLflowLink?
}

extension DriftService {
    /// Everything the on-call report shows; `episodeID` picks an episode (else the latest).
    func reportDocument(_ name: String, episodeID: Int64?) async throws -> ReportDocument {
        let m = try await monitor(name)
        let status = try await m.status()
        let latest = await m.lastReport
        var episode: EpisodeRecord?
        if let episodeID {
            guard let e = try store.episode(id: episodeID), e.model == name else {
                throw Problem.notFound("model \"\(name)\" has no episode \(episodeID)")
            }
            episode = e
        } else {
            episode = try store.episodes(model: name, kind: .drift, limit: 1).first
        }
        let episodeDoc = try episode.map(episodeDocument)
        let windows = try store.windowSummaries(model: name, limit: 30).reversed().map {
            ReportDocument.WindowSummary(seq: $0.seq, started_at: $0.startedAt.timeIntervalSince1970, ended_at: $0.endedAt.timeIntervalSince1970,
                                         rows: $0.rows, drifted: $0.drifted, drift_share: $0.driftShare)
        }
        let quality = try store.windowQualities(model: name, limit: 1).first
        let candidates = try store.candidates(model: name, limit: 5).map { c in
            ReportDocument.Candidate(version: c.version, verdict: c.verdict, reasons: c.decision?.reasons ?? [], shadow: c.shadowName)
        }
        return ReportDocument(
            model: name, generated_at: clock().timeIntervalSince1970, state: status.episode.state, since: status.episode.since,
            episode: episodeDoc, windows: windows, latest: latest, quality: quality, quality_state: await m.qualityState,
            candidates: candidates, runbook_url: AlertPolicy.runbookURL, mlflow: status.mlflow)
    }
}

/// An episode with its transitions, its actions' delivery state and its remediations: the
/// objects of `GET /v1/models/{model}/episodes` and of the report.
public struct EpisodeDocument: Codable, Sendable {
    /// One state change.
    public struct Transition: Codable, Sendable {
        public var from: EpisodeState
        public var to: EpisodeState
        public var at: Double
        public var window_seq: Int
    }
    /// A remediation of the episode.
    public struct Remediation: Codable, Sendable {
        public var kind: RemediationKind
        public var name: String
        public var state: RemediationState
        public var detail: String?
        public var updated_at: Double
    }
    public var id: Int64
    public var kind: EpisodeKind
    public var state: EpisodeRecordState
    public var opened_at: Double
    public var confirmed_at: Double?
    public var resolved_at: Double?
    public var last_window_seq: Int
    /// From the evidence of the confirming (or opening) transition.
    public var drifted_features: [String]
    public var transitions: [Transition]
    public var actions: [ActionDocument]
    public var remediations: [Remediation]
}

extension DriftService {
    func episodeDocument(_ e: EpisodeRecord) throws -> EpisodeDocument {
        var driftedFeatures: [String] = []
        if case .drift(let t) = e.evidence { driftedFeatures = t.driftedFeatures }
        return EpisodeDocument(
            id: e.id, kind: e.kind, state: e.state, opened_at: e.openedAt.timeIntervalSince1970,
            confirmed_at: e.confirmedAt?.timeIntervalSince1970, resolved_at: e.resolvedAt?.timeIntervalSince1970,
            last_window_seq: e.lastWindowSeq, drifted_features: driftedFeatures,
            transitions: try store.transitions(episodeID: e.id).map {
                .init(from: $0.from, to: $0.to, at: $0.at.timeIntervalSince1970, window_seq: $0.windowSeq)
            },
            actions: try store.actions(episodeID: e.id).map(ActionDocument.init),
            remediations: try store.remediations(episodeID: e.id).reversed().map { r in
                .init(kind: r.kind, name: r.name, state: r.state, detail: r.detail, updated_at: r.updatedAt.timeIntervalSince1970)
            })
    }
}

/// Escapes text for HTML element content and attribute values (feature names and categories
/// come from users).
func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters are not allowed in XML 1.0: dropped.
            if c.value < 0x20 && c != "\n" && c != "\t" { continue }
            out.unicodeScalars.append(c)
        }
    }
    return out
}

private func utc(_ t: Double?) -> String {
    guard let t else { return "—" }
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return f.string(from: Date(timeIntervalSince1970: t))
}

private func fig(_ x: Double?) -> String { x.map(formatFigure) ?? "—" }

private let pageStyle = """
    body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    main{max-width:1100px;margin:0 auto;padding:16px}
    h1{font-size:22px;margin:4px 0 12px} h2{font-size:17px;margin:22px 0 8px}
    .banner{border-radius:8px;padding:14px 16px;color:#fff;font-size:17px}
    .ok,.resolved{background:#2e7d32} .suspected{background:#ef8f00} .confirmed{background:#c62828}
    .card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 14px;margin:10px 0}
    table{border-collapse:collapse;width:100%;font-size:14px} th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ee;vertical-align:top}
    th{background:#eef1f5;font-weight:600} tr.drifted td{background:#fdecea} td.num{text-align:right;font-variant-numeric:tabular-nums}
    .scroll{overflow-x:auto} .tl{display:flex;flex-wrap:wrap;gap:3px} .tl span{display:inline-block;width:22px;height:22px;border-radius:3px;font-size:10px;color:#fff;text-align:center;line-height:22px}
    .tl .d{background:#c62828} .tl .c{background:#2e7d32} .muted{color:#5f6b7a} .charts{display:flex;flex-wrap:wrap;gap:12px}
    .chart{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:6px;flex:1 1 320px;max-width:520px}
    a{color:#1a56c4} code{background:#eef1f5;padding:1px 4px;border-radius:3px}
    """

private func page(title: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>\(escapeHTML(title))</title><style>\(pageStyle)</style></head>
    <body><main>\(body)</main></body></html>
    """
}

/// Baseline vs current shares per bin as an inline SVG bar chart (labelled axes and legend).
func distributionSVG(title: String, bins: BinnedShares) -> String {
    var labels: [String]
    switch bins.kind {
    case "categories":
        labels = bins.labels ?? bins.reference.indices.map { "#\($0 + 1)" }
    case "quantile":
        let b = bins.boundaries.map(formatFigure)
        labels = bins.reference.indices.map { i in
            i == 0 ? "≤ \(b.first ?? "")" : (i >= b.count ? "> \(b.last ?? "")" : "\(b[i - 1])–\(b[i])")
        }
    case "value_counts":
        labels = bins.boundaries.map(formatFigure)
    default:
        let e = bins.boundaries.map(formatFigure)
        labels = bins.reference.indices.map { i in i + 1 < e.count ? "\(e[i])–\(e[i + 1])" : "bin \(i + 1)" }
    }
    // At most 24 bars: the largest shift first is what matters, but keep bin order for numbers.
    var indices = Array(bins.reference.indices)
    if indices.count > 24 {
        indices = Array(indices.sorted { abs(bins.current[$0] - bins.reference[$0]) > abs(bins.current[$1] - bins.reference[$1]) }.prefix(24)).sorted()
    }
    while labels.count < bins.reference.count { labels.append("") }
    let width = 500.0, height = 230.0, left = 44.0, bottom = 62.0, top = 24.0
    let plotW = width - left - 10, plotH = height - bottom - top
    let maxShare = max(0.01, indices.map { max(bins.reference[$0], $0 < bins.current.count ? bins.current[$0] : 0) }.max() ?? 0.01)
    let slot = plotW / Double(max(indices.count, 1))
    var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="\(escapeHTML(title)): baseline vs current">
        <text x="\(left)" y="14" font-size="12" font-weight="600">\(escapeHTML(title))</text>
        <rect x="\(width - 170)" y="5" width="10" height="10" fill="#9aa5b4"/><text x="\(width - 156)" y="14" font-size="11">baseline</text>
        <rect x="\(width - 95)" y="5" width="10" height="10" fill="#e8710a"/><text x="\(width - 81)" y="14" font-size="11">current</text>
        <line x1="\(left)" y1="\(top + plotH)" x2="\(left + plotW)" y2="\(top + plotH)" stroke="#444"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(top + plotH)" stroke="#444"/>
        <text x="\(left - 4)" y="\(top + 4)" font-size="10" text-anchor="end">\(formatFigure(maxShare * 100))%</text>
        <text x="\(left - 4)" y="\(top + plotH)" font-size="10" text-anchor="end">0</text>
        <text x="10" y="\(top + plotH / 2)" font-size="10" transform="rotate(-90 10 \(top + plotH / 2))" text-anchor="middle">share of rows</text>
        """
    for (k, i) in indices.enumerated() {
        let x = left + Double(k) * slot
        let bw = max(1, slot * 0.4)
        let rh = bins.reference[i] / maxShare * plotH
        let ch = (i < bins.current.count ? bins.current[i] : 0) / maxShare * plotH
        svg += "<rect x=\"\(f1(x + slot * 0.08))\" y=\"\(f1(top + plotH - rh))\" width=\"\(f1(bw))\" height=\"\(f1(rh))\" fill=\"#9aa5b4\"><title>\(escapeHTML(labels[i])): baseline \(formatFigure(bins.reference[i] * 100))%</title></rect>"
        svg += "<rect x=\"\(f1(x + slot * 0.08 + bw))\" y=\"\(f1(top + plotH - ch))\" width=\"\(f1(bw))\" height=\"\(f1(ch))\" fill=\"#e8710a\"><title>\(escapeHTML(labels[i])): current \(formatFigure((i < bins.current.count ? bins.current[i] : 0) * 100))%</title></rect>"
        let label = labels[i].count > 14 ? String(labels[i].prefix(13)) + "…" : labels[i]
        let lx = x + slot / 2, ly = top + plotH + 10
        svg += "<text x=\"\(f1(lx))\" y=\"\(f1(ly))\" font-size=\"9\" text-anchor=\"end\" transform=\"rotate(-40 \(f1(lx)) \(f1(ly)))\">\(escapeHTML(label))</text>"
    }
    svg += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 2)\" font-size=\"10\" text-anchor=\"middle\">\(bins.kind == "categories" ? "category" : "value bin (\(escapeHTML(bins.kind)))")</text></svg>"
    return svg
}

private func f1(_ x: Double) -> String { String(format: "%.1f", x) }

/// The model page (`GET /models/{model}`, `/models/{model}/episodes/{id}`).
func renderModelPage(_ d: ReportDocument) -> String {
    var b = ""
    let model = escapeHTML(d.model)
    b += "<p class=\"muted\"><a href=\"/\">all models</a> · JSON: <a href=\"/v1/models/\(model)/report\">report</a> · generated \(utc(d.generated_at))</p>"
    b += "<h1>Model \(model)</h1>"
    let stateText: String
    switch d.state {
    case .confirmed: stateText = "Drift confirmed"
    case .suspected: stateText = "Drift suspected"
    case .resolved: stateText = "Drift resolved"
    case .ok: stateText = "No drift"
    }
    var banner = "<div class=\"banner \(escapeHTML(d.state.rawValue))\"><strong>\(stateText)</strong>"
    if let since = d.since { banner += " since \(utc(since))" }
    if let latest = d.latest {
        banner += " · last window \(latest.seq): \(latest.summary.drifted) of \(latest.summary.evaluated) features drifted (\(formatFigure(latest.summary.driftedShare * 100))%), \(latest.rows) rows"
    }
    b += banner + "</div>"
    // Why the last window is drifted or not: the rule that decided, with its figures.
    if let latest = d.latest { b += "<p class=\"muted\">\(escapeHTML(latest.verdictExplanation))</p>" }
    if let m = d.mlflow {
        // Where the baseline came from: the training run and the model version in production.
        let version = m.modelVersion.map { " · \(escapeHTML(m.registeredModel)) version \(escapeHTML($0))" } ?? ""
        b += "<p class=\"muted\">Baseline from MLflow run <code>\(escapeHTML(m.runID))</code>\(m.runName.map { " (\(escapeHTML($0)))" } ?? ""), artifact <code>\(escapeHTML(m.artifact))</code>\(version)</p>"
    }

    // What to do next.
    b += "<div class=\"card\"><strong>Next steps:</strong> check the drifted features below against upstream changes (a new data source, a schema or unit change, a seasonal shift); see the <a href=\"\(escapeHTML(d.runbook_url))\">runbook</a>."
    if d.state == .confirmed { b += " Retraining and the shadow candidate's gate verdict are listed under <em>What driftwatch did</em>." }
    b += "</div>"

    // Timeline.
    b += "<h2>Recent windows</h2><div class=\"card\"><div class=\"tl\">"
    for w in d.windows {
        b += "<span class=\"\(w.drifted ? "d" : "c")\" title=\"window \(w.seq): \(w.rows) rows, drifted share \(formatFigure(w.drift_share)), ended \(utc(w.ended_at))\">\(w.seq)</span>"
    }
    if d.windows.isEmpty { b += "<span class=\"muted\" style=\"width:auto;color:#5f6b7a\">no window evaluated yet</span>" }
    b += "</div><p class=\"muted\">red: drifted window · green: clean</p>"
    if let e = d.episode, !e.transitions.isEmpty {
        b += "<table><tr><th>episode \(e.id) (\(escapeHTML(e.kind.rawValue)))</th><th>at</th><th>window</th></tr>"
        for t in e.transitions { b += "<tr><td>\(escapeHTML(t.from.rawValue)) → \(escapeHTML(t.to.rawValue))</td><td>\(utc(t.at))</td><td class=\"num\">\(t.window_seq)</td></tr>" }
        b += "</table>"
    }
    b += "</div>"

    // Features, most severe first.
    if let r = d.latest {
        let features = r.allResults.sorted { a, c in
            if a.drifted != c.drifted { return a.drifted }
            return (a.psi ?? 0) > (c.psi ?? 0)
        }
        b += "<h2>Features in window \(r.seq) (\(utc(r.startedAt)) – \(utc(r.endedAt)))</h2><div class=\"card scroll\"><table>"
        b += "<tr><th>feature</th><th>verdict</th><th>PSI</th><th>PSI threshold</th><th>KS D</th><th>KS p (adj.)</th><th>χ² p (adj.)</th><th>JS</th><th>p50 shift</th><th>p95 shift</th><th>missing</th><th>unseen categories</th></tr>"
        for f in features {
            let isPrediction = f.name == r.prediction?.name
            let verdict = f.effect.map { $0 == .moderate ? "drifted" : "drifted (\($0.rawValue))" } ?? (f.status == .insufficientData ? "too few values" : "ok")
            b += "<tr class=\"\(f.drifted ? "drifted" : "")\"><td>\(escapeHTML(f.name))\(isPrediction ? " <span class=\"muted\">(prediction)</span>" : "")</td><td>\(verdict)</td>"
            // The PSI threshold that decided: calibrated on baseline chunks (with the fixed one beside it) or fixed.
            let psiThreshold: String
            if let t = f.thresholds, t.isCalibrated, let c = t.decidingPSIThreshold {
                psiThreshold = "\(fig(c)) <span class=\"muted\">calibrated (fixed \(fig(r.detector.psiThreshold)))</span>"
            } else {
                psiThreshold = fig(r.detector.psiThreshold)
            }
            b += "<td class=\"num\">\(fig(f.psi))</td><td class=\"num\">\(psiThreshold)</td><td class=\"num\">\(fig(f.ks?.statistic))</td><td class=\"num\">\(fig(f.ks?.pvalueAdjusted ?? f.ks?.pvalue))</td>"
            b += "<td class=\"num\">\(fig(f.chi2?.pvalueAdjusted ?? f.chi2?.pvalue))</td><td class=\"num\">\(fig(f.js))</td>"
            b += "<td class=\"num\">\(fig(f.percentiles?.shift["p50"]))</td><td class=\"num\">\(fig(f.percentiles?.shift["p95"]))</td>"
            b += "<td class=\"num\">\(formatFigure(f.quality.missingShare * 100))%</td>"
            b += "<td>\(f.quality.unseenCount > 0 ? "\(f.quality.unseenCount) rows: " + escapeHTML(f.quality.unseenCategories.prefix(5).joined(separator: ", ")) : "")</td></tr>"
        }
        b += "</table>"
        if let mv = r.multivariate {
            b += "<p><strong>Multivariate</strong> (PCA, \(mv.components) components, \(formatFigure(mv.explainedVarianceShare * 100))% of variance): reconstruction error \(fig(mv.reconstructionError)), baseline band [\(fig(mv.lowerThreshold)), \(fig(mv.upperThreshold))] — \(mv.drifted ? "<strong>drifted</strong>: how the features move together changed" : "no drift")</p>"
        }
        b += "</div>"

        let charted = features.filter { $0.drifted || $0.name == r.prediction?.name }.prefix(12)
        if !charted.isEmpty {
            b += "<h2>Distributions: baseline vs current</h2><div class=\"charts\">"
            for f in charted {
                if let bins = f.bins {
                    b += "<div class=\"chart\">" + distributionSVG(title: f.name + (f.name == r.prediction?.name ? " (prediction)" : ""), bins: bins) + "</div>"
                }
            }
            b += "</div>"
        }

        b += "<h2>Data quality in window \(r.seq)</h2><div class=\"card scroll\"><table><tr><th>feature</th><th>missing</th><th>NaN</th><th>±Inf</th><th>wrong type</th><th>out of range</th><th>unseen category</th></tr>"
        for f in r.features {
            let q = f.quality
            b += "<tr><td>\(escapeHTML(f.name))</td><td class=\"num\">\(q.missing)</td><td class=\"num\">\(q.nan)</td><td class=\"num\">\(q.infinite)</td><td class=\"num\">\(q.wrongType)</td><td class=\"num\">\(q.outOfRange.map(String.init) ?? "—")</td><td class=\"num\">\(q.unseenCount)</td></tr>"
        }
        b += "</table></div>"
    } else {
        b += "<div class=\"card muted\">No window has been evaluated yet: driftwatch needs a baseline and at least <code>min_rows</code> observations.</div>"
    }

    // Model quality.
    if let q = d.quality {
        b += "<h2>Model quality (window \(q.seq), \(q.labelledRows) labelled rows)</h2><div class=\"card\"><table><tr><th>\(escapeHTML(q.metric))</th><th>value</th></tr>"
        b += "<tr><td>realized (labels)</td><td class=\"num\">\(fig(q.realized))</td></tr><tr><td>estimated (CBPE, before labels)</td><td class=\"num\">\(fig(q.estimatedValue))</td></tr><tr><td>baseline</td><td class=\"num\">\(fig(q.baseline))</td></tr>"
        b += "<tr><td>verdict</td><td>\(q.degraded.map { $0 ? "degraded" : "ok" } ?? "waiting for labels")\(d.quality_state.map { " · quality episode: " + escapeHTML($0.rawValue) } ?? "")</td></tr></table>"
        if !q.segments.isEmpty {
            b += "<table><tr><th>segment</th><th>rows</th><th>\(escapeHTML(q.metric))</th><th>gap to overall</th></tr>"
            for s in q.segments { b += "<tr><td>\(escapeHTML(s.segment))</td><td class=\"num\">\(s.rows)</td><td class=\"num\">\(fig(s.value))</td><td class=\"num\">\(fig(s.gap))</td></tr>" }
            b += "</table>"
        }
        b += "</div>"
    }

    // What driftwatch did.
    b += "<h2>What driftwatch did</h2><div class=\"card\">"
    if let e = d.episode, !(e.actions.isEmpty && e.remediations.isEmpty) {
        b += "<table><tr><th>action</th><th>state</th><th>detail</th></tr>"
        for a in e.actions {
            b += "<tr><td>\(a.kind == "alertmanager" ? "Alertmanager: " : "") \(escapeHTML(a.key))</td><td>\(escapeHTML(a.stateLine(model: d.model)))</td><td>\(escapeHTML(a.last_error ?? ""))</td></tr>"
        }
        for r in e.remediations {
            b += "<tr><td>\(escapeHTML(r.kind.rawValue)): \(escapeHTML(r.name))</td><td>\(escapeHTML(r.state.rawValue))</td><td>\(escapeHTML(r.detail ?? ""))</td></tr>"
        }
        b += "</table>"
    } else {
        b += "<p class=\"muted\">Nothing yet for this episode.</p>"
    }
    if !d.candidates.isEmpty {
        b += "<table><tr><th>candidate</th><th>shadow scorer</th><th>gate</th><th>why</th></tr>"
        for c in d.candidates {
            b += "<tr><td>\(escapeHTML(c.version))</td><td>\(escapeHTML(c.shadow))</td><td>\(escapeHTML(c.verdict.rawValue))</td><td>\(escapeHTML(c.reasons.joined(separator: "; ")))</td></tr>"
        }
        b += "</table>"
    }
    b += "</div>"
    return page(title: "driftwatch · \(d.model) · \(stateText)", body: b)
}

/// `GET /`: every model with its state, worst features and last window.
func renderIndexPage(_ rows: [(name: String, state: EpisodeState, worst: [String], lastWindow: Double?, rows: Int)]) -> String {
    var b = "<h1>driftwatch</h1><div class=\"card scroll\"><table><tr><th>model</th><th>state</th><th>worst features (last window)</th><th>last window ended</th><th>observations stored</th></tr>"
    for r in rows {
        let name = escapeHTML(r.name)
        b += "<tr class=\"\(r.state == .confirmed ? "drifted" : "")\"><td><a href=\"/models/\(name)\">\(name)</a></td><td>\(escapeHTML(r.state.rawValue))</td><td>\(escapeHTML(r.worst.joined(separator: ", ")))</td><td>\(utc(r.lastWindow))</td><td class=\"num\">\(r.rows)</td></tr>"
    }
    if rows.isEmpty { b += "<tr><td colspan=\"5\" class=\"muted\">No models yet: <code>PUT /v1/models/NAME</code>.</td></tr>" }
    b += "</table></div>"
    return page(title: "driftwatch", body: b)
}
