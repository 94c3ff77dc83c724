import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Logs to syslog(3) with the mail facility: `imip-intake` runs under the MTA, which keeps a
/// successful command's output to itself, so its decisions go where the MTA's own lines go
/// (`/var/log/mail.log` or the journal), tagged `ischedule-gateway/imip-intake[PID]`.
struct SyslogLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    init(identifier: String) {
        // openlog keeps the pointer: the identifier must live as long as the process.
        Self.opened = Self.opened ?? strdup(identifier)
        openlog(Self.opened, LOG_PID, LOG_MAIL)
    }

    nonisolated(unsafe) private static var opened: UnsafeMutablePointer<CChar>?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let priority: Int32 =
            switch event.level {
            case .trace, .debug: LOG_DEBUG
            case .info: LOG_INFO
            case .notice: LOG_NOTICE
            case .warning: LOG_WARNING
            case .error: LOG_ERR
            case .critical: LOG_CRIT
            }
        let text = event.message.description.map { $0 == "\n" || $0 == "\r" ? " " : $0 }
        String(text).withCString { line in withVaList([line]) { vsyslog(priority, "%s", $0) } }
    }
}
