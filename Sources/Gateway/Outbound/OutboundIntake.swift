internal import Transport

/// Decides whether a submission to the outbound path comes from the configured local server:
/// its address must be allow-listed and, when a secret is configured, the secret header must
/// match exactly (compared in constant time). No open relay.
struct OutboundIntake: Sendable {
    let intake: GatewayConfiguration.Intake

    /// Why the submission is refused, or nil when it is allowed.
    func refusal(_ incoming: IncomingRequest) -> String? {
        // A Unix-domain socket admits only the local processes its file mode allows.
        guard incoming.viaLocalSocket || intake.allowFrom.contains(where: { $0.contains(incoming.peer) }) else {
            return "\(incoming.peer) may not submit outbound messages"
        }
        guard let secret = intake.secret else { return nil }
        let presented = incoming.values(intake.secretHeader)
        guard presented.count == 1, Self.constantTimeEquals(Array(presented[0].utf8), Array(secret.utf8)) else {
            return "missing or wrong \(intake.secretHeader) header"
        }
        return nil
    }

    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }
}
