import DKIM
import Foundation
import Gateway

/// The stages of `dkim rotate` for one domain, with their state in `<keys>/<domain>.rotation`.
struct KeyRotation {
    /// What a run reports: its lines, and whether it is waiting (nothing was due).
    struct Report {
        var lines: [String]
        var waiting = false
    }

    /// The rotation in progress.
    struct State: Codable {
        enum Stage: String, Codable { case publishing, signing }
        var stage: Stage
        var oldSelector: String
        var newSelector: String
        var newKeyFile: String
        /// Unix seconds: when the stage began; for `signing`, when the old key may retire.
        var since: Int64
        var retireAfter: Int64?
    }

    let configuration: GatewayConfiguration
    let domain: String
    let keys: [GatewayConfiguration.ConfiguredKey]
    let stateFile: String

    init(configuration: GatewayConfiguration, domain: String) throws {
        guard let keys = configuration.keys(of: domain), let signing = keys.first else {
            throw CLIError("--domain \(domain): not a domain of \(configuration.source) (\(configuration.localDomainNames.joined(separator: ", ")))")
        }
        self.configuration = configuration
        self.domain = domain
        self.keys = keys
        stateFile = (signing.file as NSString).deletingLastPathComponent + "/\(domain).rotation"
    }

    /// One line on the rotation in progress for `domain`, or nil when there is none.
    static func progress(configuration: GatewayConfiguration, domain: String) -> String? {
        guard let rotation = try? KeyRotation(configuration: configuration, domain: domain),
            let data = FileManager.default.contents(atPath: rotation.stateFile),
            let state = try? JSONDecoder().decode(State.self, from: data)
        else { return nil }
        switch state.stage {
        case .publishing:
            return "stage 1 of 3 done: \(state.newSelector) waits for its TXT record (since \(date(state.since))); then dkim rotate switches signing"
        case .signing:
            return "stage 2 of 3 done: \(state.newSelector) signs; \(state.oldSelector) retires after \(date(state.retireAfter ?? state.since))"
        }
    }

