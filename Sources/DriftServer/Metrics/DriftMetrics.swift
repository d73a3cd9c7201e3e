import DriftActions
import DriftCore
import DriftStore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The service's Prometheus metrics. Domain metrics live in `registry` with help text;
/// Hummingbird's request metrics come through swift-metrics into `httpRegistry` (swift-metrics
/// carries no help text, so `/metrics` adds it — promtool's lint wants HELP on every family).
public final class DriftMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let httpRegistry = PrometheusCollectorRegistry()

    /// swift-metrics names from Hummingbird's MetricsMiddleware → Prometheus names and help.
    static let httpNames: [String: (name: String, help: String)] = [
        "hb.requests": ("driftwatch_http_requests_total", "HTTP requests handled, by method, route and status."),
        "hb.request.errors": ("driftwatch_http_request_errors_total", "HTTP requests that ended in an error, by method and route."),
        "http.server.request.duration": ("driftwatch_http_request_duration_seconds", "HTTP request duration in seconds, by method, route and status."),
        "http.server.active_requests": ("driftwatch_http_active_requests", "HTTP requests in flight, by method."),
    ]

    public init() {}

    /// The most distinct values a sender-chosen label may take per model and metric family;
    /// values beyond become `_other`. With at most `max_models` models and a schema of at most
    /// 1,000 features, this bounds every family of /metrics (README, "Limits").
    public static let senderLabelValuesPerModel = 100
    /// The value that stands for every label value past the bound.
    public static let overflowLabelValue = "_other"

    /// Sender-chosen label values seen so far, by model and family.
    private let senderLabelValues = Mutex<[String: [String: Set<String>]]>([:])

    /// `value` while fewer than `senderLabelValuesPerModel` distinct values are in use for this
    /// model and family (or it is one of them), else `_other`.
    func bounded(_ model: String, _ family: String, _ value: String) -> String {
        senderLabelValues.withLock { all in
            var seen = all[model, default: [:]][family, default: []]
            if seen.contains(value) { return value }
            guard seen.count < Self.senderLabelValuesPerModel, isValidFeatureName(value) else { return Self.overflowLabelValue }
            seen.insert(value)
            all[model, default: [:]][family] = seen
            return value
        }
    }

    /// Every series created for a model, so deleting the model removes them from /metrics.
    private struct ModelSeries {
        var gauges: [ObjectIdentifier: Prometheus.Gauge] = [:]
        var counters: [ObjectIdentifier: Prometheus.Counter] = [:]
        var histograms: [ObjectIdentifier: Prometheus.ValueHistogram] = [:]
    }
    private let series = Mutex<[String: ModelSeries]>([:])

    private func gauge(_ model: String, _ descriptor: MetricNameDescriptor, _ labels: [(String, String)]) -> Prometheus.Gauge {
        let g = registry.makeGauge(descriptor: descriptor, labels: labels)
        series.withLock { $0[model, default: ModelSeries()].gauges[ObjectIdentifier(g)] = g }
        return g
    }

    private func counter(_ model: String, _ descriptor: MetricNameDescriptor, _ labels: [(String, String)]) -> Prometheus.Counter {
        let c = registry.makeCounter(descriptor: descriptor, labels: labels)
        series.withLock { $0[model, default: ModelSeries()].counters[ObjectIdentifier(c)] = c }
        return c
    }

    private func histogram(_ model: String, _ descriptor: MetricNameDescriptor, _ labels: [(String, String)], _ buckets: [Double]) -> Prometheus.ValueHistogram {
        let h = registry.makeValueHistogram(descriptor: descriptor, labels: labels, buckets: buckets)
        series.withLock { $0[model, default: ModelSeries()].histograms[ObjectIdentifier(h)] = h }
        return h
    }

    /// Removes every series of a deleted model.
    public func removeModel(_ model: String) {
        senderLabelValues.withLock { $0[model] = nil }
        guard let s = series.withLock({ $0.removeValue(forKey: model) }) else { return }
        for g in s.gauges.values { registry.unregisterGauge(g) }
        for c in s.counters.values { registry.unregisterCounter(c) }
        for h in s.histograms.values { registry.unregisterValueHistogram(h) }
    }

    /// The swift-metrics factory for Hummingbird's MetricsMiddleware.
    public func makeFactory() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: httpRegistry)
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.httpNames[name]?.name ?? "driftwatch_" + name.replacingOccurrences(of: ".", with: "_"), labels)
        }
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5),
        ]
        return factory
    }

    private func d(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, helpText: help)
    }

    // MARK: ingest

    public func observations(model: String, endpoint: Endpoint, _ n: Int) {
        counter(model, d("driftwatch_observations_total", "Observations accepted and stored, by model and endpoint."),
                [("model", model), ("endpoint", endpoint.rawValue)]).increment(by: Int64(n))
    }

    public func rejected(model: String, reason: String, _ n: Int) {
        counter(model, d("driftwatch_observations_rejected_total", "Observations or requests rejected at ingest, by model and reason."),
                [("model", model), ("reason", reason)]).increment(by: Int64(n))
    }

    public func missing(model: String, feature: String, _ n: Int) {
        counter(model, d("driftwatch_feature_missing_total", "Production observations with the feature missing (null, absent or empty)."),
                [("model", model), ("feature", feature)]).increment(by: Int64(n))
    }

    public func violation(model: String, feature: String, check: QualityCheck, _ n: Int) {
        // Unknown features are named by the sender: bounded, unlike the schema's own.
        let feature = check == .unknownFeature ? bounded(model, "unknown_feature", feature) : feature
        counter(model, d("driftwatch_data_quality_violations_total", "Data-quality violations at ingest: missing, nan, infinite, wrong_type, out_of_range (of the baseline), unseen_category, unknown_feature."),
                [("model", model), ("feature", feature), ("check", check.rawValue)]).increment(by: Int64(n))
    }

    public func predictionValues(model: String, _ values: [Double]) {
        let h = histogram(model, d("driftwatch_prediction_value", "Production prediction values (scores), by model."),
                          [("model", model)], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
        for v in values { h.record(v) }
    }

    // MARK: windows

    public func windowRows(model: String, _ rows: Int) {
        gauge(model, d("driftwatch_window_rows", "Production rows in the model's open window."), [("model", model)]).set(Double(rows))
    }

    public func evaluated(model: String, seconds: Double) {
        counter(model, d("driftwatch_window_evaluations_total", "Windows closed and evaluated against the baseline."), [("model", model)]).increment()
        registry.makeValueHistogram(descriptor: d("driftwatch_window_evaluation_seconds", "Time to evaluate one window (all features), seconds."),
                                    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]).record(seconds)
    }

    public func report(model: String, _ report: WindowReport) {
        for f in report.allResults {
            let labels = [("model", model), ("feature", f.name)]
            func publish(_ name: String, _ help: String, _ value: Double?) {
                guard let value, value.isFinite else { return }
                gauge(model, d(name, help), labels).set(value)
            }
            publish("driftwatch_feature_psi", "Population stability index of the feature in the last window against the baseline.", f.psi)
            publish("driftwatch_feature_ks_statistic", "Two-sample KS statistic D of the feature in the last window.", f.ks?.statistic)
            publish("driftwatch_feature_ks_pvalue", "KS p-value (Benjamini-Hochberg adjusted) of the feature in the last window.", f.ks?.pvalueAdjusted ?? f.ks?.pvalue)
            publish("driftwatch_feature_js_distance", "Jensen-Shannon distance of the feature in the last window.", f.js)
            publish("driftwatch_feature_wasserstein_normed", "Wasserstein-1 distance over the baseline's std in the last window.", f.wassersteinNormed)
            // Insufficient data is no evidence of drift: 0, so an earlier 1 does not linger.
            publish("driftwatch_feature_drifted", "1 when the feature drifted in the last window (adjusted p < alpha and PSI over threshold), else 0 (also when the window had too few values to test).",
                  f.drifted ? 1 : 0)
            publish("driftwatch_feature_missing_ratio", "Share of the feature's values missing in the last window.", f.quality.missingShare)
            if let shifts = f.percentiles?.shift {
                for (q, v) in shifts where v.isFinite {
                    // Label `percentile`, not `quantile`: Prometheus reserves `quantile` for
                    // summaries and promtool's lint rejects it on a gauge.
                    gauge(model, d("driftwatch_feature_quantile_shift", "Percentile of the last window minus the baseline's, by percentile (p1…p99)."),
                          labels + [("percentile", q)]).set(v)
                }
            }
        }
        gauge(model, d("driftwatch_model_drift_share", "Share of the model's features that drifted in the last window."),
              [("model", model)]).set(report.summary.driftedShare)
        if let m = report.multivariate, m.reconstructionError.isFinite {
            gauge(model, d("driftwatch_model_reconstruction_error", "Mean PCA reconstruction error of the last window's rows (multivariate drift)."),
                  [("model", model)]).set(m.reconstructionError)
            for (bound, value) in [("lower", m.lowerThreshold), ("upper", m.upperThreshold)] {
                gauge(model, d("driftwatch_model_reconstruction_error_threshold", "The reconstruction error's band from baseline chunks of the window's size (mean ± 3σ), by bound."),
                      [("model", model), ("bound", bound)]).set(value)
            }
        }
    }

    public func episode(model: String, state: EpisodeState) {
        gauge(model, d("driftwatch_model_drift_confirmed", "1 while the model has a confirmed drift episode, else 0."),
              [("model", model)]).set(state == .confirmed ? 1.0 : 0.0)
        for s in EpisodeState.allCases {
            gauge(model, d("driftwatch_model_episode_state", "1 for the model's current episode state (ok, suspected, confirmed, resolved)."),
                  [("model", model), ("state", s.rawValue)]).set(s == state ? 1.0 : 0.0)
        }
    }

    // MARK: actions

    public func action(kind: String, outcome: ActionOutcome.Result, _ n: Int = 1) {
        registry.makeCounter(descriptor: d("driftwatch_actions_total", "Delivery attempts of outbound actions (Alertmanager, MLflow, remediation) by kind and outcome: delivered, retried (failed, still pending), given_up."),
                             labels: [("kind", kind), ("outcome", outcome.rawValue)]).increment(by: Int64(n))
    }

    /// Stored outbox actions by kind in a state that is not final-and-fine: `pending` (not
    /// delivered yet, retrying included) and `given_up` (waiting for an admin's retry). `kinds`
    /// are always exported (0 when none).
    public func actions(_ counts: [String: Int], state: ActionState, kinds: [String]) {
        let descriptor: MetricNameDescriptor
        switch state {
        case .pending: descriptor = d("driftwatch_actions_pending", "Outbox actions not delivered yet (first attempt due, or retrying after a failure), by kind.")
        case .givenUp: descriptor = d("driftwatch_actions_given_up", "Outbox actions given up (attempts used up, or a 4xx), by kind; an admin retry (POST /v1/models/{model}/actions/{key}/retry) makes them pending again.")
        case .delivered: return
        }
        for kind in Set(kinds).union(counts.keys) {
            registry.makeGauge(descriptor: descriptor, labels: [("kind", kind)]).set(Double(counts[kind] ?? 0))
        }
    }

    /// A remediation reached a state (requested, created, running, succeeded, failed, skipped, deleted, patched).
    public func remediation(model: String, kind: String, state: RemediationState) {
        counter(model, d("driftwatch_remediations_total", "Remediation state changes (retraining runs, shadow scorers, promotions) by model, kind and state."),
                [("model", model), ("kind", kind), ("state", state.rawValue)]).increment()
    }

    /// The candidate's current gate verdict: 1 for it, 0 for the other verdicts.
    public func candidateGate(model: String, candidate: String, verdict: GateVerdict) {
        let candidate = bounded(model, "candidate", candidate)
        for v in GateVerdict.allCases {
            gauge(model, d("driftwatch_candidate_gate", "Validation gate of a candidate model against production on shadow traffic: 1 for its current verdict (pending, pass, fail)."),
                  [("model", model), ("candidate", candidate), ("verdict", v.rawValue)]).set(v == verdict ? 1.0 : 0.0)
        }
    }

    // MARK: quality

    public func quality(model: String, metric: String, source: String, _ value: Double?) {
        guard let value, value.isFinite else { return }
        gauge(model, d("driftwatch_model_quality", "Model quality by metric: realized (joined labels, latest window with enough), estimated (CBPE, no labels), baseline (labelled training data)."),
              [("model", model), ("metric", metric), ("source", source)]).set(value)
    }

    public func qualitySegment(model: String, metric: String, segment: String, _ value: Double?) {
        guard let value, value.isFinite else { return }
        let segment = bounded(model, "segment", segment)
        gauge(model, d("driftwatch_model_quality_segment", "Realized quality of the primary metric per segment value (latest window with enough labels)."),
              [("model", model), ("metric", metric), ("segment", segment)]).set(value)
    }

    /// Free bytes on the data directory's filesystem.
    public func storeFreeBytes(_ bytes: Double) {
        registry.makeGauge(descriptor: d("driftwatch_store_free_bytes", "Bytes still free for driftwatch on the filesystem of its data directory."),
                           labels: []).set(bytes)
    }

    /// A store operation that failed for a machine-side cause; every cause is exported from the
    /// start (0 until it happens), so a rule can use `increase()` from the first failure.
    public func storeError(_ fault: StoreFault, _ n: Int = 1) {
        registry.makeCounter(descriptor: d("driftwatch_store_errors_total", "Store writes that failed for a machine-side cause: disk_full, io_error, busy, read_only."),
                             labels: [("cause", fault.rawValue)]).increment(by: Int64(n))
    }

    public func labels(model: String, outcome: LabelTally, _ n: Int) {
        counter(model, d("driftwatch_labels_total", "Delayed labels by outcome: joined, pending, late (joined to a closed window), unmatched (given up), duplicate, rejected."),
                [("model", model), ("outcome", outcome.rawValue)]).increment(by: Int64(n))
    }

    public func qualityDegraded(model: String, _ confirmed: Bool) {
        gauge(model, d("driftwatch_model_quality_degraded", "1 while the model has a confirmed quality_degraded episode, else 0."),
              [("model", model)]).set(confirmed ? 1.0 : 0.0)
    }

    public func qualityLabelledRows(model: String, _ n: Int) {
        gauge(model, d("driftwatch_model_quality_window_labelled_rows", "Labelled rows in the latest window with quality."),
              [("model", model)]).set(Double(n))
    }

    public func lastObservation(model: String, at: Date) {
        gauge(model, d("driftwatch_model_last_observation_timestamp_seconds", "Unix time of the model's last stored batch (alert when a model stops sending)."),
              [("model", model)]).set(at.timeIntervalSince1970)
    }

    public func buildInfo(version: String) {
        registry.makeGauge(descriptor: d("driftwatch_build_info", "Always 1; the version label says which driftwatch runs."),
                           labels: [("version", version)]).set(1.0)
    }

    /// The text exposition of both registries, with HELP added to the swift-metrics families.
    public func exposition() -> [UInt8] {
        var out = registry.emitToBuffer()
        let http = String(decoding: httpRegistry.emitToBuffer(), as: UTF8.self)
        let helpByName = Dictionary(uniqueKeysWithValues: Self.httpNames.values.map { ($0.name, $0.help) })
        var text = ""
        for line in http.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                text += "# HELP \(name) \(helpByName[name] ?? "HTTP server metric from swift-metrics.")\n"
            }
            if !line.isEmpty { text += line + "\n" }
        }
        out.append(contentsOf: text.utf8)
        return out
    }
}

extension DriftMetrics {
    public func kserveEvent(model: String, type: String, joined: Bool) {
        counter(model, MetricNameDescriptor(metricName: "driftwatch_kserve_events_total", helpText: "KServe CloudEvents stored, by type (request/response) and whether the other half had already arrived."),
                [("model", model), ("type", type), ("joined", joined ? "true" : "false")]).increment()
    }
}
