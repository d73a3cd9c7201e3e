import Foundation
/// How an episode's drifted features list a window whose multivariate reconstruction error left
/// its band (a name no feature may take).
public let multivariateEvidenceName = "(multivariate)"

/// A monitored model's schema and settings: the body of `PUT /v1/models/{model}`.
public struct ModelSettings: Sendable, Codable, Equatable {
    /// One input column (or the prediction): its name and whether it is numeric or categorical.
    public struct FeatureSpec: Sendable, Codable, Equatable {
        public var name: String
        public var kind: FeatureKind
        public init(name: String, kind: FeatureKind) {
            self.name = name
            self.kind = kind
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case name, kind }
        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            name = try c.required(.name)
            kind = try c.required(.kind)
        }
    }

    /// Windows close after `rows` production observations, or `seconds` after they opened.
    public struct WindowSpec: Sendable, Codable, Equatable {
        public var rows: Int?
        public var seconds: Double?
        public init(rows: Int? = nil, seconds: Double? = nil) {
            self.rows = rows
            self.seconds = seconds
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case rows, seconds }
        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            rows = try c.optional(.rows)
            seconds = try c.optional(.seconds)
        }
    }

    /// Drift is confirmed when `windows` of the last `of` windows drifted.
    public struct ConfirmSpec: Sendable, Codable, Equatable {
        public var windows: Int
        public var of: Int
        public init(windows: Int, of: Int) {
            self.windows = windows
            self.of = of
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case windows, of }
        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            windows = try c.required(.windows)
            of = try c.required(.of)
        }
    }

    /// A confirmed episode resolves after `cleanWindows` clean windows in a row.
    public struct ResolveSpec: Sendable, Codable, Equatable {
        public var cleanWindows: Int
        enum CodingKeys: String, CodingKey, CaseIterable { case cleanWindows = "clean_windows" }
        public init(cleanWindows: Int) { self.cleanWindows = cleanWindows }
        public init(from decoder: Decoder) throws {
            cleanWindows = try decoder.strictContainer(keyedBy: CodingKeys.self).required(.cleanWindows)
        }
    }

    public var features: [FeatureSpec]
    public var prediction: FeatureSpec?
    public var window: WindowSpec
    /// A window is evaluated only when it holds at least this many rows.
    public var minRows: Int
    public var detector: DetectorConfig
    public var confirm: ConfirmSpec
    public var resolve: ResolveSpec
    /// Stored batches older than this are deleted (hours); nil keeps everything.
    public var retentionHours: Double?
    /// Model quality from delayed labels; off when nil.
    public var quality: QualitySpec?
    /// Multivariate (PCA reconstruction) drift per window; off when nil. Opt-in: reading a
    /// window's rows back costs ingest throughput (`driftwatch bench ingest`, 30 features,
    /// 100k-row windows: protobuf 285k → 258k observations/s, JSON rows 261k → 206k).
    public var multivariate: MultivariateSpec?
    /// The MLflow tracking server and registered model this model is tied to; off when nil.
    public var mlflow: MLflowSpec?
    /// How KServe payload-logger events map onto the model (which output is the prediction);
    /// the defaults when nil.
    public var kserve: KServeSpec?

    /// `multivariate`: PCA reconstruction-error drift over all numeric features together.
    public struct MultivariateSpec: Sendable, Codable, Equatable {
        /// PCA components kept to explain this share of the baseline's variance.
        public var varianceShare: Double
        public init(varianceShare: Double = 0.65) { self.varianceShare = varianceShare }
        enum CodingKeys: String, CodingKey, CaseIterable { case varianceShare = "variance_share" }
        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            varianceShare = try c.value(.varianceShare, or: MultivariateSpec().varianceShare)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case features, prediction, window, minRows = "min_rows", detector, confirm, resolve
        case retentionHours = "retention_hours", quality, multivariate, mlflow, kserve
    }

    public static let defaultWindow = WindowSpec(rows: 1000)
    /// The most features one model may declare.
    public static let maxFeatures = 1000
    public static let defaultConfirm = ConfirmSpec(windows: 2, of: 3)
    public static let defaultResolve = ResolveSpec(cleanWindows: 3)

    public init(features: [FeatureSpec], prediction: FeatureSpec? = nil, window: WindowSpec = ModelSettings.defaultWindow,
                minRows: Int = 100, detector: DetectorConfig = DetectorConfig(),
                confirm: ConfirmSpec = ModelSettings.defaultConfirm, resolve: ResolveSpec = ModelSettings.defaultResolve,
                retentionHours: Double? = 168) {
        self.features = features
        self.prediction = prediction
        self.window = window
        self.minRows = minRows
        self.detector = detector
        self.confirm = confirm
        self.resolve = resolve
        self.retentionHours = retentionHours
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = ModelSettings(features: [])
        features = try c.value(.features, or: d.features)
        prediction = try c.optional(.prediction)
        window = try c.value(.window, or: d.window)
        minRows = try c.value(.minRows, or: d.minRows)
        detector = try c.value(.detector, or: d.detector)
        confirm = try c.value(.confirm, or: d.confirm)
        resolve = try c.value(.resolve, or: d.resolve)
        retentionHours = try c.value(.retentionHours, or: d.retentionHours)
        quality = try c.optional(.quality)
        multivariate = try c.optional(.multivariate)
        mlflow = try c.optional(.mlflow)
        kserve = try c.optional(.kserve)
    }

    /// Checks everything a person could get wrong, with a message that says how to fix it.
    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: m) }
        guard features.count <= Self.maxFeatures else {
            throw fail("a model has at most \(Self.maxFeatures) features (each is a set of series in /metrics), got \(features.count)")
        }
        var seen = Set<String>()
        for f in features + (prediction.map { [$0] } ?? []) {
            guard isValidFeatureName(f.name) else {
                throw fail("feature name \"\(f.name)\" is not allowed: use 1–128 printable characters, no quotes, backslashes or control characters")
            }
            guard seen.insert(f.name).inserted else { throw fail("feature \"\(f.name)\" is declared twice") }
            guard f.name != multivariateEvidenceName else {
                throw fail("feature name \"\(f.name)\" is reserved: episodes list multivariate drift under it")
            }
        }
        switch (window.rows, window.seconds) {
        case (nil, nil): throw fail("window needs \"rows\" or \"seconds\"")
        case (.some, .some): throw fail("window takes \"rows\" or \"seconds\", not both")
        case (let r?, nil) where r < 1 || r > 10_000_000: throw fail("window.rows must be between 1 and 10000000, got \(r)")
        case (nil, let s?) where !(s >= 1 && s <= 30 * 86400): throw fail("window.seconds must be between 1 and 2592000, got \(s)")
        default: break
        }
        guard minRows >= 1 else { throw fail("min_rows must be ≥ 1, got \(minRows)") }
        if let r = window.rows, minRows > r { throw fail("min_rows (\(minRows)) cannot exceed window.rows (\(r))") }
        guard confirm.of >= 1 && confirm.of <= 100 else { throw fail("confirm.of must be between 1 and 100, got \(confirm.of)") }
        guard confirm.windows >= 1 && confirm.windows <= confirm.of else {
            throw fail("confirm.windows must be between 1 and confirm.of (\(confirm.of)), got \(confirm.windows)")
        }
        guard resolve.cleanWindows >= 1 && resolve.cleanWindows <= 1000 else {
            throw fail("resolve.clean_windows must be between 1 and 1000, got \(resolve.cleanWindows)")
        }
        if let h = retentionHours, !(h > 0) { throw fail("retention_hours must be > 0, got \(h)") }
        try detector.validate()
        if let m = multivariate {
            guard m.varianceShare > 0 && m.varianceShare <= 1 else { throw fail("multivariate.variance_share must be in (0, 1], got \(m.varianceShare)") }
            guard features.count >= 2 else { throw fail("multivariate drift needs at least two features") }
        }
        try mlflow?.validate()
        try kserve?.validate()
        if let q = quality {
            guard prediction != nil else { throw fail("quality needs the model's \"prediction\" column (the score labels are compared with)") }
            if let s = q.segment {
                guard let f = features.first(where: { $0.name == s }), f.kind == .categorical else {
                    throw fail("quality.segment \"\(s)\" must be one of the model's categorical features")
                }
            }
            try q.validate()
        }
    }
}