    static func isSelector(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 63 && !text.hasPrefix("-") && !text.hasSuffix("-")
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// Does the stage that is due: start, switch signing once DNS shows the new key, or retire.
    /// A TXT answer as the rotation reads it: the records, and whether DNSSEC vouched for them
    /// (nil when the resolver does not validate).
    typealias TXTAnswer = (records: [String], secure: Bool?)

    func step(newSelector: String?, keepOld: Int64, now: Int64, txt: (String) async throws -> TXTAnswer) async throws -> Report {
        guard FileManager.default.fileExists(atPath: stateFile) else { return try start(selector: newSelector, now: now) }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile))) } catch {
            throw CLIError("\(stateFile): unreadable rotation state (\(error)); remove it to start over")
        }
        switch state.stage {
        case .publishing: return try await switchSigning(state, keepOld: keepOld, now: now, txt: txt)
        case .signing: return try retire(state, now: now)
        }
    }

    /// Stage 1: a new key beside the signing key, listed last (published, not signing).
    private func start(selector: String?, now: Int64) throws -> Report {
        let old = keys[0]
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let selector = (selector ?? "ischedule" + formatter.string(from: Date(timeIntervalSince1970: TimeInterval(now)))).lowercased()
        guard !keys.contains(where: { $0.selector == selector }) else {
            throw CLIError("--selector \(selector): domains.\(domain).dkim-keys already has it; choose another")
        }
        let directory = (old.file as NSString).deletingLastPathComponent
        let file = "\(directory)/\(domain).\(selector).private.pem"
        let key: RSAPrivateKey
        do { key = try RSAPrivateKey.generate(bits: 2048) } catch { throw CLIError("key generation failed: \(error)") }
        let (mode, owner) = Self.ownership(of: old.file, modeMask: 0o640)
        let edited = try editedConfiguration { editor in try editor.append(selector: selector, privateKey: relativeToConfiguration(file)) }
        try CLIFiles.writeNew(file, Array(key.pkcs8PEM.utf8), mode: mode, owner: owner)
        do { try replaceConfiguration(with: edited) } catch {
            unlink(file)
            throw error
        }
        try save(State(stage: .publishing, oldSelector: old.selector, newSelector: selector, newKeyFile: file, since: now))
        return Report(lines: [
            "stage 1 of 3: new key \(selector) for \(domain) in \(file) (2048-bit, mode \(String(mode, radix: 8)))",
            "added to domains.\(domain).dkim-keys in \(configuration.source) after \(old.selector) (published, not signing)",
            "publish this record:",
            DNSRecordText.line(domain: domain, selector: selector, record: KeyRecord.text(for: key.publicKey)),
            "then reload the gateway (it serves the key at /.well-known/domainkey/\(domain)/\(selector)) and run dkim rotate --domain \(domain) again"
        ])
    }

    /// Stage 2: once DNS serves the new record, the new key moves to the front (signs after a reload).
    private func switchSigning(_ state: State, keepOld: Int64, now: Int64, txt: (String) async throws -> TXTAnswer) async throws -> Report {
        let name = KeyLocation.dnsName(domain: domain, selector: state.newSelector)
        let publicKey = try CLIFiles.privateKey(state.newKeyFile).publicKey
        let verdict: PublishedKey.Verdict
        var secure: Bool?
        do {
            let answer = try await txt(name)
            verdict = PublishedKey.judge(answer.records, for: publicKey)
            secure = answer.secure
        } catch { verdict = .notPublished("\(error)") }
        if case .notPublished(let why) = verdict {
            return Report(
                lines: [
                    "waiting (stage 2 of 3): \(name) does not publish the new key yet: \(why)",
                    "signing stays with \(state.oldSelector); run dkim rotate --domain \(domain) again once the record is served"
                ],
                waiting: true)
        }
        try replaceConfiguration(with: try editedConfiguration { editor in try editor.moveToFront(state.newSelector) })
        var next = state
        next.stage = .signing
        next.since = now
        next.retireAfter = now + keepOld
        try save(next)
        return Report(lines: [
            "stage 2 of 3: DNS publishes \(name)\(secure.map { $0 ? " (DNSSEC-secure)" : " (not DNSSEC-secure: peers that require-dnssec-keys will refuse it)" } ?? ""); "
                + "\(state.newSelector) is now the first of domains.\(domain).dkim-keys",
            "reload the gateway: it signs with \(state.newSelector) from then on",
            "keep publishing \(state.oldSelector)._domainkey.\(domain) until \(Self.date(now + keepOld)); then run dkim rotate --domain \(domain) again to retire it"
        ])
    }

    /// Stage 3: after the old key's time, its entry goes and its files move to `retired/`.
    private func retire(_ state: State, now: Int64) throws -> Report {
        guard keys.first?.selector == state.newSelector else {
            throw CLIError("domains.\(domain).dkim-keys no longer starts with \(state.newSelector) (edited by hand?); fix it or remove \(stateFile)")
        }
        let due = state.retireAfter ?? now
        guard now >= due else {
            return Report(
                lines: ["waiting (stage 3 of 3): \(state.oldSelector) stays published until \(Self.date(due)) (\(Self.span(due - now)) left)"],
                waiting: true)
        }
        let oldFile = keys.first { $0.selector == state.oldSelector }?.file
        try replaceConfiguration(with: try editedConfiguration { editor in try editor.remove(state.oldSelector) })
        var moved: [String] = []
        if let oldFile {
            let retired = ((oldFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("retired")
            try FileManager.default.createDirectory(atPath: retired, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let publicFile = oldFile.hasSuffix(".private.pem") ? String(oldFile.dropLast(12)) + ".public.pem" : nil
            for file in [oldFile] + (publicFile.map { [$0] } ?? []) where FileManager.default.fileExists(atPath: file) {
                let target = "\(retired)/\((file as NSString).lastPathComponent)"
                try FileManager.default.moveItem(atPath: file, toPath: target)
                moved.append(target)
            }
        }
        try FileManager.default.removeItem(atPath: stateFile)
        return Report(lines: [
            "stage 3 of 3: retired \(state.oldSelector): removed from domains.\(domain).dkim-keys"
                + (moved.isEmpty ? "" : "; moved to \(moved.joined(separator: ", "))"),
            "reload the gateway, then remove the TXT record \(state.oldSelector)._domainkey.\(domain) (or publish it with an empty p= to revoke it)",
            "done: \(domain) signs with \(state.newSelector)"
        ])
    }

    /// The configuration's text after `edit`; nothing is written yet.
    private func editedConfiguration(_ edit: (inout KeyListEditor) throws -> Void) throws -> String {
        let path = configuration.source
        var editor = KeyListEditor(text: try CLIFiles.text(path, what: "configuration"), domain: domain)
        do { try edit(&editor) } catch let error as KeyListEditor.EditError { throw CLIError("\(path): \(error)") }
        return editor.text
    }

    /// Checks that `text` loads, then replaces the configuration file with it (same directory,
    /// owner and mode; written and synced before the rename).
    private func replaceConfiguration(with text: String) throws {
        let path = configuration.source
        let (mode, owner) = Self.ownership(of: path, modeMask: 0o777)
        let temporary = "\(path).rotate-\(getpid())"
        try CLIFiles.writeNew(temporary, Array(text.utf8), mode: mode, owner: owner)
        do {
            _ = try ConfigurationLoader.load(file: temporary, requireSecrets: false)
        } catch {
            unlink(temporary)
            throw CLIError("the edited configuration would not load, \(path) left unchanged: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CLIError("\(path): cannot replace it: \(reason)")
        }
    }

    private func save(_ state: State) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = "\(stateFile).new"
        unlink(temporary)
        try CLIFiles.writeNew(temporary, Array(try encoder.encode(state)), mode: 0o600)
        guard rename(temporary, stateFile) == 0 else { throw CLIError("\(stateFile): \(String(cString: strerror(errno)))") }
    }

    /// `file` as the configuration should name it: relative to the configuration's directory when inside it.
    private func relativeToConfiguration(_ file: String) -> String {
        let directory = URL(fileURLWithPath: configuration.source).deletingLastPathComponent().standardizedFileURL.path
        return file.hasPrefix(directory + "/") ? String(file.dropFirst(directory.count + 1)) : file
    }

    /// The mode (within `modeMask`) and owner of `path`, for a file that must be readable as it is.
    private static func ownership(of path: String, modeMask: mode_t) -> (mode: mode_t, owner: FileOwner?) {
        var status = stat()
        guard stat(path, &status) == 0 else { return (0o600, nil) }
        return (status.st_mode & modeMask, FileOwner(user: status.st_uid, group: status.st_gid))
    }

    /// `seconds` the way a person reads a wait: 40 s, 12 min, 30 h.
    private static func span(_ seconds: Int64) -> String { DurationText.describe(seconds: seconds, roundingUp: true) }

    private static func date(_ seconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
