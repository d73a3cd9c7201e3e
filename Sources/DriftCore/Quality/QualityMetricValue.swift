import DriftStats

/// The value of `metric` in a report (nil when undefined).
public func qualityValue(_ metric: String, binary b: BinaryQuality?, regression r: RegressionQuality?) -> Double? {
    if let b {
        switch metric {
        case "roc_auc": return b.rocAUC
        case "average_precision": return b.averagePrecision
        case "precision": return b.precision
        case "recall": return b.recall
        case "f1": return b.f1
        case "accuracy": return b.accuracy
        case "log_loss": return b.logLoss
        case "brier": return b.brier
        case "expected_calibration_error": return b.expectedCalibrationError
        case "positive_rate": return b.positiveRate
        case "predicted_positive_rate": return b.predictedPositiveRate
        default: return nil
        }
    }
    if let r {
        switch metric {
        case "mae": return r.mae
        case "rmse": return r.rmse
        case "mape": return r.mape
        case "r2": return r.r2
        default: return nil
        }
    }
    return nil
}

/// The value of `metric` in a confidence-based estimate (nil when it has none).
public func estimatedQualityValue(_ metric: String, _ e: EstimatedBinaryQuality?) -> Double? {
    guard let e else { return nil }
    switch metric {
    case "roc_auc": return e.rocAUC
    case "precision": return e.precision
    case "recall": return e.recall
    case "f1": return e.f1
    case "accuracy": return e.accuracy
    default: return nil
    }
}