/// `quality` in the model settings: what the labels are and how quality is judged.
public struct QualitySpec: Sendable, Codable, Equatable {
    /// What the labels are: classes (scores against 0/1 labels) or numbers.
    public enum Task: String, ConfigurationEnum { case binary, regression }
    public var task: Task
    /// Binary: predicted positive when score ≥ threshold.
    public var threshold: Double
    /// The baseline column holding labels (quality baseline and calibration of the estimate).
    public var label: String
    /// A categorical feature to break quality down by.
    public var segment: String?
    /// The metric that decides degradation: `roc_auc` (binary) / `rmse` (regression) by default.
    public var qualityMetric: QualityMetric
    /// `qualityMetric`'s name (as metrics, reports and episodes show it).
    public var metric: String { qualityMetric.rawValue }
    /// Degraded when the metric is worse than the baseline's by more than this.
    public var tolerance: Double
    /// A window's quality counts once it has this many labelled rows.
    public var minLabelledRows: Int
    /// Labels whose prediction is not found within this long are given up as unmatched.
    public var labelHorizonHours: Double
    /// Quality episodes: degraded in `windows` of the last `of` decided windows confirms.
    public var confirm: ModelSettings.ConfirmSpec
    public var resolve: ModelSettings.ResolveSpec

    /// The names of the metrics of each task.
    public static let binaryMetrics = QualityMetric.binary.map(\.rawValue)
    public static let regressionMetrics = QualityMetric.regression.map(\.rawValue)

