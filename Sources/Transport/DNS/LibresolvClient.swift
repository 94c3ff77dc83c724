internal import CResolv

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking SRV/TXT queries through glibc's resolver (`res_nsend` with TCP fallback on
/// truncation, `ns_parserr`). The only Swift code that touches libresolv's pointers; callers run
/// it off the cooperative pool.
struct LibresolvClient: Sendable {
    let configuration: DNSResolverConfiguration

    enum RecordType: Int32 {
        case a = 1
        case txt = 16
        case aaaa = 28
        case srv = 33
        case tlsa = 52
    }

    /// An answer's records of the asked type, the whole message (names inside records may point
    /// into it), and the AD bit as the server set it.
    struct Response {
        let records: [RawRecord]
        let message: [UInt8]
        let authenticated: Bool
    }

    /// One answer record: its rdata, where that rdata starts in the message (names inside may
    /// point back into the message), and its TTL.
    struct RawRecord {
        let rdata: [UInt8]
        let offset: Int
        let ttl: UInt32
    }

    /// Every record of `type` at `name`, with the whole response message. Configured servers are
    /// asked in order until one answers with NOERROR or NXDOMAIN; a server failure (not under
    /// DNSSEC validation) or timeout moves on to the next, and the last such failure is reported.
    func query(_ name: String, _ type: RecordType) throws(DNSError) -> Response {
        guard !configuration.servers.isEmpty else { return try query(name, type, server: nil) }
        var failure = DNSError.timeout(name)
        for server in configuration.servers {
            do { return try query(name, type, server: server) } catch {
                guard error.isTemporary else { throw error }
                // A validator's SERVFAIL may be a bogus answer: asking the next server could turn it
                // into an insecure one. Only silence moves on.
                if configuration.validatesDNSSEC, error.isServerFailure { throw error }
                // An answered failure says more than a silent server.
                if error.isServerFailure { failure = error } else if case .timeout = failure { failure = error }
            }
        }
        throw failure
    }

    /// One query to one configured server, or to /etc/resolv.conf's servers when `server` is nil.
    private func query(_ name: String, _ type: RecordType, server: DNSResolverConfiguration.Server?) throws(DNSError) -> Response {
        guard let state = ischedule_res_state_new() else { throw .serverFailure(name, rcode: -1) }
        defer { ischedule_res_state_free(state) }
        if let server {
            ischedule_res_set_server_count(state, 0)
            guard ischedule_res_set_server(state, 0, server.host, server.port) == 0 else { throw .invalidName(server.description) }
        }
        ischedule_res_set_timing(state, Int32(configuration.timeoutSeconds), Int32(configuration.attempts))
        ischedule_res_return_failure_replies(state)
        var answer = [UInt8](repeating: 0, count: 65_535)
        let dnssec: Int32 = configuration.validatesDNSSEC ? 1 : 0
        let length = ischedule_res_query_raw(state, name, type.rawValue, &answer, Int32(answer.count), dnssec)
        if length == -2 { throw .invalidName(name) }
        guard length >= 0 else { throw .timeout(name) }
        let message = Array(answer.prefix(Int(length)))
        // ns_initparse keeps pointers into the buffer: every use of the handle stays in this scope.
        let parsed: Result<Response, DNSError> = message.withUnsafeBufferPointer { buffer in
            var handle = ns_msg()
            guard let base = buffer.baseAddress, ns_initparse(base, Int32(buffer.count), &handle) == 0 else {
                return .failure(.malformedResponse(name, reason: "header does not parse"))
            }
            switch ischedule_ns_msg_rcode(handle) {
            case 0: break
            case 3: return .failure(.nameDoesNotExist(name))
            case 2 where configuration.validatesDNSSEC:
                if let ede = Self.extendedError(handle), (6...12).contains(ede) { return .failure(.bogus(name, ede: ede)) }
                return .failure(.serverFailure(name, rcode: 2))
            case let rcode: return .failure(.serverFailure(name, rcode: Int(rcode)))
            }
            var records: [RawRecord] = []
            for index in 0..<ischedule_ns_msg_count(handle, ns_s_an) {
                var record = ns_rr()
                guard ns_parserr(&handle, ns_s_an, index, &record) == 0 else {
                    return .failure(.malformedResponse(name, reason: "answer \(index) does not parse"))
                }
                guard ischedule_ns_rr_type(record) == UInt32(type.rawValue), ischedule_ns_rr_class(record) == 1,
                    let rdata = ischedule_ns_rr_rdata(record)
                else { continue }
                let count = Int(ischedule_ns_rr_rdlen(record))
                records.append(
                    RawRecord(
                        rdata: Array(UnsafeBufferPointer(start: rdata, count: count)),
                        offset: rdata - base, ttl: UInt32(ischedule_ns_rr_ttl(record))))
            }
            let authenticated = configuration.validatesDNSSEC && ischedule_ns_msg_authenticated(handle) != 0
            return .success(Response(records: records, message: message, authenticated: authenticated))
        }
        return try parsed.get()
    }

