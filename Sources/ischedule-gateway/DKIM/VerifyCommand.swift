import ArgumentParser
import DKIM
import Foundation
import Transport

/// Verifies a saved signed request with a given key, key record or private-exchange directory.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the DKIM signature of a raw HTTP/1.1 request file.",
        discussion: """
            Prints 'verified d=… s=… a=…' and exits 0, or prints one line with the reason and exits 1.
            --public-key and --key-record answer every q= method. Without them the signature's q=
            methods are used: dns/txt asks DNS (the system resolver, or --dns-server), http/well-known
            fetches https://…/.well-known/domainkey/<d>/<s> (public addresses only unless
            --allow-private-addresses), private-exchange reads --private-exchange <dir>/<domain>/<selector>
            (or Apple's <dir>/<domain>#<selector>).
            """
    )

    @Option(help: "Raw HTTP/1.1 request file.")
    var request: String

    @Option(name: .customLong("public-key"), help: "SPKI public key PEM (BEGIN PUBLIC KEY).")
    var publicKey: String?

    @Option(name: .customLong("key-record"), help: "File holding DKIM key records, one per line (v=DKIM1; … p=…).")
    var keyRecord: String?

    @Option(name: .customLong("private-exchange"), help: "Directory of private-exchange key records.")
    var privateExchange: String?

    @OptionGroup var dns: DNSServerOption

    @Option(name: .customLong("ca-file"), help: "PEM CA bundle for http/well-known key fetches (default: the system store).")
    var caFile: String?

    @Flag(
        name: .customLong("allow-private-addresses"),
        help: "Let http/well-known key fetches reach loopback and private addresses (refused by default).")
    var allowPrivateAddresses = false

    @Option(help: "Verification time as Unix seconds (default: now).")
    var now: Int64?

    @Option(help: "Seconds a signature's t= may lie in the future.")
    var skew: Int64 = 360

    @Flag(
        name: .customLong("legacy-dialects"),
        help: "Also accept draft-01 dialects: relaxed, simple and simple-http canonicalization.")
    var legacyDialects = false

    func validate() throws {
        let fixed = [publicKey, keyRecord].compactMap { $0 }
        guard fixed.count <= 1 else { throw ValidationError("give at most one of --public-key or --key-record") }
        guard fixed.isEmpty || (privateExchange == nil && dns.dnsServer == nil && caFile == nil && !allowPrivateAddresses) else {
            throw ValidationError("--public-key and --key-record replace every lookup: drop the lookup options")
        }
        guard skew >= 0 else { throw ValidationError("--skew must be >= 0") }
    }

    private func keySources() throws -> [KeyQueryMethod: any KeyRecordSource] {
        if let publicKey {
            let key: RSAPublicKey
            do { key = try RSAPublicKey(pem: try CLIFiles.text(publicKey, what: "public key")) } catch let error as CryptoError {
                throw CLIError("public key \(publicKey): \(error)")
            }
            return Self.everyMethod(FixedKeyRecords(records: [KeyRecord.text(for: key)]))
        }
        if let keyRecord {
            let records = PrivateExchangeKeyStore.records(in: try CLIFiles.text(keyRecord, what: "key record file"))
            guard !records.isEmpty else { throw CLIError("key record file \(keyRecord): holds no record") }
            return Self.everyMethod(FixedKeyRecords(records: records))
        }
        let resolver = DNSResolver(configuration: dns.configuration)
        if let caFile { _ = try CLIFiles.read(caFile, what: "CA file") }
        var sources: [KeyQueryMethod: any KeyRecordSource] = [
            .dnsTXT: DNSKeyRecordSource(resolver: resolver),
            .httpWellKnown: WellKnownKeyRecordSource(
                client: HTTPClient(
                    configuration: HTTPClientConfiguration(caFile: caFile),
                    resolver: resolver.hostResolver),
                resolver: resolver, addressPolicy: allowPrivateAddresses ? .any : .publicOnly,
                revealsFailures: true)
        ]
        if let directory = privateExchange {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("private-exchange directory \(directory): no such directory")
            }
            sources[.privateExchange] = PrivateExchangeKeyStore(directory: directory)
        }
        return sources
    }

    private static func everyMethod(_ source: any KeyRecordSource) -> [KeyQueryMethod: any KeyRecordSource] {
        Dictionary(uniqueKeysWithValues: KeyQueryMethod.allCases.map { ($0, source) })
    }

    func run() async throws {
        let message = try CLIFiles.request(request)
        var policy: VerificationPolicy = legacyDialects ? .legacyInterop : .iSchedule
        policy.clockSkew = skew
        let clock: any UnixClock = now.map { FixedUnixClock($0) } ?? SystemUnixClock()
        let verifier = DKIMVerifier(keys: KeyLocator(sources: try keySources()), policy: policy, clock: clock)
        do {
            let verified = try await verifier.verify(message)
            print("verified d=\(verified.domain) s=\(verified.selector) a=\(verified.algorithm.rawValue)")
        } catch {
            print("verification failed\(error.isTemporary ? " (temporary)" : ""): \(error)")
            throw ExitCode(1)
        }
    }
}