    /// Metrics where larger is better (the others are errors: smaller is better).
    public var higherIsBetter: Bool { qualityMetric.higherIsBetter }

    public init(task: Task, threshold: Double = 0.5, label: String = "label", segment: String? = nil, metric: QualityMetric? = nil,
                tolerance: Double = 0.05, minLabelledRows: Int = 200, labelHorizonHours: Double = 168,
                confirm: ModelSettings.ConfirmSpec = .init(windows: 2, of: 3), resolve: ModelSettings.ResolveSpec = .init(cleanWindows: 2)) {
        self.task = task
        self.threshold = threshold
        self.label = label
        self.segment = segment
        self.qualityMetric = metric ?? (task == .binary ? .rocAUC : .rmse)
        self.tolerance = tolerance
        self.minLabelledRows = minLabelledRows
        self.labelHorizonHours = labelHorizonHours
        self.confirm = confirm
        self.resolve = resolve
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, threshold, label, segment, qualityMetric = "metric", tolerance, minLabelledRows = "min_labelled_rows"
        case labelHorizonHours = "label_horizon_hours", confirm, resolve
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let task: Task = try c.required(.task)
        let d = QualitySpec(task: task)
        self.task = task
        threshold = try c.value(.threshold, or: d.threshold)
        label = try c.value(.label, or: d.label)
        segment = try c.optional(.segment)
        qualityMetric = try c.value(.qualityMetric, or: d.qualityMetric)
        tolerance = try c.value(.tolerance, or: d.tolerance)
        minLabelledRows = try c.value(.minLabelledRows, or: d.minLabelledRows)
        labelHorizonHours = try c.value(.labelHorizonHours, or: d.labelHorizonHours)
        confirm = try c.value(.confirm, or: d.confirm)
        resolve = try c.value(.resolve, or: d.resolve)
    }

    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: "quality: " + m) }
        let allowed = task == .binary ? Self.binaryMetrics : Self.regressionMetrics
        guard (task == .binary ? QualityMetric.binary : QualityMetric.regression).contains(qualityMetric) else { throw fail("metric \"\(metric)\" is not one of \(allowed.joined(separator: ", ")) for task \(task.rawValue)") }
        if task == .binary { guard threshold > 0 && threshold < 1 else { throw fail("threshold must be in (0, 1), got \(threshold)") } }
        guard tolerance >= 0 else { throw fail("tolerance must be ≥ 0") }
        guard minLabelledRows >= 1 else { throw fail("min_labelled_rows must be ≥ 1") }
        guard labelHorizonHours > 0 else { throw fail("label_horizon_hours must be > 0") }
        guard confirm.windows >= 1 && confirm.windows <= confirm.of && confirm.of <= 100 else { throw fail("confirm.windows must be between 1 and confirm.of") }
        guard resolve.cleanWindows >= 1 else { throw fail("resolve.clean_windows must be ≥ 1") }
        guard isValidFeatureName(label) else { throw fail("label column name \"\(label)\" is not allowed") }
    }
}