    /// The first Extended DNS Error code (RFC 8914, EDNS option 15) in the answer's OPT record.
    private static func extendedError(_ message: ns_msg) -> Int? {
        var handle = message
        for index in 0..<ischedule_ns_msg_count(handle, ns_s_ar) {
            var record = ns_rr()
            guard ns_parserr(&handle, ns_s_ar, index, &record) == 0, ischedule_ns_rr_type(record) == 41,
                let rdata = ischedule_ns_rr_rdata(record)
            else { continue }
            let options = Array(UnsafeBufferPointer(start: rdata, count: Int(ischedule_ns_rr_rdlen(record))))
            var offset = 0
            while offset + 4 <= options.count {
                let code = Int(options[offset]) << 8 | Int(options[offset + 1])
                let length = Int(options[offset + 2]) << 8 | Int(options[offset + 3])
                guard offset + 4 + length <= options.count else { break }
                if code == 15, length >= 2 { return Int(options[offset + 4]) << 8 | Int(options[offset + 5]) }
                offset += 4 + length
            }
        }
        return nil
    }

    /// The SRV fields of one record; the target is expanded against the whole message.
    static func srv(_ record: RawRecord, in message: [UInt8], name: String) throws(DNSError) -> SRVRecord {
        let rdata = record.rdata
        guard rdata.count >= 7 else { throw .malformedResponse(name, reason: "SRV rdata of \(rdata.count) bytes") }
        let priority = UInt16(rdata[0]) << 8 | UInt16(rdata[1])
        let weight = UInt16(rdata[2]) << 8 | UInt16(rdata[3])
        let port = UInt16(rdata[4]) << 8 | UInt16(rdata[5])
        var target = [CChar](repeating: 0, count: 1_025)
        let expanded = message.withUnsafeBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress, record.offset + 6 < buffer.count else { return -1 }
            return ischedule_ns_expand_name(base, base + buffer.count, base + record.offset + 6, &target, Int32(target.count))
        }
        guard expanded > 0 else { throw .malformedResponse(name, reason: "SRV target does not expand") }
        let text = String(decoding: target.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SRVRecord(priority: priority, weight: weight, port: port, target: text == "." ? "" : text)
    }

    /// A TLSA record's fields (RFC 6698 §2.1).
    static func tlsa(_ record: RawRecord, name: String) throws(DNSError) -> TLSARecord {
        let rdata = record.rdata
        guard rdata.count >= 4 else { throw .malformedResponse(name, reason: "TLSA rdata of \(rdata.count) bytes") }
        return TLSARecord(usage: rdata[0], selector: rdata[1], matchingType: rdata[2], data: Array(rdata[3...]))
    }

    /// An A (4 bytes) or AAAA (16 bytes) record as an address literal.
    static func address(_ record: RawRecord, name: String) throws(DNSError) -> String {
        let rdata = record.rdata
        let family: Int32
        switch rdata.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: throw .malformedResponse(name, reason: "address record of \(rdata.count) bytes")
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard rdata.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }) != nil else {
            throw .malformedResponse(name, reason: "address record does not print")
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A TXT record's character-strings, concatenated.
    static func txt(_ record: RawRecord, name: String) throws(DNSError) -> String {
        let rdata = record.rdata
        var bytes: [UInt8] = []
        var index = 0
        while index < rdata.count {
            let length = Int(rdata[index])
            guard index + 1 + length <= rdata.count else { throw .malformedResponse(name, reason: "TXT string overruns its record") }
            bytes += rdata[(index + 1)..<(index + 1 + length)]
            index += 1 + length
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
