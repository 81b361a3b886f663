import SystemCrypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignalingCore

/// `/api/devices`: the administrator's side of remote configuration, behind a bearer token.
/// Disabled (503) unless the server was given an admin token.
struct AdminAPI: Sendable {
    let token: String?
    let hub: SignalingHub
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/devices") { request, _ -> Response in
            if let refusal = authorize(request) { return refusal }
            do {
                return jsonResponse(try await hub.deviceStatuses())
            } catch {
                return problem(.internalServerError, "device store failed: \(error)")
            }
        }
        router.post("/api/devices/:id/config") { request, context -> Response in
            if let refusal = authorize(request) { return refusal }
            guard let id = context.parameters.get("id"), DeviceRules.isValidDeviceId(id) else {
                return problem(.badRequest, "invalid device id in the path")
            }
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: DeviceRules.maxDocumentBytes * 2) } catch {
                return problem(.contentTooLarge, "configuration larger than \(DeviceRules.maxDocumentBytes * 2) bytes")
            }
            let config: SignedDeviceConfig
            do {
                let json = try JSONValue.parse(Substring(String(buffer: body)))
                config = try SignedDeviceConfig.decode(json)
            } catch {
                return problem(.badRequest, "\(error)")
            }
            guard config.deviceId == id else { return problem(.badRequest, "deviceId in the body does not match the path") }
            switch await hub.postConfig(config) {
            case .stored(let delivered):
                var response = jsonResponse(["stored": true, "delivered": delivered])
                response.status = .accepted
                return response
            case .stale(let current):
                return problem(.conflict, "version \(config.version) is not above the stored version \(current)")
            case .failed(let reason):
                return problem(.internalServerError, reason)
            }
        }
    }

    /// Bearer-token check in constant time; the token never appears in logs.
    private func authorize(_ request: Request) -> Response? {
        guard let token else { return problem(.serviceUnavailable, "admin API disabled: set admin.token_file") }
        let presented = request.headers[.authorization].flatMap { value -> String? in
            value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : nil
        } ?? ""
        // Compare digests so neither length nor content leaks through timing.
        guard constantTimeEquals(SHA256.hash(Array(presented.utf8)), SHA256.hash(Array(token.utf8))) else {
            logger.warning("refused admin request", metadata: ["path": "\(request.uri.path)"])
            var response = problem(.unauthorized, "missing or wrong bearer token")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return nil
    }

    private func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var response = jsonResponse(["error": message])
        response.status = status
        return response
    }
}