/// `quality.metric`: the metric that decides whether a model's quality degraded.
public enum QualityMetric: String, ConfigurationEnum {
    case rocAUC = "roc_auc", averagePrecision = "average_precision", precision, recall, f1, accuracy
    case logLoss = "log_loss", brier, expectedCalibrationError = "expected_calibration_error"
    case mae, rmse, mape, r2

    /// The metrics of a binary classifier's scores, and of a regression's predictions.
    public static let binary: [QualityMetric] = [.rocAUC, .averagePrecision, .precision, .recall, .f1, .accuracy, .logLoss, .brier, .expectedCalibrationError]
    public static let regression: [QualityMetric] = [.mae, .rmse, .mape, .r2]

    /// Larger is better (the others are errors: smaller is better).
    public var higherIsBetter: Bool { [.rocAUC, .averagePrecision, .precision, .recall, .f1, .accuracy, .r2].contains(self) }
}

/// `kserve` in the model settings: `{"output": "NAME"}`. A KServe response with one output
/// (v2 tensor, or key of v1 prediction objects) gives the prediction whatever its name; with
/// several, the one named `output` is the prediction (without it, the one named like the
/// model's prediction column, else the event is refused with the outputs listed).
public struct KServeSpec: Sendable, Codable, Equatable {
    /// The output that holds the prediction when a response has several; nil: the rule above.
    public var output: String?

    public init(output: String? = nil) { self.output = output }

    enum CodingKeys: String, CodingKey, CaseIterable { case output }

    public init(from decoder: Decoder) throws {
        output = try decoder.strictContainer(keyedBy: CodingKeys.self).optional(.output)
    }

    public func validate() throws {
        if let output {
            guard (1...256).contains(output.utf8.count) else {
                throw ConfigError(message: "kserve.output must name an output of the model's responses in 1–256 bytes, got \(output.utf8.count)")
            }
            guard output.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }) else {
                throw ConfigError(message: "kserve.output must be printable text (no control characters)")
            }
        }
    }
}


