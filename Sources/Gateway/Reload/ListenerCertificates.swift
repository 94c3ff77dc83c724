internal import NIOCore
internal import NIOSSL

/// An HTTPS listener's certificate chain and private key. A reload replaces them; every TLS
/// handshake after that presents the new pair (NIOSSL's per-handshake context override), while
/// connections already established keep theirs. Renewed certificates need no restart.
final class ListenerCertificates: Sendable {
    struct Material: Sendable {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKeySource
    }

    private let material: Reloadable<(material: Material, replaced: Bool)>

    init(_ material: Material) { self.material = Reloadable((material, false)) }

    func replace(with new: Material) { material.replace(with: (new, true)) }

    /// The server configuration the listener is built with: the pair loaded at start, overridden
    /// per handshake once a reload replaced it.
    func serverConfiguration() -> TLSConfiguration {
        let initial = material.current.material
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: initial.chain, privateKey: initial.key)
        // Idle keep-alive peers (curl pools) rarely answer close_notify; do not hold shutdown 5 s for them.
        tls.shutdownTimeout = .seconds(1)
        tls.sslContextCallback = { [material] _, promise in
            let current = material.current
            guard current.replaced else { return promise.succeed(.noChanges) }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = current.material.chain
            override.privateKey = current.material.key
            promise.succeed(override)
        }
        return tls
    }

    /// Reads and parses the PEM files (and the client CA file of a listener that verifies client
    /// certificates); unreadable or unparsable files are named by their key.
    static func load(certificate: String, key: String, clientCA: String? = nil, keyPath: String) throws(ConfigurationError) -> Material {
        if let clientCA, ((try? NIOSSLCertificate.fromPEMFile(clientCA)) ?? []).isEmpty {
            throw ConfigurationError(key: "\(keyPath).client-ca-file", problem: "\(clientCA) holds no PEM certificate")
        }
        let chain: [NIOSSLCertificateSource]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) } } catch {
            throw ConfigurationError(key: "\(keyPath).certificate", problem: "\(certificate) is not a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw ConfigurationError(key: "\(keyPath).certificate", problem: "\(certificate) holds no certificate") }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw ConfigurationError(key: "\(keyPath).private-key", problem: "\(key) is not a PEM private key (\(error))")
        }
        do { _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))) } catch {
            throw ConfigurationError(key: "\(keyPath).private-key", problem: "\(key) does not fit the certificate in \(certificate) (\(error))")
        }
        return Material(chain: chain, key: .privateKey(privateKey))
    }
}
