internal import Foundation
internal import Transport

/// Decides whether a submission to the outbound path (and the status report, metrics and health
/// details served beside it) comes from the configured local server: its address must be
/// allow-listed and, when a secret is configured, the secret header must match exactly (compared
/// in constant time). No open relay: a request relayed by a proxy (`Forwarded`,
/// `X-Forwarded-For`, `X-Real-IP`) is refused unless its immediate peer is one of
/// `outbound.trusted-proxies`, and then the client that proxy names is the one allow-listed.
struct OutboundIntake: Sendable {
    let intake: GatewayConfiguration.Intake

    static let forwardingHeaders = ["Forwarded", "X-Forwarded-For", "X-Real-IP"]

    /// Why the submission is refused, or nil when it is allowed.
    func refusal(_ incoming: IncomingRequest) -> String? {
        let relayed = Self.forwardingHeaders.filter { !incoming.values($0).isEmpty }
        var client = incoming.peer
        let fromProxy = !incoming.viaLocalSocket && intake.trustedProxies.contains(where: { $0.contains(incoming.peer) })
        // A trusted proxy that names nobody would make every stranger it forwards look like the proxy.
        if fromProxy && relayed.isEmpty {
            return "a request from \(incoming.peer) (outbound.trusted-proxies) that names no client (Forwarded, X-Forwarded-For)"
        }
        if !relayed.isEmpty {
            guard fromProxy else {
                return
                    "a request relayed by a proxy (\(relayed.joined(separator: ", "))) from \(incoming.viaLocalSocket ? "a local socket" : incoming.peer), "
                    + "which is not one of outbound.trusted-proxies"
            }
            guard let named = Self.forwardedClient(incoming) else {
                return "the forwarding headers (\(relayed.joined(separator: ", "))) do not name one client address"
            }
            client = named
        }
        // A Unix-domain socket admits only the local processes its file mode allows.
        guard (incoming.viaLocalSocket && relayed.isEmpty) || intake.allowFrom.contains(where: { $0.contains(client) }) else {
            return "\(client) may not submit outbound messages"
        }
        guard let secret = intake.secret else { return nil }
        let presented = incoming.values(intake.secretHeader)
        guard presented.count == 1, Self.constantTimeEquals(Array(presented[0].utf8), Array(secret.utf8)) else {
            return "missing or wrong \(intake.secretHeader) header"
        }
        return nil
    }

    /// The client a trusted proxy names: the last hop it added (`Forwarded: for=`, the last
    /// `X-Forwarded-For` entry, `X-Real-IP`); nil when it is not an IP address, or the headers present disagree.
    static func forwardedClient(_ incoming: IncomingRequest) -> String? {
        var named: [String] = []
        if let forwarded = incoming.values("Forwarded").joined(separator: ",").split(separator: ",").last {
            guard
                let value = forwarded.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) })
                    .first(where: { $0.lowercased().hasPrefix("for=") })
            else { return nil }
            named.append(Self.bareAddress(String(value.dropFirst(4))))
        }
        if let last = incoming.values("X-Forwarded-For").joined(separator: ",").split(separator: ",").last {
            named.append(Self.bareAddress(String(last)))
        }
        let realIP = incoming.values("X-Real-IP")
        if !realIP.isEmpty {
            guard realIP.count == 1 else { return nil }
            named.append(Self.bareAddress(realIP[0]))
        }
        guard let first = named.first, Set(named).count == 1, IPAddressRange(first) != nil else { return nil }
        return first
    }

    /// An address without quotes, brackets or port (`"[2001:db8::1]:4711"` → `2001:db8::1`).
    private static func bareAddress(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
        if value.hasPrefix("["), let close = value.firstIndex(of: "]") { return String(value[value.index(after: value.startIndex)..<close]) }
        if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") { return String(value[..<colon]) }
        return value
    }

    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }
}
