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
            the zone-file line to publish. Informational lines go to standard error. With
            --owner root:ischedule-gateway (as the systemd unit expects) the private key is mode 0640
            and readable by the service's group; owner and mode are set before the key is written.
            """
    )

    @OptionGroup var identity: SigningIdentityOptions

    @Option(help: "Key size in bits (2048 to 8192; RFC 8301 recommends 2048).")
    var bits = 2048

    @Option(help: "Directory for the key files (created if missing).")
    var out: String

    @Option(help: "USER[:GROUP] to own the key files; with a GROUP the private key is group-readable (0640), e.g. root:ischedule-gateway.")
    var owner: String?

    func validate() throws {
        guard bits >= 2048 else { throw ValidationError("--bits \(bits) is too small: keys must have at least 2048 bits") }
        guard bits <= 8192 else { throw ValidationError("--bits \(bits) is too large: at most 8192") }
    }

    func run() throws {
        let key: RSAPrivateKey
        do { key = try RSAPrivateKey.generate(bits: bits) } catch { throw CLIError("key generation failed: \(error)") }
        let base = "\(identity.domain).\(identity.selector)"
        let fileOwner = try owner.map(FileOwner.init)
        try KeyFiles.createDirectory(out, owner: fileOwner)
        let privatePath = "\(out)/\(base).private.pem"
        let publicPath = "\(out)/\(base).public.pem"
        let privateMode: mode_t = fileOwner?.namesGroup == true ? 0o640 : 0o600
        try CLIFiles.writeNew(privatePath, Array(key.pkcs8PEM.utf8), mode: privateMode, owner: fileOwner)
        try CLIFiles.writeNew(publicPath, Array(key.publicKey.pem.utf8), mode: 0o644, owner: fileOwner)
        let ownership = fileOwner.map { ", owner \($0.text)" } ?? ""
        printError("wrote \(privatePath) (private, mode \(String(privateMode, radix: 8))\(ownership)) and \(publicPath)")
        print(DNSRecordText.line(domain: identity.domain, selector: identity.selector, record: KeyRecord.text(for: key.publicKey)))
    }
}

enum KeyFiles {
    /// Creates `path` if missing: mode 0700, or 0750 and given to `owner` when it names a group
    /// (the service's group must reach the key inside).
    static func createDirectory(_ path: String, owner: FileOwner? = nil) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("--out \(path): exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: owner?.namesGroup == true ? 0o750 : 0o700])
            if let owner, owner.namesGroup, chown(path, owner.user, owner.group) != 0 {
                throw CLIError("--out \(path): cannot give it to \(owner.text): \(String(cString: strerror(errno)))")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("--out \(path): cannot create directory: \(error.localizedDescription)")
        }
    }
}
