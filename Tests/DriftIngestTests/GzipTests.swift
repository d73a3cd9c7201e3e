import CompressNIO
import DriftIngest
import NIOCore
import XCTest

final class GzipTests: XCTestCase {
    private func gzip(_ data: [UInt8]) throws -> [UInt8] {
        var input = ByteBufferAllocator().buffer(bytes: data)
        var out = try input.compress(with: .gzip())
        return out.readBytes(length: out.readableBytes) ?? []
    }

    private func gunzipError(_ body: [UInt8], maxOutput: Int = 1 << 20) -> String {
        do {
            _ = try gunzip(body, maxOutput: maxOutput)
            XCTFail("expected an error")
            return ""
        } catch let e as IngestDecodingError {
            return e.message
        } catch {
            XCTFail("unexpected \(error)")
            return ""
        }
    }

    func testRoundTrip() throws {
        let text = bytes(String(repeating: #"{"features":{"a":1.5,"b":"x"}}"# + "\n", count: 5000))
        let z = try gzip(text)
        XCTAssertLessThan(z.count, text.count / 10)
        XCTAssertEqual(try gunzip(z, maxOutput: text.count), text, "exactly maxOutput bytes is allowed")
        let d = try decodeObservations(try gunzip(z, maxOutput: 1 << 24), format: .ndjson)
        XCTAssertEqual(d.batch.count, 5000)
        // Incompressible data grows the output buffer past its first guess.
        var g = SystemRandomNumberGenerator()
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &g) }
        XCTAssertEqual(try gunzip(try gzip(noise), maxOutput: 1 << 20), noise)
        XCTAssertEqual(try gunzip(try gzip([]), maxOutput: 10), [])
    }

    func testConcatenatedMembers() throws {
        let a = bytes("{\"features\":{\"a\":1}}\n"), b = bytes("{\"features\":{\"a\":2}}\n")
        XCTAssertEqual(try gunzip(try gzip(a) + gzip(b), maxOutput: 1000), a + b)
    }

    func testCorruptTruncatedAndForeign() throws {
        let text = bytes(String(repeating: "observation ", count: 2000))
        let z = try gzip(text)
        var corrupt = z
        corrupt[z.count / 2] ^= 0xFF
        let m1 = gunzipError(corrupt)
        XCTAssertTrue(m1.contains("corrupt") || m1.contains("truncated"), m1)
        var badCRC = z
        badCRC[z.count - 6] ^= 0x01
        XCTAssertTrue(gunzipError(badCRC).contains("corrupt"), gunzipError(badCRC))
        XCTAssertTrue(gunzipError(Array(z.prefix(z.count - 4))).contains("truncated"))
        XCTAssertTrue(gunzipError(Array(z.prefix(z.count / 2))).contains("truncated"))
        XCTAssertTrue(gunzipError(bytes(#"{"observations":[]} plain JSON body"#)).contains("magic bytes"))
        XCTAssertTrue(gunzipError([0x1F, 0x8B]).contains("truncated"))
        XCTAssertTrue(gunzipError(z + bytes("garbage!")).contains("trailing data"))
    }

    func testZipBombStopsAtTheLimit() throws {
        let bomb = try gzip([UInt8](repeating: 0, count: 20_000_000))
        XCTAssertLessThan(bomb.count, 100_000)
        let message = gunzipError(bomb, maxOutput: 1_000_000)
        XCTAssertTrue(message.contains("more than 1000000 bytes"), message)
        XCTAssertTrue(gunzipError(try gzip(bytes("0123456789a")), maxOutput: 10).contains("more than 10 bytes"))
    }
}
