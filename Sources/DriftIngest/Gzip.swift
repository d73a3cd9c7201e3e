import CompressNIO
import NIOCore

/// Inflates a `Content-Encoding: gzip` body.
///
/// Throws `IngestDecodingError` when the data is not gzip, is corrupt or truncated (zlib checks
/// the CRC-32 and length trailer; a stream that simply stops is caught too), or would inflate
/// to more than `maxOutput` bytes — a zip bomb is stopped at `maxOutput`, never allocated in
/// full. Concatenated gzip members (RFC 1952 §2.2) are inflated one after the other.
public func gunzip(_ body: [UInt8], maxOutput: Int) throws -> [UInt8] {
    guard body.count >= 18 else {
        // 10-byte header + empty deflate block + 8-byte trailer is the smallest gzip file.
        throw IngestDecodingError("the gzip body is truncated or empty (\(body.count) bytes)")
    }
    guard body[0] == 0x1F, body[1] == 0x8B else {
        throw IngestDecodingError("Content-Encoding is gzip but the body does not start with the gzip magic bytes 1f 8b")
    }
    let allocator = ByteBufferAllocator()
    var input = allocator.buffer(bytes: body)
    // Start near the likely size (JSON compresses ~4–8×) and grow by doubling, never past the cap.
    var output = allocator.buffer(capacity: Swift.max(4096, Swift.min(maxOutput &+ 1, body.count &* 6)))
    let decompressor: ZlibDecompressor
    do {
        decompressor = try ZlibDecompressor(algorithm: .gzip)
    } catch {
        throw IngestDecodingError("could not start gzip decompression (\(error))")
    }

    func tooLarge() -> IngestDecodingError {
        IngestDecodingError("the gzip body inflates to more than \(maxOutput) bytes; send smaller batches")
    }

    while true {
        var ended = false
        while !ended {
            if output.writableBytes == 0 {
                if output.writerIndex > maxOutput { throw tooLarge() }
                let grown = Swift.min(output.capacity &* 2, maxOutput &+ 1)
                guard grown > output.capacity else { throw tooLarge() }
                output.reserveCapacity(grown)
            }
            do {
                try decompressor.inflate(from: &input, to: &output)
                // No error: zlib either reached the end of the stream or consumed all input
                // with room left in `output`. A second call with no input tells which: after
                // the end zlib says so again, mid-stream it cannot make progress (truncated).
                if output.writableBytes == 0 { output.reserveCapacity(output.capacity + 1) }
                var empty = allocator.buffer(capacity: 0)
                let before = output.writerIndex
                do {
                    try decompressor.inflate(from: &empty, to: &output)
                    ended = output.writerIndex == before
                    if !ended { continue }
                } catch let e as CompressNIOError where e == .inputBufferOverflow {
                    throw IngestDecodingError("the gzip body is truncated (it ends before the end of the compressed stream)")
                }
            } catch let e as CompressNIOError where e == .bufferOverflow {
                continue  // output full: grow and go on
            } catch let e as CompressNIOError where e == .inputBufferOverflow {
                throw IngestDecodingError("the gzip body is truncated (it ends before the end of the compressed stream)")
            } catch let e as CompressNIOError where e == .corruptData {
                throw IngestDecodingError("the gzip body is corrupt (bad deflate data or checksum)")
            } catch let e as IngestDecodingError {
                throw e
            } catch {
                throw IngestDecodingError("gzip decompression failed (\(error))")
            }
        }
        if output.readableBytes > maxOutput { throw tooLarge() }
        // Another gzip member may follow; anything else after the stream is an error.
        guard input.readableBytes > 0 else { break }
        let rest = input.readableBytesView
        if rest.count >= 2, rest[rest.startIndex] == 0x1F, rest[rest.startIndex + 1] == 0x8B {
            do { try decompressor.reset() } catch { throw IngestDecodingError("gzip decompression failed (\(error))") }
            continue
        }
        throw IngestDecodingError("the gzip body has \(rest.count) bytes of trailing data after the compressed stream")
    }
    return output.readBytes(length: output.readableBytes) ?? []
}