/// Model names: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}` (they appear in URLs, file-like paths and
/// metric labels). The first character must be a letter or digit, so `.`, `..` and `-` — path
/// segments and option-like names — are refused.
public func isValidModelName(_ name: String) -> Bool {
    guard (1...128).contains(name.utf8.count), let first = name.utf8.first else { return false }
    func alphanumeric(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    return alphanumeric(first) && name.utf8.allSatisfy { c in alphanumeric(c) || c == 0x5F || c == 0x2E || c == 0x2D }
}

/// The rule of `isValidModelName`, for messages.
public let modelNamePattern = "[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"

/// Feature names become metric label values and HTML text: printable, no quotes or
/// backslashes, 1–128 bytes.
public func isValidFeatureName(_ name: String) -> Bool {
    guard (1...128).contains(name.utf8.count) else { return false }
    return name.unicodeScalars.allSatisfy { s in
        s.value >= 0x20 && s.value != 0x7F && s != "\"" && s != "\\" && !(0x80...0x9F).contains(s.value)
    }
}

/// Where a model lives in MLflow: the tracking server, the registered model and the alias (or
/// legacy stage) naming the version in production. driftwatch reads the training data and the
/// run behind that version, writes drift and gate verdicts back as model-version tags and window
/// figures as metrics of a monitoring run, and watches the registry for new versions (candidates).
public struct MLflowSpec: Sendable, Codable, Equatable {
    /// Base URL of the tracking server (`http://mlflow:5000`).
    public var url: String
    /// The registered model's name.
    public var model: String
    /// The alias of the production version (default `production`), or a legacy stage instead.
    public var alias: String?
    public var stage: String?
    /// Bearer token: read from this file at every call (rotating tokens), or from this
    /// environment variable.
    public var tokenFile: String?
    public var tokenEnv: String?
    /// The training-data artifact of a run (CSV, optionally gzipped), relative to its artifact root.
    public var baselineArtifact: String
    /// Experiment that holds driftwatch's monitoring runs (created when missing).
    public var experiment: String
    /// How often the registry is polled for new versions (candidates); 0 turns it off.
    public var pollSeconds: Double
    /// When a candidate passes the gate, move this alias to it (e.g. `production`); off when nil.
    public var promoteAlias: String?

    public init(url: String, model: String, alias: String? = nil, stage: String? = nil) {
        self.url = url
        self.model = model
        self.alias = alias
        self.stage = stage
        baselineArtifact = "data/train.csv"
        experiment = "driftwatch-monitoring"
        pollSeconds = 60
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, model, alias, stage, tokenFile = "token_file", tokenEnv = "token_env"
        case baselineArtifact = "baseline_artifact", experiment, pollSeconds = "poll_seconds", promoteAlias = "promote_alias"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = MLflowSpec(url: try c.required(.url), model: try c.required(.model))
        url = d.url
        model = d.model
        alias = try c.optional(.alias)
        stage = try c.optional(.stage)
        tokenFile = try c.optional(.tokenFile)
        tokenEnv = try c.optional(.tokenEnv)
        baselineArtifact = try c.value(.baselineArtifact, or: d.baselineArtifact)
        experiment = try c.value(.experiment, or: d.experiment)
        pollSeconds = try c.value(.pollSeconds, or: d.pollSeconds)
        promoteAlias = try c.optional(.promoteAlias)
    }

    /// The alias that names production (`production` unless a stage is used instead).
    public var productionAlias: String? { stage == nil ? (alias ?? "production") : alias }

    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: "mlflow: " + m) }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", u.host != nil else {
            throw fail("url must be an http(s) URL of the tracking server, got \"\(url)\"")
        }
        guard !model.isEmpty, model.utf8.count <= 256 else { throw fail("model must name the registered model") }
        if alias != nil && stage != nil { throw fail("give alias or stage, not both") }
        for (key, value) in [("alias", alias), ("stage", stage), ("promote_alias", promoteAlias)] {
            if let v = value, v.isEmpty || v.utf8.count > 256 { throw fail("\(key) must be 1–256 characters") }
        }
        if tokenFile != nil && tokenEnv != nil { throw fail("give token_file or token_env, not both") }
        guard !baselineArtifact.isEmpty, !baselineArtifact.hasPrefix("/"), !baselineArtifact.split(separator: "/").contains("..") else {
            throw fail("baseline_artifact must be a path inside the run's artifacts, got \"\(baselineArtifact)\"")
        }
        guard !experiment.isEmpty else { throw fail("experiment must not be empty") }
        guard pollSeconds == 0 || (pollSeconds >= 1 && pollSeconds <= 86400) else {
            throw fail("poll_seconds must be 0 (off) or between 1 and 86400, got \(pollSeconds)")
        }
    }
}
