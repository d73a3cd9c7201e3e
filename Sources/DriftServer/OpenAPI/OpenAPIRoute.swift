import Hummingbird
import NIOCore

/// `GET /openapi.json`: the API's OpenAPI 3.1 document (openapi/openapi.json, embedded).
func openAPIResponse() -> Response {
    let bytes = Array(openAPIDocumentJSON.utf8)
    return Response(status: .ok, headers: [.contentType: "application/json", .contentLength: String(bytes.count)],
                    body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}
