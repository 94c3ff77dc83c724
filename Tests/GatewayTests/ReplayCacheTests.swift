import Testing

@testable import Gateway

@Suite("Replay cache")
struct ReplayCacheTests {
    @Test("identical signature is a replay; a re-signed retry is admitted, told to wait, or answered from the completed first")
    func admission() {
        let cache = ReplayCache(capacity: 10)
        #expect(cache.admit(domain: "A.test", messageID: "m1", signature: "b1", recipients: "r", expires: 100, now: 10) == .fresh)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b1", recipients: "r", expires: 100, now: 11) == .replay)
        // Re-signed while the first is still being forwarded: come back later (no second delivery).
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b2", recipients: "r", expires: 110, now: 12) == .inFlight)
        // The first did not complete (no final answer): the retry is processed.
        cache.complete(domain: "a.test", messageID: "m1", answer: nil)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b2", recipients: "r", expires: 110, now: 12) == .fresh)
        let answer = GatewayResponse.text(200, "done")
        cache.complete(domain: "a.test", messageID: "m1", answer: answer)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b3", recipients: "r", expires: 120, now: 13) == .duplicate(answer))
        // The same id for other recipients is not a retry.
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b4", recipients: "other", expires: 120, now: 13) == .conflict)
        #expect(cache.admit(domain: "b.test", messageID: "m1", signature: "b1", recipients: "r", expires: 100, now: 13) == .fresh)
        // A request that could not be recorded is forgotten: the sender may send it again.
        #expect(cache.admit(domain: "c.test", messageID: "m9", signature: "b1", recipients: "r", expires: 100, now: 13) == .fresh)
        cache.forget(domain: "c.test", messageID: "m9")
        #expect(cache.admit(domain: "c.test", messageID: "m9", signature: "b1", recipients: "r", expires: 100, now: 13) == .fresh)
        // After the signature's end the message id may be used again.
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b1", recipients: "r", expires: 300, now: 200) == .fresh)
    }

    @Test("a domain over its quota evicts only its own soonest-expiring entries; a full cache never refuses")
    func quotas() {
        let cache = ReplayCache(capacity: 100, perDomain: 20)
        for partner in 0..<5 {
            #expect(cache.admit(domain: "partner\(partner).test", messageID: "m", signature: "s", expires: 1_000, now: 0) == .fresh)
        }
        // A stranger floods with far-future entries: it can only push out its own.
        for index in 0..<1_000 {
            #expect(cache.admit(domain: "evil.test", messageID: "x\(index)", signature: "s", expires: 999_999_999, now: 1) == .fresh)
        }
        #expect(cache.count <= 100)
        for partner in 0..<5 {
            #expect(cache.admit(domain: "partner\(partner).test", messageID: "m", signature: "s", expires: 1_000, now: 2) == .replay)
            #expect(cache.admit(domain: "partner\(partner).test", messageID: "n", signature: "s", expires: 1_000, now: 2) == .fresh)
        }
        // Several domains at their quota fill the cache: the largest gives way, nobody is refused.
        for domain in 0..<10 {
            for index in 0..<20 { _ = cache.admit(domain: "d\(domain).test", messageID: "\(index)", signature: "s", expires: 5_000, now: 3) }
        }
        #expect(cache.count <= 100)
        #expect(cache.admit(domain: "late.test", messageID: "1", signature: "s", expires: 5_000, now: 4) == .fresh)
    }

    @Test("restored records obey the quotas too")
    func restore() {
        let cache = ReplayCache(capacity: 50, perDomain: 10)
        cache.restore(
            (0..<40).map { ReplayCache.Record(domain: "evil.test", messageID: "\($0)", signature: "s", expires: 9_999) }
                + [ReplayCache.Record(domain: "good.test", messageID: "g", signature: "s", expires: 9_999)], now: 0)
        #expect(cache.count <= 11)
        #expect(cache.admit(domain: "good.test", messageID: "g", signature: "s", expires: 9_999, now: 1) == .replay)
    }
}
