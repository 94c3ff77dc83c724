import ArgumentParser
import DKIM
import Foundation

/// Generates a signing key pair and prints the DNS record to publish.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an RSA key pair and print its DNS TXT record.",
        discussion: """
        Writes <out>/<domain>.<selector>.private.pem (PKCS#8, mode 0600) and
        <out>/<domain>.<selector>.public.pem (SPKI), never replacing existing files, then prints
        the zone-file line to publish. Informational lines go to standard error.
        """
    )

    @OptionGroup var identity: SigningIdentityOptions

    @Option(help: "Key size in bits (2048 to 8192; RFC 8301 recommends 2048).")
    var bits = 2048

    @Option(help: "Directory for the key files (created if missing).")
    var out: String

    func validate() throws {
        guard bits >= 2048 else { throw ValidationError("--bits \(bits) is too small: keys must have at least 2048 bits") }
        guard bits <= 8192 else { throw ValidationError("--bits \(bits) is too large: at most 8192") }
    }

    func run() throws {
        let key: RSAPrivateKey
        do { key = try RSAPrivateKey.generate(bits: bits) } catch { throw CLIError("key generation failed: \(error)") }
        let base = "\(identity.domain).\(identity.selector)"
        try KeyFiles.createDirectory(out)
        let privatePath = "\(out)/\(base).private.pem"
        let publicPath = "\(out)/\(base).public.pem"
        try CLIFiles.writeNew(privatePath, Array(key.pkcs8PEM.utf8), mode: 0o600)
        try CLIFiles.writeNew(publicPath, Array(key.publicKey.pem.utf8), mode: 0o644)
        printError("wrote \(privatePath) (private, mode 0600) and \(publicPath)")
        print(DNSRecordText.line(domain: identity.domain, selector: identity.selector, record: KeyRecord.text(for: key.publicKey)))
    }
}

enum KeyFiles {
    static func createDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("--out \(path): exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("--out \(path): cannot create directory: \(error.localizedDescription)")
        }
    }
}
