internal import Hummingbird
internal import NIOCore
internal import NIOSSL

/// The request context: Hummingbird's core storage plus the peer address policy decisions need.
struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The DNS subject alternative names of the client certificate the TLS handshake verified,
    /// lower case; nil without TLS or without a client certificate.
    func clientCertificateNames() async -> [String]? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return certificate._subjectAlternativeNames().compactMap { name in
            name.nameType == .dnsName ? String(decoding: name.contents, as: UTF8.self).lowercased() : nil
        }
    }
}
