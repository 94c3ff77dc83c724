import Testing

@testable import Gateway

/// `DomainLabels`: the per-domain metrics' label values stay bounded.
@Suite("DomainLabels")
struct DomainLabelsTests {
    @Test("the first half of the capacity is labelled at once, the second half after `promotion` events, never more; every other domain is other")
    func bounded() {
        let labels = DomainLabels(capacity: 4, promotion: 3)
        #expect(labels.label(for: "first.test") == "first.test")
        #expect(labels.label(for: "second.test") == "second.test")
        // Half full: a third domain needs three deliveries.
        #expect(labels.label(for: "busy.test") == "other")
        #expect(labels.label(for: "busy.test") == "other")
        #expect(labels.label(for: "busy.test") == "busy.test")
        #expect(labels.label(for: "first.test") == "first.test")
        var seen: Set<String> = []
        for index in 0..<3_000 { seen.insert(labels.label(for: "d\(index).test")) }
        #expect(seen == ["other"], "a mass invitation takes no label: \(seen)")
        for _ in 0..<3 { _ = labels.label(for: "active.test") }
        #expect(labels.label(for: "active.test") == "active.test")
        // Full: a newly active domain stays other.
        for _ in 0..<10 { #expect(labels.label(for: "late.test") == "other") }
    }
}
