/// Resolves a URL's host through the project's resolver and keeps the addresses the policy
/// allows; the result is pinned in libcurl (`CURLOPT_RESOLVE`), so the addresses checked here are
/// the only ones libcurl can dial: no second lookup, no rebinding window.
enum ConnectionPinning {
    /// The `CURLOPT_RESOLVE` entry for `url`, or nil for an address literal (checked as it is).
    static func pin(_ url: String, policy: AddressPolicy, resolver: any HostAddressResolver) async throws(HTTPClientError) -> String? {
        let target = try CurlURL(url)
        if target.isAddressLiteral {
            if let refusal = policy.refusal(target.host) { throw .addressNotAllowed(refusal) }
            return nil
        }
        let addresses: [String]
        do throws(DNSError) { addresses = try await resolver.addresses(of: target.host) } catch {
            throw .couldNotResolve(error.description)
        }
        let allowed = addresses.filter { policy.refusal($0) == nil }
        guard !allowed.isEmpty else {
            let reasons = addresses.compactMap { policy.refusal($0) }
            throw .addressNotAllowed("\(target.host) resolves only to refused addresses (\(reasons.joined(separator: "; ")))")
        }
        return target.resolveEntry(allowed)
    }
}
