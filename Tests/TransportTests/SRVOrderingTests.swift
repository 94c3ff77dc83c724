import TestSupport
import Testing

@testable import Transport

/// §13 check 3: priority first, weight-proportional within a priority, weight 0 rarely.
@Suite struct SRVOrderingTests {
    let a = SRVRecord(priority: 10, weight: 60, port: 1, target: "a")
    let b = SRVRecord(priority: 10, weight: 0, port: 2, target: "b")
    let c = SRVRecord(priority: 10, weight: 30, port: 3, target: "c")
    let d = SRVRecord(priority: 20, weight: 0, port: 4, target: "d")
    let e = SRVRecord(priority: 20, weight: 0, port: 5, target: "e")

    @Test func weightedSelectionMatchesRFC2782Proportions() {
        var generator = SeededGenerator(seed: 2782)
        let draws = 40_000
        var first: [String: Int] = [:]
        var lowFirst: [String: Int] = [:]
        for _ in 0..<draws {
            let order = SRVOrdering.order([d, a, e, b, c], using: &generator)
            #expect(order.count == 5)
            #expect(order.prefix(3).allSatisfy { $0.priority == 10 } && order.suffix(2).allSatisfy { $0.priority == 20 })
            first[order[0].target, default: 0] += 1
            lowFirst[order[3].target, default: 0] += 1
        }
        func share(_ count: Int?) -> Double { Double(count ?? 0) / Double(draws) }
        // Draw in 0...90: A wins 60/91, C 30/91, B (weight 0) only on a draw of 0: 1/91.
        #expect(abs(share(first["a"]) - 60.0 / 91) < 0.015)
        #expect(abs(share(first["c"]) - 30.0 / 91) < 0.015)
        #expect(abs(share(first["b"]) - 1.0 / 91) < 0.005)
        // Two weight-0 records alone in a priority: an even chance each.
        #expect(abs(share(lowFirst["d"]) - 0.5) < 0.02)
    }

    @Test func loneDotTargetMeansNoService() {
        #expect(SRVOrdering.saysNoService([SRVRecord(priority: 0, weight: 0, port: 0, target: "")]))
        #expect(!SRVOrdering.saysNoService([a]))
        #expect(!SRVOrdering.saysNoService([SRVRecord(priority: 0, weight: 0, port: 0, target: ""), a]))
    }
}
