internal import DKIM
internal import Foundation

/// Our domains' DKIM private keys: the signer of each domain (its first key) and the public key
/// records of all its keys, which `/.well-known/domainkey/<d>/<s>` serves.
struct SigningKeyring: Sendable {
    /// Domain → signer for outbound requests.
    let signers: [String: DKIMSigner]
    /// Local domain → signer used when forwarding to its upstream with `upstream-trust: dkim`.
    let upstreamSigners: [String: DKIMSigner]
    /// `domain/selector` → key record text.
    let records: [String: String]

    /// Loads every configured key. A key marked `create-if-missing` is generated (2048 bits, mode
    /// 0600) when its file does not exist; `notice` is told so. With `create: false` (`--check-config`)
    /// nothing is written: such a key is only generated in memory and `notice` says it would be
    /// created. Every key's problem is reported, not only the first.
    static func load(
        _ configuration: GatewayConfiguration, create: Bool = true,
        notice: (String) -> Void
    ) throws(ConfigurationError) -> SigningKeyring {
        var signers: [String: DKIMSigner] = [:]
        var upstreamSigners: [String: DKIMSigner] = [:]
        var records: [String: String] = [:]
        let log = ProblemLog()
        for domain in configuration.domains {
            for (index, key) in domain.keys.enumerated() {
                let path = "domains.\(domain.name).dkim-keys[\(index)].private-key"
                log.collect(()) { () throws(ConfigurationError) in
                    let privateKey = try loadOrCreate(key, keyPath: path, create: create, notice: notice)
                    records["\(domain.name)/\(key.selector)"] = KeyRecord.text(for: privateKey.publicKey)
                    if index == 0 {
                        signers[domain.name] = try signer(
                            privateKey, domain: domain.name, selector: key.selector,
                            configuration: configuration, keyPath: path)
                    }
                }
            }
            if case .dkim(let signingDomain, let key) = domain.upstreamTrust {
                let path = "domains.\(domain.name).upstream-dkim-key.private-key"
                log.collect(()) { () throws(ConfigurationError) in
                    let privateKey = try loadOrCreate(key, keyPath: path, create: create, notice: notice)
                    upstreamSigners[domain.name] = try signer(
                        privateKey, domain: signingDomain, selector: key.selector,
                        configuration: configuration, keyPath: path, methods: [.privateExchange])
                }
            }
        }
        if let problems = ConfigurationError.combining(log.problems) { throw problems }
        return SigningKeyring(signers: signers, upstreamSigners: upstreamSigners, records: records)
    }

    /// The record for `/.well-known/domainkey/<domain>/<selector>`.
    func record(domain: String, selector: String) -> String? {
        records["\(domain.lowercased())/\(selector.lowercased())"]
    }

    private static func signer(
        _ key: RSAPrivateKey, domain: String, selector: String, configuration: GatewayConfiguration,
        keyPath: String, methods: [KeyQueryMethod]? = nil
    ) throws(ConfigurationError) -> DKIMSigner {
        do {
            return try DKIMSigner(
                privateKey: key, domain: domain, selector: selector,
                queryMethods: methods ?? configuration.dkim.publishedQueryMethods,
                lifetime: configuration.dkim.signatureLifetime)
        } catch {
            throw ConfigurationError(key: keyPath, problem: "unusable for signing: \(error)")
        }
    }

    private static func loadOrCreate(
        _ key: GatewayConfiguration.SigningKey, keyPath: String, create: Bool,
        notice: (String) -> Void
    ) throws(ConfigurationError) -> RSAPrivateKey {
        let path = key.privateKeyFile
        if !FileManager.default.fileExists(atPath: path) && key.createIfMissing {
            do {
                let generated = try RSAPrivateKey.generate(bits: 2048)
                guard create else {
                    notice("would create a development DKIM key at \(path) (selector \(key.selector)) on start")
                    return generated
                }
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                guard
                    FileManager.default.createFile(
                        atPath: path, contents: Data(generated.pkcs8PEM.utf8),
                        attributes: [.posixPermissions: 0o600])
                else {
                    throw ConfigurationError(key: keyPath, problem: "cannot create \(path)")
                }
                notice("created a development DKIM key at \(path) (selector \(key.selector)); publish its record before real use")
                return generated
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError(key: keyPath, problem: "cannot create \(path): \(error)")
            }
        }
        let pem: String
        do { pem = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError(key: keyPath, problem: "cannot read \(path): \(error.localizedDescription)")
        }
        do { return try RSAPrivateKey(pem: pem) } catch {
            throw ConfigurationError(key: keyPath, problem: "\(path) is not a PEM RSA private key (\(error))")
        }
    }
}
