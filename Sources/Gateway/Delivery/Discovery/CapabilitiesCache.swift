package import DKIM
import Foundation
package import ISchedule
import Synchronization
package import Transport

/// Receivers' capabilities (protocol reference §3): fetched with `GET …?action=capabilities`,
/// following redirects (a 301/308 moves the receiver for good), cached per receiver for the
/// response's `max-age` (capped) or a default, and dropped when a later response advertises a
/// different `iSchedule-Capabilities` serial. A receiver that answers that with 400 or 404 is
/// asked the draft-01 way, `?query=capabilities` (DAViCal), and remembered as draft-01.
package final class CapabilitiesCache: Sendable {
    let client: HTTPClient
    private let clock: any UnixClock
    private let defaultTTL: Int64
    private let maximumTTL: Int64
    private let maximumRedirects: Int
    private let addressPolicy: AddressPolicy
    private let entries = Mutex<[String: Entry]>([:])

    package init(
        client: HTTPClient, clock: any UnixClock = SystemUnixClock(), defaultTTL: Int64 = 3_600,
        maximumTTL: Int64 = 86_400, maximumRedirects: Int = 3, addressPolicy: AddressPolicy = .publicOnly
    ) {
        self.client = client
        self.clock = clock
        self.defaultTTL = defaultTTL
        self.maximumTTL = maximumTTL
        self.maximumRedirects = maximumRedirects
        self.addressPolicy = addressPolicy
    }

    /// What is known about one receiver.
    package struct Entry: Sendable, Equatable {
        /// The receiver URL after permanent redirects; POSTs go here.
        package let receiver: String
        package let capabilities: Capabilities
        package let expires: Int64
        /// The draft it speaks, as its capabilities request showed (`?query=` only: draft-01).
        package var dialect: IScheduleDialect = .draft05
    }

    /// The capabilities of the receiver at `url`, from the cache while fresh.
    /// Under DANE the fetch is verified by `dane`; the POST that follows always is, whatever
    /// fetched the cached document.
    func capabilities(at url: String, dane: DANERequirement? = nil) async throws(CapabilitiesError) -> Entry {
        if let entry = entries.withLock({ $0[url] }), entry.expires > clock.now() { return entry }
        let entry = try await fetch(url, dane: dane)
        entries.withLock { $0[url] = entry }
        return entry
    }

    /// The first candidate that answers with capabilities, in order: connection, TLS and HTTP
    /// failures move on to the next (RFC 2782 failover). `movedTo` maps a candidate URL to where
    /// a permanent redirect of a POST moved it.
    package func firstReachable(_ candidates: [ReceiverDiscovery.Candidate], movedTo: (String) -> String? = { _ in nil })
        async throws(CapabilitiesError) -> (candidate: ReceiverDiscovery.Candidate, entry: Entry)
    {
        var failures: [CapabilitiesError] = []
        for candidate in candidates {
            switch await Result(awaiting: { () async throws(CapabilitiesError) -> Entry in
                try await capabilities(at: movedTo(candidate.url) ?? candidate.url, dane: candidate.dane)
            }) {
            case .success(let entry): return (candidate, entry)
            case .failure(let error): failures.append(error)
            }
        }
        throw .noneReachable(failures)
    }

    /// Notes the `iSchedule-Capabilities` header of a response from `url`; a serial different from
    /// the cached one drops the entry so the next use fetches again. Returns whether it did.
    @discardableResult
    func noteAdvertisedSerial(_ serial: String, for url: String) -> Bool {
        entries.withLock { entries in
            guard let cached = entries[url], cached.capabilities.serialNumber != serial.trimmingCharacters(in: .whitespaces) else {
                return false
            }
            entries[url] = nil
            return true
        }
    }

    private func fetch(_ url: String, dane: DANERequirement?) async throws(CapabilitiesError) -> Entry {
        let current = await Result { () async throws(CapabilitiesError) -> Entry in try await fetch(url, asking: "action", dane: dane) }
        guard case .failure(.status(_, let status)) = current, status == 400 || status == 404 else { return try current.get() }
        let legacy = await Result { () async throws(CapabilitiesError) -> Entry in try await fetch(url, asking: "query", dane: dane) }
        guard case .success(var entry) = legacy else { return try current.get() }
        entry.dialect = .draft01
        return entry
    }

    /// `GET url?<parameter>=capabilities`, redirects followed, the document read.
    private func fetch(_ url: String, asking parameter: String, dane: DANERequirement?) async throws(CapabilitiesError) -> Entry {
        let first = url + (url.contains("?") ? "&" : "?") + "\(parameter)=capabilities"
        let outcome = await Redirects.follow(from: first, limit: maximumRedirects) { location in
            await Result { () async throws(HTTPClientError) -> HTTPClientResponse in
                var request = HTTPClientRequest(url: location, addressPolicy: addressPolicy)
                request.dane = dane
                return try await client.send(request)
            }
        }
        let response: HTTPClientResponse
        let location: String
        let receiver: String
        switch outcome {
        case .failed(let error, let at): throw .http(at, error)
        case .tooMany: throw .tooManyRedirects(url)
        case .downgrade(let from, let to): throw .malformed(from, "redirected to \(to): refusing to leave TLS")
        case .answered(let answer, let at, let movedTo):
            (response, location) = (answer, at)
            receiver = movedTo.map { $0.split(separator: "?", maxSplits: 1).first.map(String.init) ?? $0 } ?? url
        }
        guard response.status == 200 else { throw .status(location, response.status) }
        if let type = response.values("Content-Type").first, MediaType(type)?.isXML != true {
            throw .malformed(location, "Content-Type '\(type)' is not XML")
        }
        let capabilities: Capabilities
        do { capabilities = try Capabilities(xml: response.body) } catch { throw .malformed(location, error.description) }
        return Entry(receiver: receiver, capabilities: capabilities, expires: clock.now() + ttl(response))
    }

    private func ttl(_ response: HTTPClientResponse) -> Int64 {
        for directive in response.values("Cache-Control").flatMap({ $0.split(separator: ",") }) {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if parts.count == 2, parts[0] == "max-age", let seconds = Int64(parts[1]) { return min(max(seconds, 0), maximumTTL) }
            if parts.first == "no-store" || parts.first == "no-cache" { return 0 }
        }
        return defaultTTL
    }
}

/// Why no capabilities could be had.
package enum CapabilitiesError: Error, Sendable, Equatable, CustomStringConvertible {
    case http(String, HTTPClientError)
    case status(String, Int)
    case malformed(String, String)
    case tooManyRedirects(String)
    case noneReachable([CapabilitiesError])

    /// Whether a receiver's certificate matched none of its validated TLSA records (any of the
    /// candidates tried): a security refusal, not an outage.
    package var refusedByDANE: Bool {
        switch self {
        case .http(_, .daneMismatch): true
        case .noneReachable(let failures): failures.contains { $0.refusedByDANE }
        default: false
        }
    }

    package var description: String {
        switch self {
        case .http(let url, let error): "\(url): \(error)"
        case .status(let url, let status): "\(url): HTTP \(status)"
        case .malformed(let url, let reason): "\(url): unusable capabilities (\(reason))"
        case .tooManyRedirects(let url): "\(url): too many redirects"
        case .noneReachable(let failures): "no receiver answered: \(failures.map(\.description).joined(separator: "; "))"
        }
    }
}
