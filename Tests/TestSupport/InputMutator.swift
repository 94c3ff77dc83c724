/// Deterministic generator of mutated inputs for robustness runs: seeds are valid documents,
/// each output applies a few random edits (bit flips, insertions of syntax tokens, deletions,
/// duplications, truncation). Same seed, same sequence, so a failure is reproducible.
public struct InputMutator {
    private var state: UInt64
    private let seeds: [[UInt8]]
    private let tokens: [[UInt8]]

    public init(seed: UInt64, corpus: [[UInt8]], tokens: [String]) {
        state = seed
        seeds = corpus
        self.tokens = tokens.map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0x0D], [0x0A], [0x20], [0x09]]
    }

    public mutating func next(_ bound: Int) -> Int {
        // SplitMix64.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return bound <= 1 ? 0 : Int(z % UInt64(bound))
    }

    /// The next input: either a mutated seed or, one time in eight, random token soup.
    public mutating func nextInput() -> [UInt8] {
        if next(8) == 0 {
            var soup: [UInt8] = []
            for _ in 0..<next(40) { soup += tokens[next(tokens.count)] }
            return soup
        }
        var input = seeds[next(seeds.count)]
        for _ in 0...next(4) { mutate(&input) }
        return input
    }

    private mutating func mutate(_ input: inout [UInt8]) {
        let position = input.isEmpty ? 0 : next(input.count + 1)
        switch next(6) {
        case 0 where !input.isEmpty:
            input[min(position, input.count - 1)] ^= UInt8(1 << next(8))
        case 1:
            input.insert(contentsOf: tokens[next(tokens.count)], at: position)
        case 2 where !input.isEmpty:
            let end = min(input.count, position + 1 + next(16))
            input.removeSubrange(min(position, input.count - 1)..<end)
        case 3 where !input.isEmpty:
            let start = min(position, input.count - 1)
            let end = min(input.count, start + 1 + next(32))
            input.insert(contentsOf: input[start..<end], at: next(input.count + 1))
        case 4:
            input = Array(input.prefix(position))
        default:
            input.insert(UInt8(truncatingIfNeeded: next(256)), at: position)
        }
    }
}
