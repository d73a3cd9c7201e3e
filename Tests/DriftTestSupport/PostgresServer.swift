import Foundation

/// A real PostgreSQL server for tests: Debian's `postgresql` binaries, `initdb` into a fresh
/// temporary directory, `pg_ctl` on 127.0.0.1 and a free port, stopped by the postmaster's
/// PID. As root (CI) the server runs as the `postgres` user, because PostgreSQL refuses to
/// run as root. Trust authentication on loopback only; each test asks for its own database.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable is safe: `pid` and `databases` change only under `lock`; the other
    // properties are immutable.
    public let port: Int
    public let directory: URL
    private let binaries: URL
    private let lock = NSLock()
    private var pid: pid_t?
    private var databases = 0
    public static let user = "driftwatch"

    /// Starts a server (`fsync` off: tests measure behaviour, not durability).
    public init(fsync: Bool = false) throws {
        self.binaries = try Self.findBinaries()
        self.port = try freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("driftwatch-pg-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try Self.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        }
        try runAsServerUser("initdb", ["-D", dataPath, "-U", Self.user, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        var config = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory.path)'
            max_connections = 200
            shared_buffers = 128MB
            """
        if !fsync { config += "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" }
        try (config + "\n").write(toFile: dataPath + "/postgresql.auto.conf", atomically: true, encoding: .utf8)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", dataPath + "/postgresql.auto.conf"]) }
        try start()
    }

    deinit { stop() }

    private var dataPath: String { directory.appendingPathComponent("data").path }

    /// A URL of a new, empty database on this server.
    public func makeDatabase() throws -> String {
        let name: String = lock.withLock {
            databases += 1
            return "driftwatch_t\(databases)"
        }
        try runAsServerUser("createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, name])
        return url(database: name)
    }

    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The postmaster's PID (nil when stopped).
    public var processID: pid_t? { lock.withLock { pid } }

    /// Starts the server (again) on the same port and directory; waits until it accepts connections.
    public func start() throws {
        try runAsServerUser("pg_ctl", ["-D", dataPath, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60", "start"])
        let pidText = try String(contentsOfFile: dataPath + "/postmaster.pid", encoding: .utf8)
        guard let first = pidText.split(separator: "\n").first, let value = pid_t(first) else {
            throw PostgresServerError("postmaster.pid has no PID: \(pidText.prefix(80))")
        }
        lock.withLock { pid = value }
    }

    /// Stops the server by PID (SIGINT: PostgreSQL's fast shutdown), waiting up to 30 s.
    public func stop() {
        guard let value = lock.withLock({ pid }) else { return }
        kill(value, SIGINT)
        let deadline = Date().addingTimeInterval(30)
        while kill(value, 0) == 0, Date() < deadline { usleep(50_000) }
        if kill(value, 0) == 0 { kill(value, SIGKILL) }
        lock.withLock { pid = nil }
    }

    /// Stops the server and removes its directory.
    public func destroy() {
        stop()
        try? FileManager.default.removeItem(at: directory)  // a leftover temp dir is harmless
    }

    /// Runs `psql -c SQL` against a database; its output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try runAsServerUser("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    @discardableResult
    private func runAsServerUser(_ tool: String, _ arguments: [String]) throws -> String {
        let path = binaries.appendingPathComponent(tool).path
        if getuid() == 0 {
            return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments, directory: directory)
        }
        return try Self.run(path, arguments, directory: directory)
    }

    /// Runs a tool to completion with posix_spawn, its output into a file and every descriptor
    /// above 2 closed in the child: `pg_ctl start` leaves the postmaster running with whatever
    /// the tool inherited, and Foundation's `Process` waits on a descriptor of its own that the
    /// postmaster would then hold open forever.
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], directory: URL? = nil) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("driftwatch-pg-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }  // a leftover temp file is harmless
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // glibc ≥ 2.34 has both; its headers hide them from Swift (they need _GNU_SOURCE).
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        guard let closeFrom = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"),
              let changeDirectory = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { throw PostgresServerError("this C library has no posix_spawn_file_actions_addclosefrom_np (glibc ≥ 2.34 needed)") }
        _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3)
        if let directory { _ = unsafeBitCast(changeDirectory, to: ChangeDirectory.self)(&actions, directory.path) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw PostgresServerError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""  // output is only for the error message
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw PostgresServerError("\((executable as NSString).lastPathComponent) \(arguments.prefix(3).joined(separator: " ")) failed (status \(status)): \(text.suffix(600))")
        }
        return text
    }

    /// The newest `/usr/lib/postgresql/N/bin` holding `initdb` (Debian's layout).
    private static func findBinaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])  // absent: reported below
            .compactMap(Int.init).sorted(by: >)
        for v in versions {
            let bin = root.appendingPathComponent("\(v)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        throw PostgresServerError("no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/install-deps.sh test (Debian's postgresql package)")
    }
}

/// Why the test PostgreSQL server could not be started or used.
public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP port free on 127.0.0.1 right now (bound to port 0, then released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PostgresServerError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw PostgresServerError("bind/getsockname failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
