import Synchronization
import Testing

@testable import Gateway

/// `FairShare`: slots towards one server, fairly shared between asking partners.
@Suite("FairShare")
struct FairShareTests {
    @Test("one key holding its share leaves the rest for others; its own waiters start as slots come back, in order")
    func perKeyShare() async {
        let share = FairShare(total: 4, perKey: 2)
        #expect(await share.acquire("a.test", waitingAtMost: .seconds(1)))
        #expect(await share.acquire("a.test", waitingAtMost: .seconds(1)))
        // a.test's third waits (its share is 2), b.test's first starts at once.
        let third = Task { await share.acquire("a.test", waitingAtMost: .seconds(5)) }
        #expect(await share.acquire("b.test", waitingAtMost: .milliseconds(100)))
        share.release("a.test")
        #expect(await third.value)
        share.release("a.test")
        share.release("a.test")
        share.release("b.test")
    }

    @Test("no slot within the deadline: acquire gives up, and a slot released later is not lost")
    func deadline() async {
        let share = FairShare(total: 1, perKey: 1)
        #expect(await share.acquire("a.test", waitingAtMost: .seconds(1)))
        #expect(await share.acquire("b.test", waitingAtMost: .milliseconds(50)) == false)
        share.release("a.test")
        #expect(await share.acquire("b.test", waitingAtMost: .milliseconds(50)))
        share.release("b.test")
        #expect(await share.run("c.test", waitingAtMost: .milliseconds(50)) { 7 } == 7)
    }
}
