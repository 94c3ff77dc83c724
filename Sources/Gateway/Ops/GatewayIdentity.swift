internal import Foundation

/// How the gateway names itself: the CLI's `--version`, the User-Agent of every request it sends,
/// the host named in the bounces it writes.
package enum GatewayIdentity {
    package static let version = "0.1.0"
    package static let userAgent = "ischedule-gateway/\(version)"
    /// This machine's name (bounces' Reporting-MTA); `localhost` when it has none fit for a header.
    static let hostName: String = {
        let name = ProcessInfo.processInfo.hostName
        return !name.isEmpty && name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
            ? name : "localhost"
    }()
}
