import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A program the test starts (Prometheus, Alertmanager, MLflow), its output in a log file, stopped
/// by PID: SIGTERM, then SIGKILL after a grace period (a child of an async test can inherit a
/// blocked SIGTERM mask; ../shared/notes/swift-stack.md). Never killed by name. For a program that
/// forks workers (MLflow's uvicorn) the signals go to its process group: Foundation's Process
/// starts every child as the leader of its own group (pgid = pid; checked on Linux), and killing
/// only the parent would leave the worker serving on the port.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is configured in init and only read afterwards; `exited` is a
    // semaphore, itself thread-safe.
    let name: String
    let logPath: String
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let processGroup: Bool

    init(name: String, executable: String, arguments: [String], logDirectory: String,
         environment: [String: String] = [:], processGroup: Bool = false) throws {
        self.processGroup = processGroup
        self.name = name
        logPath = logDirectory + "/\(name).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw ChildProcessError(description: "cannot write \(logPath)")
        }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildProcessError(description: "\(executable) is not installed: the test command (scripts/test.sh) installs it with scripts/install-deps.sh")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = log
        process.standardError = log
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The last `lines` lines of the program's log, for failure messages.
    func tail(_ lines: Int = 25) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return "--- \(name) (pid \(pid)) log tail ---\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Waits up to `seconds` for the program to exit by itself; its exit status, or nil
    /// (then it is killed).
    func waitForExit(seconds: Double) -> Int32? {
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            stop()
            return nil
        }
        exited.signal()  // keep the semaphore signalled for stop()/deinit
        return process.terminationStatus
    }

    func stop() {
        // The group is ours while its id is the pid (or the leader is gone, -1): never signal another group.
        let group = getpgid(pid)
        let target = processGroup && (group == pid || group == -1) ? -pid : pid
        guard process.isRunning else {
            if target < 0 { kill(target, SIGKILL) }  // the leader is gone; its workers must not outlive it
            return
        }
        kill(target, SIGTERM)
        if exited.wait(timeout: .now() + 5) == .timedOut {
            kill(target, SIGKILL)
            _ = exited.wait(timeout: .now() + 3)
        } else if target < 0 {
            kill(target, SIGKILL)  // stragglers of the group, if any (ESRCH otherwise)
        }
    }

    deinit { stop() }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

/// A TCP port free on 127.0.0.1 right now (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcessError(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw ChildProcessError(description: "bind() failed") }
    let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    guard named == 0 else { throw ChildProcessError(description: "getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The status of a GET to a peer (Alertmanager's `/-/ready`).
func httpStatus(_ url: String) async throws -> Int {
    guard let u = URL(string: url) else { throw ChildProcessError(description: "bad URL \(url)") }
    let (_, response) = try await URLSession.shared.data(from: u)
    return (response as? HTTPURLResponse)?.statusCode ?? 0
}

/// The body of a GET to a peer, as text.
func httpBody(_ url: String) async throws -> String {
    guard let u = URL(string: url) else { throw ChildProcessError(description: "bad URL \(url)") }
    let (data, _) = try await URLSession.shared.data(from: u)
    return String(decoding: data, as: UTF8.self)
}

/// Polls `condition` every 100 ms until it holds, or fails after `seconds` with the last error.
func waitForPeer(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    var lastError = ""
    while Date() < deadline {
        do {
            if try await condition() { return }
        } catch {
            lastError = " (last error: \(error))"
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ChildProcessError(description: "timed out after \(seconds) s waiting for \(what)\(lastError)")
}
