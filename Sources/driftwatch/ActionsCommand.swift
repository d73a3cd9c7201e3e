import ArgumentParser
import DriftCore
import DriftServer
import DriftStore
import Foundation
import NIOCore
import NIOHTTP1

/// `driftwatch actions`: a model's outbox actions (alerts, MLflow writes, remediation calls) and
/// an admin's retry of those given up.
struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List a model's outbound actions and their delivery state, or retry given-up ones.",
        subcommands: [List.self, Retry.self])

    /// Where and as whom.
    struct Connection: ParsableArguments {
        @Option(help: "Model name.") var model: String
        @Option(help: "The driftwatch service.") var server = "http://127.0.0.1:8080"
        @Option(help: "Bearer token (read scope to list, admin to retry; or DRIFTWATCH_TOKEN).") var token: String?

        func validate() throws {
            guard isValidModelName(model) else { throw UserFacingError(message: "model name \"\(model)\" must match \(modelNamePattern)") }
        }

        var base: String { server.withoutTrailingSlash + "/v1/models/\(model)/actions" }
    }

    /// The answer of `GET …/actions`.
    struct Listing: Decodable { var actions: [ActionDocument] }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the model's actions, newest first.",
            discussion: "Exit status 0; each line is KEY STATE ATTEMPTS LAST-ERROR.")

        @OptionGroup var connection: Connection
        @Option(help: "Only this state: pending, delivered or given_up.") var state: String?
        @Option(help: "table or json.") var format = "table"

        func run() async throws {
            guard format == "table" || format == "json" else { throw UserFacingError(message: "--format must be table or json") }
            if let state, ActionState(rawValue: state) == nil {
                throw UserFacingError(message: "--state must be one of \(ActionState.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(state)\"")
            }
            let url = connection.base + "?limit=1000" + (state.map { "&state=\($0)" } ?? "")
            let (status, data) = try await requestService(.GET, url: url, server: connection.server, token: connection.token, timeout: .seconds(10))
            guard status == 200 else { throw serviceError(url: url, status: status, data: data) }
            guard let listing = try decodeServiceAnswer(Listing.self, data: data, url: url, format: format) else { return }
            if listing.actions.isEmpty { print("no actions\(state.map { " in state \($0)" } ?? "")") }
            for a in listing.actions {
                print("\(a.key)  \(a.stateLine(model: connection.model))\(a.last_error.map { "  last error: \($0)" } ?? "")")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make given-up actions pending again, due now, with a fresh budget of attempts.",
            discussion: "Give action keys (from `driftwatch actions list`), or --all-given-up. Exit status 1 when one could not be retried.")

        @OptionGroup var connection: Connection
        @Argument(help: "Action keys.") var keys: [String] = []
        @Flag(help: "Every action of the model in state given_up.") var allGivenUp = false

        func validate() throws {
            guard keys.isEmpty != !allGivenUp else { throw UserFacingError(message: "give action keys or --all-given-up (one of them)") }
        }

        func run() async throws {
            var keys = self.keys
            if allGivenUp {
                let url = connection.base + "?limit=1000&state=given_up"
                let (status, data) = try await requestService(.GET, url: url, server: connection.server, token: connection.token, timeout: .seconds(10))
                guard status == 200 else { throw serviceError(url: url, status: status, data: data) }
                guard let listing = try decodeServiceAnswer(Listing.self, data: data, url: url, format: "table") else { return }
                keys = listing.actions.map(\.key)
                if keys.isEmpty { print("no given-up actions") }
            }
            var failed = 0
            for key in keys {
                let encoded = key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? key
                let url = connection.base + "/\(encoded)/retry"
                let (status, data) = try await requestService(.POST, url: url, server: connection.server, token: connection.token, timeout: .seconds(10))
                if status == 200 {
                    print("\(key): pending, due now")
                } else {
                    failed += 1
                    FileHandle.standardError.write(Data("driftwatch: \(serviceError(url: url, status: status, data: data).message)\n".utf8))
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
