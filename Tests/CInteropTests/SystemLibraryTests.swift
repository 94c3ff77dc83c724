import CCurl
import CResolv
import Testing

/// The CCurl and CResolv shims resolve, link, and find the features the transport layer needs.
@Suite struct SystemLibraryTests {
    @Test func libcurlSupportsHTTPSAndSMTPWithOpenSSL() throws {
        let info = try #require(ischedule_curl_version_info())
        #expect(info.pointee.features & CURL_VERSION_SSL != 0)
        #expect(String(cString: info.pointee.ssl_version).hasPrefix("OpenSSL/3"))
        var protocols: Set<String> = []
        var cursor = info.pointee.protocols
        while let name = cursor?.pointee {
            protocols.insert(String(cString: name))
            cursor = cursor?.advanced(by: 1)
        }
        #expect(protocols.isSuperset(of: ["http", "https", "smtp", "smtps"]))
        #expect(ischedule_curl_global_init() == CURLE_OK)
        let handle = try #require(curl_easy_init())
        #expect(ischedule_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
        curl_easy_cleanup(handle)
    }

    @Test func resolverStateInitializesAndParsesAnAnswer() throws {
        let state = try #require(ischedule_res_state_new())
        defer { ischedule_res_state_free(state) }
        // A hand-built DNS response: header, one question (example.com TXT), no answers.
        var message: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        message += [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 16, 0, 1]
        var handle = ns_msg()
        #expect(ns_initparse(message, Int32(message.count), &handle) == 0)
        #expect(ischedule_ns_msg_count(handle, ns_s_qd) == 1)
        #expect(ischedule_ns_msg_count(handle, ns_s_an) == 0)
        #expect(ischedule_ns_msg_rcode(handle) == 0)
    }
}
