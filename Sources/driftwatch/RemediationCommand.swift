import ArgumentParser
import DriftServer
import DriftCore
import Foundation

struct RemediationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remediation",
        abstract: "Review what driftwatch would create in Kubernetes on confirmed drift.",
        subcommands: [RenderCommand.self])

    struct RenderCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "Print the manifests driftwatch would create for a model (retraining Job or Argo submission, shadow InferenceService, promotion patch).",
            discussion: "Reads the `remediation` block of the service's config file. Each document is the request body the service would send, byte for byte (compact JSON; pipe through `jq` to read). JSON documents separated by `---` (valid YAML), or one file each with --out.")

        @Option(help: "The service's JSON config file (its `remediation` block).") var config: String
        @Option(help: "Model name.") var model: String
        @Option(help: "Episode id to fill in.") var episode: Int64 = 1
        @Option(help: "Drifted features to fill in (comma-separated).") var drifted: String = ""
        @Option(name: .customLong("baseline-version"), help: "Baseline version to fill in.") var baselineVersion: Int = 1
        @Option(name: .customLong("candidate-version"), help: "Candidate version for the shadow scorer.") var candidateVersion = "candidate-1"
        @Option(name: .customLong("model-uri"), help: "Candidate model URI for the shadow scorer.") var modelURI = "s3://models/candidate-1"
        @Option(help: "Namespace when the config has no remediation.kubernetes (in-cluster: the pod's).") var namespace = "default"
        @Option(help: "Write one file per manifest into this directory instead of printing.") var out: String?

        func run() throws {
            let cfg: ServerConfiguration
            do {
                cfg = try ServerConfiguration.load(file: config)
                try cfg.validate()
            } catch let e as ServerConfigError {
                throw UserFacingError(message: e.message)
            }
            guard let r = cfg.remediation else { throw UserFacingError(message: "\(config): no `remediation` block: nothing would be created") }
            guard r.covers(model) else { throw UserFacingError(message: "remediation.models does not include \(model)") }
            let documents = try renderRemediationManifests(
                config: cfg, model: model, episodeID: episode, baselineVersion: baselineVersion,
                driftedFeatures: drifted.split(separator: ",").map(String.init), candidateVersion: candidateVersion,
                modelURI: modelURI, defaultNamespace: namespace)
            if let out {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                for (name, json) in documents {
                    try (json + "\n").write(toFile: out + "/\(name).json", atomically: true, encoding: .utf8)
                    print(out + "/\(name).json")
                }
            } else {
                print(documents.map { "# \($0.name)\n" + $0.json }.joined(separator: "\n---\n"))
            }
        }
    }
}
