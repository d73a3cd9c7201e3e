extension ModelSettings {
    /// The features and then the prediction: every column a window and a baseline hold.
    public var columns: [FeatureSpec] { features + (prediction.map { [$0] } ?? []) }
}

extension WindowReport {
    /// The features' results and then the prediction's.
    public var allResults: [FeatureResult] { features + (prediction.map { [$0] } ?? []) }
}

extension DriftReport {
    /// The features' results and then the prediction's.
    public var allResults: [FeatureResult] { features + (prediction.map { [$0] } ?? []) }
}
