import ArgumentParser
import DKIM
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure the CLI reports as one line naming the file or option, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum CLIFiles {
    /// The bytes of `path`, or an error naming the file and why it cannot be read.
    static func read(_ path: String, what: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(what) \(path): no such file")
        }
        guard !isDirectory.boolValue else { throw CLIError("\(what) \(path): is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(what) \(path): cannot be read (permissions?)")
        }
        return Array(data)
    }

    static func text(_ path: String, what: String) throws -> String {
        let bytes = try read(path, what: what)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw CLIError("\(what) \(path): not UTF-8 text") }
        return text
    }

    static func privateKey(_ path: String) throws -> RSAPrivateKey {
        do { return try RSAPrivateKey(pem: try text(path, what: "private key")) } catch let error as CryptoError {
            throw CLIError("private key \(path): \(error)")
        }
    }

    static func request(_ path: String) throws -> HTTPRequestMessage {
        let bytes = try read(path, what: "request file")
        do { return try HTTPRequestMessage(parsing: bytes) } catch {
            throw CLIError("request file \(path): \(error)")
        }
    }

    /// Creates `path` with `mode` from the first byte on (no window with wider permissions);
    /// refuses to replace an existing file.
    /// Creates `path` (never replacing a file) with exactly `mode` (whatever the umask) and, when
    /// given, `owner`, both set before any byte is written.
    static func writeNew(_ path: String, _ bytes: [UInt8], mode: mode_t, owner: FileOwner? = nil) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0o600)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "already exists (remove it or choose another --out)" : String(cString: strerror(errno))
            throw CLIError("\(path): \(reason)")
        }
        defer { close(descriptor) }
        if let owner, fchown(descriptor, owner.user, owner.group) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw CLIError("\(path): cannot give it to \(owner.text): \(reason)")
        }
        guard fchmod(descriptor, mode) == 0 else { throw CLIError("\(path): chmod failed: \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else { throw CLIError("\(path): write failed: \(String(cString: strerror(errno)))") }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw CLIError("\(path): fsync failed: \(String(cString: strerror(errno)))") }
    }
}

/// The zone-file line for a published key: the record split into strings of at most 255 octets.
enum DNSRecordText {
    static func line(domain: String, selector: String, record: String) -> String {
        var strings: [String] = []
        var rest = Substring(record)
        while !rest.isEmpty {
            strings.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return "\(KeyLocation.dnsName(domain: domain, selector: selector)). IN TXT \(strings.joined(separator: " "))"
    }
}

/// Options naming the signing identity.
struct SigningIdentityOptions: ParsableArguments {
    @Option(help: "Signing domain (d=), normally the calendar users' domain.")
    var domain: String

    @Option(help: "Key selector (s=).")
    var selector: String

    func validate() throws {
        guard DNSName.isValidDomain(domain) else { throw ValidationError("--domain '\(domain)' is not a domain name") }
        guard DNSName.isValidSelector(selector) else { throw ValidationError("--selector '\(selector)' is not a DNS label sequence") }
    }
}

/// Writes an informational line to standard error, keeping standard output for data.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `--owner USER[:GROUP]`, resolved to ids.
struct FileOwner {
    let user: uid_t
    let group: gid_t
    /// Whether a group was named (the private key is then made group-readable for it).
    let namesGroup: Bool
    let text: String

    init(_ text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let account = getpwnam(parts[0]) else { throw CLIError("--owner \(text): no user \(parts[0])") }
        user = account.pointee.pw_uid
        if parts.count == 2 {
            guard let entry = getgrnam(parts[1]) else { throw CLIError("--owner \(text): no group \(parts[1])") }
            group = entry.pointee.gr_gid
            namesGroup = true
        } else {
            group = account.pointee.pw_gid
            namesGroup = false
        }
        self.text = text
    }

    /// An existing file's owner and group (kept when a file is replaced or a sibling is written).
    init(user: uid_t, group: gid_t) {
        self.user = user
        self.group = group
        namesGroup = true
        text = "\(user):\(group)"
    }
}
