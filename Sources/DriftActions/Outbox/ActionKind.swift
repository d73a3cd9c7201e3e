/// Which deliverer an outbox row goes to: the value of the store's `kind` column. The raw
/// values are what earlier versions wrote, so rows stored by them are still delivered.
public enum ActionKind: String, Sendable, Codable, CaseIterable {
    /// A push to Alertmanager's API v2 (`EpisodeAlert`).
    case alertmanager
    /// A Kubernetes, Argo Server or webhook call of a remediation.
    case remediation
    /// An MLflow write (tags, monitoring metrics, alias).
    case mlflow
}

/// Which notice of an episode an alert is.
public enum AlertNotice: String, Sendable, CaseIterable {
    case firing, resolved
}

/// Which step of a shadow scorer's life a remediation call is.
public enum ShadowStep: String, Sendable, CaseIterable {
    case create, delete
}

/// The idempotency key of an outbox action: one action per key, so a replayed transition never
/// enqueues the same call twice. Built and parsed here, so no caller spells or matches key text.
/// The string forms are the ones earlier versions stored.
public enum ActionKey: Hashable, Sendable, CustomStringConvertible {
    /// `alertmanager:episode:<id>:firing|resolved`
    case episodeAlert(episodeID: Int64, notice: AlertNotice)
    /// `alertmanager:candidate:<model>:<version>:gate`
    case candidateGateAlert(model: String, version: String)
    /// `remediation:episode:<id>:retrain`
    case retrain(episodeID: Int64)
    /// `remediation:shadow:<name>:create|delete`
    case shadow(name: String, step: ShadowStep)
    /// `remediation:candidate:<version>:promote`
    case promotion(version: String)
    /// `mlflow:episode:<id>:confirmed|resolved`
    case episodeMLflow(episodeID: Int64, state: EpisodeNoticeState)
    /// `mlflow:candidate:<model>:<version>:gate`
    case candidateGateMLflow(model: String, version: String)

    /// The episode states an MLflow notice is sent for.
    public enum EpisodeNoticeState: String, Sendable, CaseIterable {
        case confirmed, resolved
    }

    /// The stored key.
    public var rawValue: String {
        switch self {
        case .episodeAlert(let id, let notice): return "alertmanager:episode:\(id):\(notice.rawValue)"
        case .candidateGateAlert(let model, let version): return "alertmanager:candidate:\(model):\(version):gate"
        case .retrain(let id): return "remediation:episode:\(id):retrain"
        case .shadow(let name, let step): return "remediation:shadow:\(name):\(step.rawValue)"
        case .promotion(let version): return "remediation:candidate:\(version):promote"
        case .episodeMLflow(let id, let state): return "mlflow:episode:\(id):\(state.rawValue)"
        case .candidateGateMLflow(let model, let version): return "mlflow:candidate:\(model):\(version):gate"
        }
    }

    public var description: String { rawValue }

    /// Parses a stored key; nil for a key no version of driftwatch writes.
    public init?(rawValue: String) {
        let parts = rawValue.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4, let last = parts.last else { return nil }
        let middle = parts[2..<(parts.count - 1)]
        switch (parts[0], parts[1]) {
        case ("alertmanager", "episode"):
            guard parts.count == 4, let id = Int64(parts[2]), let notice = AlertNotice(rawValue: last) else { return nil }
            self = .episodeAlert(episodeID: id, notice: notice)
        case ("alertmanager", "candidate"), ("mlflow", "candidate"):
            // Model names hold no ':' (they are path segments); a version may.
            guard parts.count >= 5, last == "gate" else { return nil }
            let version = parts[3..<(parts.count - 1)].joined(separator: ":")
            self = parts[0] == "mlflow" ? .candidateGateMLflow(model: parts[2], version: version)
                : .candidateGateAlert(model: parts[2], version: version)
        case ("remediation", "episode"):
            guard parts.count == 4, last == "retrain", let id = Int64(parts[2]) else { return nil }
            self = .retrain(episodeID: id)
        case ("remediation", "shadow"):
            guard let step = ShadowStep(rawValue: last) else { return nil }
            self = .shadow(name: middle.joined(separator: ":"), step: step)
        case ("remediation", "candidate"):
            guard last == "promote" else { return nil }
            self = .promotion(version: middle.joined(separator: ":"))
        case ("mlflow", "episode"):
            guard parts.count == 4, let id = Int64(parts[2]), let state = EpisodeNoticeState(rawValue: last) else { return nil }
            self = .episodeMLflow(episodeID: id, state: state)
        default:
            return nil
        }
    }
}
