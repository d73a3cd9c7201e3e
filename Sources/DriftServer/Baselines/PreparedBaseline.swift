import DriftCore
import DriftStats
import Foundation

/// A baseline table made ready for its model, before anything is stored: the schema (the
/// model's, or inferred from the columns), the kept columns and their profile, and — when the
/// settings ask for model quality — the labelled baseline's columns, checked up front so that a
/// baseline that cannot serve its model is refused whole.
struct PreparedBaseline {
    var schema: ModelSettings
    /// The schema's columns of the uploaded table.
    var table: Table
    var profile: BaselineProfile
    /// Scores and labels of the labelled baseline (settings.quality).
    private var labelled: (scores: [Double], labels: [Double])?

    /// The upload's table against the model's settings (nil: a new model, schema inferred with
    /// `predictionName` as its prediction column).
    init(table uploaded: Table, settings: ModelSettings?, predictionName: String?) throws {
        guard uploaded.rows > 0 else { throw Problem.unprocessable("baseline has a header but no rows") }
        if let settings {
            let present = Set(uploaded.columns.map(\.name))
            let absent = settings.columns.map(\.name).filter { !present.contains($0) }
            if !absent.isEmpty {
                throw Problem.unprocessable("baseline lacks the model's column(s): \(absent.joined(separator: ", "))")
            }
            schema = settings
        } else {
            if let p = predictionName, uploaded.column(named: p) == nil {
                throw Problem.unprocessable("prediction column \"\(p)\" is not in the baseline's header")
            }
            let features = uploaded.columns.filter { $0.name != predictionName }.map { ModelSettings.FeatureSpec(name: $0.name, kind: $0.kind) }
            let prediction = predictionName.flatMap { p in uploaded.column(named: p).map { ModelSettings.FeatureSpec(name: p, kind: $0.kind) } }
            schema = ModelSettings(features: features, prediction: prediction)
            do { try schema.validate() } catch { throw Problem.unprocessable("baseline columns: \(error)") }
            guard !features.isEmpty else { throw Problem.unprocessable("baseline has no feature columns") }
        }
        if let spec = schema.quality {
            // The labelled baseline: its quality (the reference for degradation) and the
            // calibrator of the estimate.
            guard case .numeric(let labelColumn)? = uploaded.column(named: spec.label) else {
                throw Problem.unprocessable("quality: the baseline needs a numeric label column \"\(spec.label)\" (0/1 for binary)")
            }
            guard let p = schema.prediction?.name, case .numeric(let scoreColumn)? = uploaded.column(named: p) else {
                throw Problem.unprocessable("quality: the baseline's prediction column must be numeric (the score)")
            }
            labelled = (scoreColumn.values, labelColumn.values)
        }
        let wanted = Set(schema.columns.map(\.name))
        table = uploaded
        table.columns = uploaded.columns.filter { wanted.contains($0.name) }
        profile = BaselineProfile(table: table, config: schema.detector)
    }

    /// The PCA reference for baseline `version` (nil unless multivariate drift is on and the
    /// model has two or more features).
    func multivariate(version: Int) -> MultivariateBaseline? {
        MultivariateBaseline.fit(baseline: table, settings: schema, version: version)
    }

    /// The labelled baseline's quality for `version` (nil without quality settings or usable rows).
    func quality(version: Int) -> QualityBaseline? {
        guard let spec = schema.quality, let labelled else { return nil }
        return QualityBaseline.make(spec: spec, version: version, scores: labelled.scores, labels: labelled.labels)
    }
}
