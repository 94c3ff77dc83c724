internal import Synchronization

/// Remembers each accepted signed request by (signing domain, iSchedule-Message-ID) until its
/// signature expires (protocol reference §7.5 step 6).
///
/// An identical replay (same `b=`) is refused. A sender's retry re-signs the same message id with a
/// fresh `t=`/`x=` (new `b=`): when the first attempt completed, its answer is replayed instead of
/// delivering twice; when it did not, the retry is processed.
final class ReplayCache: Sendable {
enum Admission: Sendable, Equatable {
        case fresh
        case replay
        case duplicate(GatewayResponse)
        case full
    }

    private struct Entry {
        var signature: String
        var expires: Int64
        var answer: GatewayResponse?
    }

    /// One remembered request, as a `ReplayLedger` keeps it across restarts.
struct Record: Sendable, Equatable {
var domain: String
var messageID: String
var signature: String
var expires: Int64
var answer: GatewayResponse?

init(domain: String, messageID: String, signature: String, expires: Int64, answer: GatewayResponse? = nil) {
            self.domain = domain.lowercased()
            self.messageID = messageID
            self.signature = signature
            self.expires = expires
            self.answer = answer
        }
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

init(capacity: Int) {
        self.capacity = capacity
    }

var count: Int { entries.withLock { $0.count } }

    /// Registers a verified request; `expires` is its `x=` (or `t=` plus the allowed window).
func admit(domain: String, messageID: String, signature: String, expires: Int64, now: Int64) -> Admission {
        let key = domain.lowercased() + "\u{0}" + messageID
        return entries.withLock { entries in
            if let existing = entries[key], existing.expires >= now {
                if existing.signature == signature { return .replay }
                if let answer = existing.answer { return .duplicate(answer) }
                entries[key]?.signature = signature
                entries[key]?.expires = max(existing.expires, expires)
                return .fresh
            }
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires >= now }
                if entries.count >= capacity { return .full }
            }
            entries[key] = Entry(signature: signature, expires: expires, answer: nil)
            return .fresh
        }
    }

    /// Keeps the answer of a completed request for the sender's retries of the same message.
func complete(domain: String, messageID: String, answer: GatewayResponse) {
        let key = domain.lowercased() + "\u{0}" + messageID
        entries.withLock { $0[key]?.answer = answer }
    }

    /// Loads what a ledger kept from before a restart (expired records are skipped).
func restore(_ records: [Record], now: Int64) {
        entries.withLock { entries in
            for record in records where record.expires >= now {
                entries[record.domain + "\u{0}" + record.messageID] = Entry(signature: record.signature, expires: record.expires,
                                                                             answer: record.answer)
            }
        }
    }

    /// Drops expired entries (also done lazily when the cache fills up).
func prune(now: Int64) {
        entries.withLock { entries in entries = entries.filter { $0.value.expires >= now } }
    }
}
