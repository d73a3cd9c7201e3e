import DriftStats

/// The model's multivariate reference: how rows are encoded and the PCA fitted on the baseline
/// (DriftStats' ReconstructionModel), stored with the baseline version.
public struct MultivariateBaseline: Codable, Sendable {
    public var baselineVersion: Int
    public var encoding: MultivariateEncoding
    public var model: ReconstructionModel

    enum CodingKeys: String, CodingKey { case baselineVersion = "baseline_version", encoding, model }

    public init(baselineVersion: Int, encoding: MultivariateEncoding, model: ReconstructionModel) {
        self.baselineVersion = baselineVersion
        self.encoding = encoding
        self.model = model
    }

    /// Fitted on the baseline's feature columns (not the prediction); chunks of the window's
    /// size give the error band (time windows: `min_rows`, at least 500 rows).
    public static func fit(baseline: Table, settings: ModelSettings, version: Int) -> MultivariateBaseline? {
        guard let spec = settings.multivariate else { return nil }
        let names = settings.features.map(\.name).filter { baseline.column(named: $0) != nil }
        guard names.count >= 2 else { return nil }
        let encoding = MultivariateEncoding(baseline: baseline, columns: names)
        let chunk = settings.window.rows ?? max(settings.minRows, 500)
        guard let columns = encoding.encode(baseline),
              let model = ReconstructionModel(featureNames: names, columns: columns, varianceShare: spec.varianceShare, chunkSize: chunk)
        else { return nil }
        return MultivariateBaseline(baselineVersion: version, encoding: encoding, model: model)
    }
}
