import DriftCore

extension DriftMetrics {
    /// What one batch added to the window: rows per endpoint, data-quality violations per
    /// feature and check, prediction values.
    func count(_ tally: IngestTally, model: String) {
        for (endpoint, n) in tally.rowsByEndpoint { observations(model: model, endpoint: endpoint, n) }
        for (feature, checks) in tally.violations {
            for (check, n) in checks {
                // Unknown feature names are the sender's: `bounded` caps their label values.
                violation(model: model, feature: feature, check: check, n)
                if check == .missing { missing(model: model, feature: feature, n) }
            }
        }
        if !tally.predictionValues.isEmpty { predictionValues(model: model, tally.predictionValues) }
    }
}
