import Foundation

extension IPAddressRange {
    /// Whether a URL's host is this machine: `localhost` or a loopback literal (`[::1]` too). The
    /// one check of the configuration (an upstream without trust), the CalDAV accounts (clear
    /// text only to loopback) and `init`.
    package static func isLoopbackURL(_ text: String) -> Bool {
        guard let host = URLComponents(string: text)?.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else { return false }
        return host.lowercased() == "localhost" || isLoopback(host)
    }
}
