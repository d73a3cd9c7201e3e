import DriftStats
/// One closed window of a monitored model, evaluated: what `GET /v1/models/{m}/drift`
/// returns and what the store keeps. `features` and `summary` are the same objects as
/// `driftwatch check --format json`; the prediction is evaluated like a feature but kept
/// out of the features' correction and drifted share, and counts in `summary.verdict` per the
/// detector's `prediction_rule`.
public struct WindowReport: Sendable, Codable, Equatable {
    public var model: String
    public var seq: Int
    /// Event-time bounds of the window's rows, Unix seconds.
    public var startedAt: Double
    public var endedAt: Double
    /// When it was evaluated, Unix seconds.
    public var evaluatedAt: Double
    public var rows: Int
    public var baselineVersion: Int
    public var baselineRows: Int
    public var detector: DetectorConfig
    public var features: [FeatureResult]
    public var prediction: FeatureResult?
    public var summary: DriftSummary
    /// Episode state after this window, and the transitions it caused.
    public var episodeState: EpisodeState
    public var transitions: [EpisodeTransition]
    /// PCA reconstruction error of the window's rows against the baseline's band (when the
    /// model has two or more features).
    public var multivariate: MultivariateResult?

    enum CodingKeys: String, CodingKey {
        case model, seq, startedAt = "started_at", endedAt = "ended_at", evaluatedAt = "evaluated_at", rows
        case baselineVersion = "baseline_version", baselineRows = "baseline_rows", detector, features, prediction
        case summary, episodeState = "episode_state", transitions, multivariate
    }

    public init(model: String, seq: Int, startedAt: Double, endedAt: Double, evaluatedAt: Double, rows: Int,
                baselineVersion: Int, baselineRows: Int, detector: DetectorConfig, features: [FeatureResult],
                prediction: FeatureResult?, summary: DriftSummary, episodeState: EpisodeState, transitions: [EpisodeTransition]) {
        self.model = model
        self.seq = seq
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.evaluatedAt = evaluatedAt
        self.rows = rows
        self.baselineVersion = baselineVersion
        self.baselineRows = baselineRows
        self.detector = detector
        self.features = features
        self.prediction = prediction
        self.summary = summary
        self.episodeState = episodeState
        self.transitions = transitions
    }

    /// Why the window is (or is not) drifted, in a sentence.
    public var verdictExplanation: String {
        explainVerdict(summary: summary, features: features, prediction: prediction, multivariate: multivariate, detector: detector)
    }
}

/// The baseline of a monitored model split into its features and its prediction column.
public struct ModelBaseline: Sendable {
    public var version: Int
    public var features: BaselineProfile
    public var prediction: BaselineProfile?
    public var limits: IngestLimits

    public init(version: Int, profile: BaselineProfile, settings: ModelSettings) {
        self.version = version
        let predictionName = settings.prediction?.name
        var f = profile
        f.features = profile.features.filter { $0.name != predictionName }
        features = f
        if let predictionName, let p = profile.features.first(where: { $0.name == predictionName }) {
            prediction = BaselineProfile(source: profile.source, rows: profile.rows, features: [p])
        } else {
            prediction = nil
        }
        limits = IngestLimits(baseline: profile)
    }

    /// Thresholds calibrated for windows of `windowRows` rows, features and prediction.
    public func calibration(windowRows: Int, config: DetectorConfig) -> BaselineCalibration {
        var all = features
        all.features += prediction?.features ?? []
        return BaselineCalibration(baseline: all, windowRows: windowRows, config: config)
    }
}

/// Evaluates a closed window: features (BH across them), and the prediction on its own; the
/// report's verdict counts the prediction per `prediction_rule` (`prediction` is the same
/// result as `features.prediction`).
public func evaluate(window: WindowAccumulator, baseline: ModelBaseline, config: DetectorConfig, model: String,
                     seq: Int, now: Double, calibration: BaselineCalibration? = nil) -> (features: DriftReport, prediction: FeatureResult?) {
    let data = window.windowData(source: "\(model) window \(seq)")
    let calibration = config.calibration == .baselineChunks
        ? (calibration ?? baseline.calibration(windowRows: data.features.rows, config: config)) : nil
    let prediction = baseline.prediction?.features.first.flatMap { b in data.prediction.map { (baseline: b, window: Optional($0)) } }
    let report = evaluateWindow(baseline: baseline.features, window: data.features, config: config, calibration: calibration,
                                prediction: prediction)
    return (report, report.prediction)
}
