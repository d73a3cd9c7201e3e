import DriftCore

/// The people-facing table of `driftwatch check`: one row per feature, drifted first.
func renderTable(_ report: DriftReport, color: Bool) -> String {
    let red = color ? "\u{1B}[31;1m" : ""
    let yellow = color ? "\u{1B}[33m" : ""
    let dim = color ? "\u{1B}[2m" : ""
    let reset = color ? "\u{1B}[0m" : ""
    let calibrated = report.detector.calibration == .baselineChunks
    var header = ["feature", "kind", "status", "psi", "test", "stat", "p_adj", "js", "w1_norm", "missing", "p50 shift"]
    if calibrated { header.insert("psi_thr", at: 4) }
    var rows: [[String]] = []
    // The prediction last, marked: it is judged on its own, outside the features' share.
    let listed = report.allResults
    for f in listed {
        let test = f.ks != nil ? "ks" : (f.chi2 != nil ? "chi2" : "-")
        let stat = f.ks.map { formatFigure($0.statistic) } ?? f.chi2.map { $0.statistic.map(formatFigure) ?? "inf" } ?? "-"
        let padj = (f.ks?.pvalueAdjusted ?? f.chi2?.pvalueAdjusted).map(formatFigure) ?? "-"
        let shift = f.percentiles?.shift["p50"].map(formatFigure) ?? "-"
        let status = f.status == .insufficientData ? "insufficient" : (f.effect.map { $0 == .moderate ? "drifted" : "drifted (\($0.rawValue))" } ?? f.status.rawValue)
        rows.append([
            f.name + (f.name == report.prediction?.name ? " (prediction)" : ""), f.kind.rawValue, status,
            f.psi.map(formatFigure) ?? "-", test, stat, padj,
            f.js.map(formatFigure) ?? "-", f.wassersteinNormed.map(formatFigure) ?? "-",
            formatFigure(f.quality.missingShare * 100) + "%", shift,
        ])
        if calibrated {
            // The PSI threshold that decided: calibrated, or fixed (marked) when the baseline was too small.
            let cell = f.thresholds.flatMap { t in t.decidingPSIThreshold.map { formatFigure($0) + (t.isCalibrated ? "" : "*") } }
            rows[rows.count - 1].insert(cell ?? "-", at: 4)
        }
    }
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            i < 3 ? c.padding(toLength: widths[i]) : String(repeating: " ", count: widths[i] - c.count) + c
        }.joined(separator: "  ")
    }
    var out = line(header) + "\n"
    for (row, f) in zip(rows, listed) {
        let paint = f.status == .drifted ? red : (f.status == .insufficientData ? dim : "")
        out += paint + line(row) + (paint.isEmpty ? "" : reset) + "\n"
    }
    let s = report.summary
    let shareVerdict = s.datasetDrifted ? "\(red)DATASET DRIFT\(reset)" : "no dataset drift"
    if calibrated {
        out += "\n\(dim)psi_thr: PSI threshold calibrated on baseline chunks of \(report.current.rows) rows (mean + \(formatFigure(report.detector.calibrationK))σ); * = fixed, baseline too small\(reset)"
    }
    out += "\n\(s.drifted) of \(s.evaluated) evaluated features drifted (share \(formatFigure(s.driftedShare)), threshold \(formatFigure(s.driftShareThreshold))): \(shareVerdict)"
    if s.insufficient > 0 { out += "\n\(yellow)\(s.insufficient) feature(s) with insufficient data\(reset)" }
    if !s.extraColumns.isEmpty { out += "\n\(dim)not in the baseline, not evaluated: \(s.extraColumns.joined(separator: ", "))\(reset)" }
    if let m = report.multivariate {
        let band = "[\(formatFigure(m.lowerThreshold)), \(formatFigure(m.upperThreshold))]"
        out += "\nmultivariate (PCA, \(m.components) components, \(formatFigure(m.explainedVarianceShare * 100))% of variance): reconstruction error \(formatFigure(m.reconstructionError)), baseline band \(band): "
        out += m.drifted ? "\(red)DRIFTED\(reset)" : "no drift"
    }
    // The verdict that sets the exit code, and the rule that made it.
    let paint = s.windowDrifted ? red : ""
    out += "\n\(paint)verdict (exit \(s.windowDrifted ? 1 : 0)): \(report.verdictExplanation)\(paint.isEmpty ? "" : reset)"
    out += "\nbaseline \(report.baseline.rows) rows, current \(report.current.rows) rows\n"
    return out
}

extension String {
    func padding(toLength n: Int) -> String {
        count >= n ? self : self + String(repeating: " ", count: n - count)
    }
}
