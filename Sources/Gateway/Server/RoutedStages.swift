/// What the router serves for one configuration; a reload replaces it as a whole, and each
/// request uses the one current when it arrived.
struct RoutedStages: Sendable {
    /// The capabilities documents, rendered once (draft-05 and draft-01), and their serial number.
    struct Documents: Sendable {
        let draft05: [UInt8]
        let draft01: [UInt8]
        let serial: String
    }

    let inbound: InboundProcessor
    let outbound: OutboundProcessor
    let delivery: DeliveryStages
    let capabilities: Documents
    /// Our keys: the records `/.well-known/domainkey` serves.
    let keyring: SigningKeyring
    /// Whether `/status` (HTML) is served on the intake listeners (`/status.json` always is).
    let statusPage: Bool
}
