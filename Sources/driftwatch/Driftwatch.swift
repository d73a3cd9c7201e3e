import ArgumentParser
import Foundation

/// Root command. Exit codes follow the README: 0 ok, 1 drift found (check), 2 bad usage
/// or unreadable input — never ArgumentParser's default 64.
struct Driftwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driftwatch",
        abstract: "Drift and model-quality monitoring for machine-learning models in production.",
        version: driftwatchVersion,
        subcommands: [ServeCommand.self, DemoCommand.self, CheckCommand.self, ReportCommand.self, BaselineCommand.self, BenchCommand.self, RemediationCommand.self, ConfigCommand.self, ActionsCommand.self, MigrateCommand.self]
    )
}

let driftwatchVersion = "0.1.0"

@main
enum Main {
    static func main() async {
        do {
            var command = try Driftwatch.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let error as UserFacingError {
            FileHandle.standardError.write(Data("driftwatch: \(error.message)\n".utf8))
            Foundation.exit(2)
        } catch {
            let code = Driftwatch.exitCode(for: error)
            if code == .success {
                Driftwatch.exit(withError: error)  // --help, --version
            }
            let message = Driftwatch.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("driftwatch: \(message)\n".utf8))
            FileHandle.standardError.write(Data("Run 'driftwatch --help' for usage.\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// An error whose message is already the one line a person needs.
struct UserFacingError: Error {
    var message: String
}
