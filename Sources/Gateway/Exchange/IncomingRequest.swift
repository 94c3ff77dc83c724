internal import DKIM

/// One request as the router hands it to a processor: the header fields as received (the DKIM
/// verifier needs their exact values), the whole body and the peer's address.
struct IncomingRequest: Sendable {
    var headers: [HeaderField]
    var body: [UInt8]
    /// The peer's IP address literal.
    var peer: String

    func values(_ name: String) -> [String] { headers.values(named: name) }
}
