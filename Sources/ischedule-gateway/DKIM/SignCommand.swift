import ArgumentParser
import DKIM
import Foundation

/// Signs a saved raw HTTP request and prints the signed request.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "DKIM-sign a raw HTTP/1.1 request file and print the signed request.",
        discussion: """
            Adds iSchedule-Version, iSchedule-Message-ID and Cache-Control when absent, signs with
            rsa-sha256 and c=ischedule-relaxed/simple, and writes the request to standard output.
            """
    )

    @Option(help: "Raw HTTP/1.1 request file (request line, headers, blank line, body).")
    var request: String

    @Option(help: "Private key PEM (PKCS#1 or PKCS#8).")
    var key: String

    @OptionGroup var identity: SigningIdentityOptions

    @Option(help: "Signing time t= as Unix seconds (default: now).")
    var now: Int64?

    @Option(help: "Seconds until the signature expires (x = t + expire).")
    var expire: Int64 = 3600

    @Option(
        name: .customLong("query-methods"),
        help: "Colon-separated q= methods: dns/txt, http/well-known, private-exchange.")
    var queryMethods = "dns/txt"

    func validate() throws {
        guard expire > 0 else { throw ValidationError("--expire must be a positive number of seconds") }
        if let now, now < 0 { throw ValidationError("--now must be Unix seconds (>= 0)") }
        _ = try methods()
    }

    private func methods() throws -> [KeyQueryMethod] {
        try queryMethods.split(separator: ":").map { item in
            guard let method = KeyQueryMethod(rawValue: String(item)) else {
                throw ValidationError("--query-methods: unknown method '\(item)' (dns/txt, http/well-known, private-exchange)")
            }
            return method
        }
    }

    func run() throws {
        var message = try CLIFiles.request(request)
        let signer: DKIMSigner
        do {
            signer = try DKIMSigner(
                privateKey: try CLIFiles.privateKey(key), domain: identity.domain,
                selector: identity.selector, queryMethods: try methods(), lifetime: expire)
        } catch let error as SigningError {
            throw CLIError("--key \(key): \(error)")
        }
        do {
            try signer.sign(&message, now: now ?? SystemUnixClock().now())
        } catch {
            throw CLIError("request file \(request): \(error)")
        }
        // A request file without framing cannot be sent as it is; Content-Length is not signed.
        if !message.headers.contains(named: "Content-Length") && !message.headers.contains(named: "Transfer-Encoding") {
            message.headers.append(HeaderField(name: "Content-Length", value: String(message.body.count)))
        }
        FileHandle.standardOutput.write(Data(message.serialized()))
    }
}
