import Testing

@testable import Gateway

/// The status report's memory of the last attempt per remote domain stays bounded and keeps the recent ones.
@Suite struct DeliveryActivityTests {
    @Test func boundedKeepingTheMostRecentlyAttempted() {
        let activity = DeliveryActivity(capacity: 100)
        for index in 0..<1_000 { activity.record(domain: "d\(index).test", outcome: "delivered", detail: "", at: Int64(index)) }
        let kept = activity.snapshot
        #expect(kept.count <= 100 && kept.count >= 75)
        #expect(kept["d999.test"]?.at == 999)
        // Everything kept is more recent than everything forgotten.
        let oldestKept = kept.values.map(\.at).min() ?? 0
        #expect(oldestKept == Int64(1_000 - kept.count))
        // A domain attempted again is recent again.
        activity.record(domain: "d0.test", outcome: "failed", detail: "503", at: 2_000)
        #expect(activity.snapshot["d0.test"]?.outcome == "failed")
    }
}
