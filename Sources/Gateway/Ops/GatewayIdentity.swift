/// How the gateway names itself: the CLI's `--version`, the User-Agent of every request it sends.
public enum GatewayIdentity {
    public static let version = "0.1.0"
    public static let userAgent = "ischedule-gateway/\(version)"
}
