import ArgumentParser
import DriftCore
import DriftServer
import Foundation

/// `driftwatch config`: the service's configuration file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a `driftwatch serve` configuration file.",
        subcommands: [ConfigCheckCommand.self]
    )
}

/// `driftwatch config check FILE`: the effective configuration, or every error.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the effective configuration of FILE, or every error in it.",
        discussion: """
            Decodes FILE as `driftwatch serve --config FILE` does (strictly: an unknown key is an \
            error naming its path and the nearest known key) and validates it. Valid: prints the \
            effective configuration — JSON with every default filled in, keys sorted — and exits 0. \
            Invalid: prints each error on its own line on standard error, as `FILE: path: message`, \
            and exits 1. Flags and DRIFTWATCH_* variables are not applied: this checks the file.
            """
    )

    @Argument(help: "The JSON configuration file.") var file: String

    func run() throws {
        let checked = ServerConfiguration.check(file: file)
        guard let config = checked.configuration, checked.issues.isEmpty else {
            let lines = checked.issues.map { "\(file): \($0)\n" }.joined()
            FileHandle.standardError.write(Data(lines.utf8))
            throw ExitCode(1)
        }
        let data = try configurationEncoder().encode(config)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
