@testable import Gateway
import Testing

@Suite("Replay cache")
struct ReplayCacheTests {
    @Test("identical signature is a replay; a re-signed retry is admitted, or answered from the completed first")
    func admission() {
        let cache = ReplayCache(capacity: 10)
        #expect(cache.admit(domain: "A.test", messageID: "m1", signature: "b1", expires: 100, now: 10) == .fresh)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b1", expires: 100, now: 11) == .replay)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b2", expires: 110, now: 12) == .fresh)
        let answer = GatewayResponse.text(200, "done")
        cache.complete(domain: "a.test", messageID: "m1", answer: answer)
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b3", expires: 120, now: 13) == .duplicate(answer))
        #expect(cache.admit(domain: "b.test", messageID: "m1", signature: "b1", expires: 100, now: 13) == .fresh)
        // After x the message id may be used again.
        #expect(cache.admit(domain: "a.test", messageID: "m1", signature: "b1", expires: 300, now: 200) == .fresh)
    }

    @Test("a full cache drops expired entries first and refuses only when all are live")
    func capacity() {
        let cache = ReplayCache(capacity: 2)
        #expect(cache.admit(domain: "a", messageID: "1", signature: "s", expires: 50, now: 0) == .fresh)
        #expect(cache.admit(domain: "a", messageID: "2", signature: "s", expires: 500, now: 0) == .fresh)
        #expect(cache.admit(domain: "a", messageID: "3", signature: "s", expires: 500, now: 1) == .full)
        #expect(cache.admit(domain: "a", messageID: "3", signature: "s", expires: 500, now: 60) == .fresh)
        #expect(cache.count == 2)
    }
}
