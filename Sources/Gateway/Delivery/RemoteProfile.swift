internal import DKIM

/// How requests to one remote domain are made, from its `remote-domains` entry.
struct RemoteProfile: Sendable, Equatable {
    /// The draft it speaks when configured; nil: learned from its capabilities.
    var dialect: IScheduleDialect?
    /// `authentication: tls`: our client certificate instead of a DKIM signature.
    var tlsOnly = false

    /// One receiver serving several domains serves them one way: draft-01 and TLS-only win when
    /// any of them is configured so.
    static func merged(_ profiles: [RemoteProfile]) -> RemoteProfile {
        let dialects = profiles.compactMap(\.dialect)
        return RemoteProfile(dialect: dialects.contains(.draft01) ? .draft01 : dialects.first, tlsOnly: profiles.contains(where: \.tlsOnly))
    }
}
