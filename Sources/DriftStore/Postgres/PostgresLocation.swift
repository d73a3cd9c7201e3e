import Foundation

/// Where a PostgreSQL store is: parsed from a `postgres://user[:password]@host[:port]/database[?…]`
/// URL (libpq's URI form). The password may instead come from a file or an environment
/// variable, so that it is not in a command line or a config file:
/// `?password_file=/run/secrets/pg` or `?password_env=DRIFTWATCH_PG_PASSWORD`; with neither,
/// `PGPASSWORD` is used when set (as libpq does). `sslmode` is `disable`, `prefer` (default)
/// or `require`; `pool` is the number of connections (default 8).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// TLS to the server, as libpq's `sslmode`.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Connections this process keeps open.
    public var poolSize: Int

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
                tls: TLSMode = .prefer, poolSize: Int = 8) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.poolSize = poolSize
    }

    /// True for a `postgres://` or `postgresql://` URL (anything else is a SQLite directory).
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses the URL; every error says what to change. `environment` is consulted for
    /// `password_env` and `PGPASSWORD`; with `resolvingPassword: false` (checking a configuration
    /// on another machine) the password's file and variable are not read.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment, resolvingPassword: Bool = true) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw DriftStoreError.invalidArgument("store URL \(Self.redacted(text)) is not postgres://user@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DriftStoreError.invalidArgument("store URL \(Self.redacted(text)) has no host (postgres://user@HOST:5432/database)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw DriftStoreError.invalidArgument("store URL \(Self.redacted(text)) has no user (postgres://USER@host:5432/database)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw DriftStoreError.invalidArgument("store URL \(Self.redacted(text)) has no database name (postgres://user@host:5432/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw DriftStoreError.invalidArgument("store URL port \(port) is not in 1…65535")
        }
        var password = components.password
        var tls = TLSMode.prefer
        var poolSize = 8
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw DriftStoreError.invalidArgument(
                        "store URL sslmode=\(value) is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "password_file":
                guard password == nil else { throw Self.twoPasswords }
                guard resolvingPassword else { continue }
                do {
                    password = try String(contentsOfFile: value, encoding: .utf8).trimmingCharacters(in: .newlines)
                } catch {
                    throw DriftStoreError.invalidArgument("store URL password_file \(value) cannot be read: \((error as NSError).localizedDescription)")
                }
            case "password_env":
                guard password == nil else { throw Self.twoPasswords }
                guard resolvingPassword else { continue }
                guard let fromEnvironment = environment[value] else {
                    throw DriftStoreError.invalidArgument("store URL password_env=\(value) names an environment variable that is not set")
                }
                password = fromEnvironment
            case "pool":
                guard let n = Int(value), (1...64).contains(n) else {
                    throw DriftStoreError.invalidArgument("store URL pool=\(value) is not a number of connections in 1…64")
                }
                poolSize = n
            default:
                throw DriftStoreError.invalidArgument(
                    "store URL parameter '\(item.name)' is unknown (known: sslmode, password_file, password_env, pool)")
            }
        }
        if password == nil { password = environment["PGPASSWORD"] }
        self.init(host: host, port: port, user: user, password: password, database: database, tls: tls, poolSize: poolSize)
    }

    private static let twoPasswords = DriftStoreError.invalidArgument(
        "store URL gives the password twice: use one of the URL's password, password_file or password_env")

    /// The URL without its password (for logs and messages).
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// A URL as text with any password replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "postgres://***"
    }
}
