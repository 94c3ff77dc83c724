import Testing
import Transport

@Suite("IP address ranges")
struct IPAddressRangeTests {
    @Test("addresses and CIDR blocks, IPv4-mapped peers, loopback")
    func matching() throws {
        let loopback = try #require(IPAddressRange("127.0.0.0/8"))
        #expect(loopback.contains("127.0.0.2") && loopback.contains("::ffff:127.0.0.1") && !loopback.contains("128.0.0.1"))
        #expect(loopback.isLoopback)
        let single = try #require(IPAddressRange("192.0.2.10"))
        #expect(single.contains("192.0.2.10") && !single.contains("192.0.2.11") && !single.isLoopback)
        let v6 = try #require(IPAddressRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5") && !v6.contains("2001:db9::1") && !v6.contains("192.0.2.10"))
        #expect(IPAddressRange("::1")?.isLoopback == true)
        for bad in ["10.0.0.256", "10.0.0.0/33", "host.example", "::1/129", ""] { #expect(IPAddressRange(bad) == nil, "\(bad)") }
        #expect(IPAddressRange.isLoopback("127.1.2.3") && !IPAddressRange.isLoopback("10.0.0.1"))
    }
}
