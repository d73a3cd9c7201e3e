import DriftCore
import Foundation

// Closing the loop on confirmed drift: a retraining run on the GPU node pool, a shadow scorer
// for the candidate it produces, and the validation gate. The `remediation` configuration is in
// Configuration/RemediationConfiguration.swift, the manifests in Remediation/Manifests.swift;
// DriftActions' outbox delivers them.

/// A Kubernetes object name (RFC 1123 label): lower-case alphanumerics and '-', ≤ 63.
func isDNSLabel(_ s: String) -> Bool {
    guard (1...63).contains(s.utf8.count), s.first != "-", s.last != "-" else { return false }
    return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
}

extension RemediationConfiguration {
    /// Whether remediation covers `model` (`models` absent = every model).
    public func covers(_ model: String) -> Bool { applies(to: model) }
}

extension RetrainConfiguration.Kind {
    /// The remediation records a retraining of this kind writes.
    var remediationKind: RemediationKind {
        switch self {
        case .job: .retrainJob
        case .argo: .retrainArgo
        case .webhook: .retrainWebhook
        }
    }
}
