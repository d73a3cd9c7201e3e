import DriftCore
import Hummingbird

actor KServeJoin {}

extension DriftService {
    func postKServe(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        throw Problem(.notImplemented, "TEMP")
    }
}
