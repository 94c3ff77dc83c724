import ISchedule
import Testing

@testable import Gateway

/// `SenderBinding`: who may cause a signature through the mail filter.
@Suite("SenderBinding")
struct SenderBindingTests {
    let alice = CalendarUserAddress("mailto:alice@alpha.test")!

    @Test("the calendar's originator as envelope sender (any case) may; a trusted system sender may")
    func allowed() {
        #expect(SenderBinding.refusal(sender: "alice@alpha.test", originator: alice, trustedSenders: []) == nil)
        #expect(SenderBinding.refusal(sender: "Alice@ALPHA.test", originator: alice, trustedSenders: []) == nil)
        #expect(SenderBinding.refusal(sender: "noreply@alpha.test", originator: alice, trustedSenders: ["noreply@alpha.test"]) == nil)
    }

    @Test("anyone else, the null sender and unreadable senders may not, each with its reason")
    func refused() {
        #expect(SenderBinding.refusal(sender: "", originator: alice, trustedSenders: [""])?.contains("null sender") == true)
        #expect(
            SenderBinding.refusal(sender: "mallory@alpha.test", originator: alice, trustedSenders: ["noreply@alpha.test"])?
                .contains("neither the calendar's originator alice@alpha.test") == true)
        #expect(
            SenderBinding.refusal(sender: "alice@alpha.test(x)@evil.test", originator: alice, trustedSenders: [])?
                .contains("not a plain") == true)
        #expect(SenderBinding.refusal(sender: "alice@alpha.test.evil.test", originator: alice, trustedSenders: []) != nil)
    }

    @Test("infersRequests only for the senders named in infer-requests-from, case-insensitively; never for the null sender")
    func infersRequests() {
        #expect(SenderBinding.infersRequests(sender: "Radicale@Alpha.test", from: ["radicale@alpha.test"]))
        #expect(!SenderBinding.infersRequests(sender: "alice@alpha.test", from: ["radicale@alpha.test"]))
        #expect(!SenderBinding.infersRequests(sender: "", from: [""]))
        #expect(!SenderBinding.infersRequests(sender: "radicale@alpha.test", from: []))
    }
}
