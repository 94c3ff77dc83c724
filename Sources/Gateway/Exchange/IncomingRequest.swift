internal import DKIM

/// One request as the router hands it to a processor: the header fields as received (the DKIM
/// verifier needs their exact values), the whole body and the peer's address.
struct IncomingRequest: Sendable {
    var headers: [HeaderField]
    var body: [UInt8]
    /// The peer's IP address literal ("local" on a Unix-domain socket).
    var peer: String
    /// Arrived on a Unix-domain socket: only local processes allowed by the socket file's mode can connect.
    var viaLocalSocket = false
    /// The DNS names of the TLS client certificate the peer presented and the listener verified;
    /// nil when none was (or the listener asks for none).
    var clientCertificateNames: [String]?

    func values(_ name: String) -> [String] { headers.values(named: name) }
}
