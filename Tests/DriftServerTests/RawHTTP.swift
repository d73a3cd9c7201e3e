import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP connection to the service on 127.0.0.1, for what URLSession will not send:
/// malformed framing, partial bodies, slow senders, thousands of requests on one keep-alive
/// connection. Blocking socket calls run on a thread of their own, never on the cooperative
/// pool the in-process server needs.
final class RawConnection: @unchecked Sendable {
    // @unchecked: the descriptor is only used from the thread each call runs on, one call at a
    // time (callers await each call before the next).
    private let fd: Int32

    init(port: Int, receiveTimeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw RawHTTPError("connect() to port \(port) failed") }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Runs a blocking socket operation on its own thread.
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    func send(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await blocking {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw RawHTTPError("send failed (the server closed the connection?)") }
                sent += n
            }
        }
    }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Reads one HTTP/1.1 response (Content-Length framed; the service never chunks).
    /// nil when the server closed the connection before a response.
    /// `bodyExpected` false for the answer to HEAD (its Content-Length describes the GET's body).
    func readResponse(bodyExpected: Bool = true) async throws -> RawResponse? {
        let fd = self.fd
        return try await blocking {
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            func fill() throws -> Bool {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return false }
                guard n > 0 else { throw RawHTTPError("recv timed out or failed (errno \(errno))") }
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            let separator: [UInt8] = [13, 10, 13, 10]
            var headerEnd: Int?
            while headerEnd == nil {
                if let i = buffer.firstRange(of: separator)?.lowerBound { headerEnd = i; break }
                guard try fill() else { return nil }
            }
            guard let end = headerEnd else { return nil }
            let head = String(decoding: buffer[0..<end], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for l in lines {
                guard let colon = l.firstIndex(of: ":") else { continue }
                headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = bodyExpected ? Int(headers["content-length"] ?? "0") ?? 0 : 0
            let bodyStart = end + 4
            while buffer.count < bodyStart + length {
                guard try fill() else { break }
            }
            let body = Array(buffer[bodyStart..<Swift.min(buffer.count, bodyStart + length)])
            return RawResponse(status: status, headers: headers, body: body)
        }
    }

    /// True when the server has closed the connection (a read returns end of file).
    func isClosedByServer() async throws -> Bool {
        let fd = self.fd
        return try await blocking {
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, 0)
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }
    }

    /// One request on this connection and its response.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> RawResponse? {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try await send(Array(head.utf8) + body)
        return try await readResponse(bodyExpected: method != "HEAD")
    }
}

struct RawResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var problemDetail: String? {
        guard headers["content-type"] == "application/problem+json",
              let o = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        return o["detail"] as? String
    }
}

struct RawHTTPError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
