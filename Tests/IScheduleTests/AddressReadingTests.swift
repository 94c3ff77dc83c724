import TestSupport
import Testing

@testable import ISchedule

/// The byte-level reading of ASCII addresses (the hot path of every ATTENDEE) against the
/// Character-level reading it stands in for: the same verdict and the same normal form for every
/// input, from real spellings to generated near-misses.
@Suite struct AddressReadingTests {
    static let samples = [
        "mailto:bob@example.org", "MailTo:Bob@Example.ORG", "bob@example.org", "mailto:", "mailto:@x", "mailto:a@", "mailto:a@.x",
        "mailto:a@x.", "mailto:a@b@c", "mailto:a@x?y", "mailto:a@x;p", "https://cal.example.com/u/1", "urn:uuid:0b7e6d0a",
        "1abc:x@y", "a+b.c-d:rest", "mailto:a_b@sub_domain.test", "x", "", ":", "mailto:a b@x", "mailto:a,b@x", "<mailto:a@x>",
        "mailto:a@x-y.z", "MAILTO:A@X", "tel:+1-555-0100", "mailto:first.last+tag@example.co.uk"
    ]

    @Test func bytesAndCharactersAgreeOnEveryInput() {
        var generator = SeededGenerator(seed: 20_261_126)
        let alphabet = Array("aZ09:@.-_+;?,<> \tmailto/".unicodeScalars)
        var inputs = Self.samples
        for _ in 0..<20_000 {
            var text = Self.samples.randomElement(using: &generator) ?? ""
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                var scalars = Array(text.unicodeScalars)
                let position = Int.random(in: 0...scalars.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: scalars.insert(alphabet.randomElement(using: &generator)!, at: position)
                case 1: if position < scalars.count { scalars.remove(at: position) }
                default: if position < scalars.count { scalars[position] = alphabet.randomElement(using: &generator)! }
                }
                text = String(String.UnicodeScalarView(scalars))
            }
            inputs.append(text)
        }
        var accepted = 0
        for input in inputs {
            let bytes = CalendarUserAddress.ascii(input)
            let characters = CalendarUserAddress.characters(input)
            #expect(bytes?.scheme == characters?.scheme && bytes?.normalized == characters?.normalized, "\(input.debugDescription)")
            if bytes != nil { accepted += 1 }
        }
        #expect(accepted > 1_000, "the inputs must exercise acceptance too, not only refusals: \(accepted)")
    }

    @Test func nonASCIIAddressesAreReadByCharacters() {
        #expect(CalendarUserAddress.ascii("mailto:jörg@münchen.example") == nil)
        #expect(CalendarUserAddress("mailto:Jörg@München.example")?.normalized == "mailto:jörg@münchen.example")
    }

    @Test("one reading everywhere: what the gateway writes (canonical) reads back as the same address, combining marks included")
    func canonicalReadsBack() {
        for text in ["mailto:Jörg@München.example", "J.Doe+x@EXAMPLE.org", "URN:uuid:1f0b2a0e", "mailto:a@b.test"] {
            let address = CalendarUserAddress(text)
            #expect(address != nil && CalendarUserAddress(address!.canonical) == address, "\(text)")
        }
        // Found by fuzz-address: a local part that starts with a combining mark joins the ':' or '@'
        // before it into one character; such parts are not addresses at all.
        for text in ["\u{0487}~x@e.ls", "mailto:\u{0301}a@b.test", "a@\u{0301}b.test", "a@b.\u{0301}test", "urn:x \u{0301}y"] {
            #expect(CalendarUserAddress(text) == nil, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(Mailbox("\u{0487}~x@e.ls") == nil && Mailbox("é\u{0301}@e.ls") != nil)
    }

    @Test("Mailbox: plain local@domain only")
    func mailboxForms() {
        for good in ["a@b.test", "J.Doe+x@Example.ORG", "o'neil@x.test", "jörg@münchen.example", "a_b@c_d.test"] {
            #expect(Mailbox(good) != nil, "\(good)")
        }
        for bad in [
            "", "a", "@b.test", "a@", "a@b@c.test", "\"a b\"@c.test", "a.@b.test", ".a@b.test", "a..b@c.test", "a@b..test", "a@.b.test",
            "a@b.test.", "a(x)@b.test", "a@[127.0.0.1]", "@r.test:a@b.test", "a b@c.test", "a@b\u{202E}.test", "a\u{0}@b.test",
            // An MTA's percent hack and bang paths, a mailto: reader's header fields and fragment.
            "victim%evil.example@ours.test", "evil.example!victim@ours.test", "x?cc=ceo@partner.test", "x#frag@partner.test"
        ] {
            #expect(Mailbox(bad) == nil, "\(bad.debugDescription)")
        }
        #expect(Mailbox("J.Doe@Example.ORG")?.text == "J.Doe@example.org")
    }

    @Test("one fold for the domain: a Kelvin sign stays what it is for policy, routing and the headers written")
    func oneFoldForTheDomain() {
        let address = CalendarUserAddress("mailto:a@\u{212A}ey.test")
        #expect(address?.domain == address?.mailbox?.domain && address?.domain != "key.test", "\(String(describing: address?.domain))")
        #expect(CalendarUserAddress("mailto:A@KEY.Test")?.domain == "key.test")
    }
}
