internal import CCurl
internal import DKIM
import Foundation
import Synchronization

/// One transfer: the easy handle and everything libcurl keeps a pointer to (header list, error
/// buffer, this object as callback context), alive until the transfer completes.
final class CurlTransfer: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?  // HTTP headers, or SMTP recipients
    private var resolveList: UnsafeMutablePointer<curl_slist>?  // the pinned addresses (CURLOPT_RESOLVE)
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The TLSA records every connection of this transfer is verified by (freed with the transfer).
    private var dane: UnsafeMutablePointer<ischedule_dane>?
    private var daneRequirement: DANERequirement?
    private let maximumBytes: Int
    private(set) var body: [UInt8] = []
    private(set) var headerLines: [String] = []
    private(set) var tooLarge = false
    private let addressPolicy: AddressPolicy
    private(set) var refusedAddress: String?
    /// Bytes sent to the server through the read callback (SMTP's message), and how many went.
    private var upload: [UInt8] = []
    private var uploaded = 0
    /// Set by task cancellation from any thread; the loop thread acts on it.
    let cancelRequested = Atomic<Bool>(false)

    /// How a transfer ended, reported once on the loop thread.
    enum Ending: Equatable {
        case finished(CURLcode)
        case cancelled
        case shutDown
    }

    /// Called exactly once with the ending, on the loop thread; the owning client turns it into its
    /// own result type and resumes its continuation.
    var onEnd: ((Ending) -> Void)?

    /// A handle with the settings every transfer shares: no signals, TLS verification, timeouts,
    /// error buffer, callbacks, no proxy from the environment, the host's addresses pinned (libcurl
    /// resolves nothing itself) and the address policy checked before every socket is opened and
    /// again before every request (a reused connection opens no socket).
    private init(
        maximumBytes: Int, addressPolicy: AddressPolicy, protocols: String, caFile: String?, pinnedAddresses: String?,
        connectTimeoutMilliseconds: Int, totalTimeoutMilliseconds: Int
    ) throws(HTTPClientError) {
        guard let handle = curl_easy_init() else { throw .transfer(code: -1, message: "curl_easy_init failed") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.maximumBytes = maximumBytes
        self.addressPolicy = addressPolicy
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, protocols)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { try set(CURLOPT_CAINFO, caFile) }
        try set(CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds)
        try set(CURLOPT_TIMEOUT_MS, totalTimeoutMilliseconds)
        try set(CURLOPT_PROXY, "")
        if let pinnedAddresses {
            resolveList = curl_slist_append(nil, pinnedAddresses)
            try set(CURLOPT_RESOLVE, pointer: UnsafeMutableRawPointer(resolveList))
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        for option in [
            CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_READDATA, CURLOPT_PRIVATE, CURLOPT_PREREQDATA,
            CURLOPT_OPENSOCKETDATA
        ] {
            try set(option, pointer: context)
        }
        try check(ischedule_curl_easy_setopt_write_function(handle, curlWrite))
        try check(ischedule_curl_easy_setopt_header_function(handle, curlHeader))
        try check(ischedule_curl_easy_setopt_read_function(handle, curlRead))
        try check(ischedule_curl_easy_setopt_prereq_function(handle, curlPrerequest))
        try check(ischedule_curl_easy_setopt_opensocket_function(handle, curlOpenSocket))
    }

    private func check(_ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw .transfer(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code))) }
    }

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(ischedule_curl_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(ischedule_curl_easy_setopt_string(handle, option, value))
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(HTTPClientError) {
        try check(ischedule_curl_easy_setopt_pointer(handle, option, pointer))
    }

    /// For the `curl_off_t` options (sizes).
    private func set(_ option: CURLoption, size: Int) throws(HTTPClientError) {
        try check(ischedule_curl_easy_setopt_off_t(handle, option, curl_off_t(size)))
    }

    /// An HTTP(S) request.
    convenience init(_ request: HTTPClientRequest, configuration: HTTPClientConfiguration, pinnedAddresses: String?) throws(HTTPClientError) {
        try self.init(
            maximumBytes: configuration.maximumResponseBytes, addressPolicy: request.addressPolicy,
            protocols: "http,https", caFile: configuration.caFile, pinnedAddresses: pinnedAddresses,
            connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
            totalTimeoutMilliseconds: request.timeoutMilliseconds ?? configuration.totalTimeoutMilliseconds)
        guard request.url.hasPrefix("https://") || request.url.hasPrefix("http://") else {
            throw .invalidRequest("URL must be http:// or https://: \(request.url)")
        }
        guard request.method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }), !request.method.isEmpty else {
            throw .invalidRequest("method '\(request.method)'")
        }
        for header in request.headers {
            guard !header.name.contains(where: { $0 == ":" || $0 == "\r" || $0 == "\n" }),
                !header.value.contains(where: { $0 == "\r" || $0 == "\n" })
            else { throw .invalidRequest("header \(header.name) contains a line break or colon") }
        }
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        if request.collectsCertificates { try set(CURLOPT_CERTINFO, 1) }
        if let requirement = request.dane { try verify(by: requirement, url: request.url) }
        if let client = request.clientCertificate {
            try set(CURLOPT_SSLCERTTYPE, "PEM")
            try set(CURLOPT_SSLCERT, client.certificateFile)
            try set(CURLOPT_SSLKEY, client.privateKeyFile)
        }
        if request.method == "GET" {
            try set(CURLOPT_HTTPGET, 1)
        } else {
            try set(CURLOPT_POSTFIELDSIZE_LARGE, size: request.body.count)
            // COPYPOSTFIELDS copies the body now; an empty body still needs a non-null pointer.
            try check(
                request.body.withUnsafeBytes {
                    ischedule_curl_easy_setopt_pointer(
                        handle, CURLOPT_COPYPOSTFIELDS,
                        UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(errorBuffer)))
                })
            if request.method != "POST" { try set(CURLOPT_CUSTOMREQUEST, request.method) }
        }
        // No "Expect: 100-continue" round trip; the caller's headers go out as given. curl reads
        // "Name:" as "remove Name", so a header with an empty value is written "Name;".
        let lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        for line in lines + ["Expect:"] {
            headerList = curl_slist_append(headerList, line)
        }
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList))
    }

    /// Verifies the connection by `requirement`'s TLSA records (OpenSSL's DANE verifier, see the
    /// CCurl shim) instead of the WebPKI roots and libcurl's name check. The transfer gets a
    /// connection of its own, closed when it ends: libcurl would reuse a pooled connection
    /// whatever TLSA records the next transfer carries, and its TLS context points at this
    /// transfer's records. Only for the host and port the records are for.
    private func verify(by requirement: DANERequirement, url: String) throws(HTTPClientError) {
        let target = try CurlURL(url)
        guard target.scheme == "https", target.host == requirement.host.lowercased(), target.port == Int(requirement.port) else {
            throw .invalidRequest("\(requirement) cannot authenticate \(url)")
        }
        guard let dane = ischedule_dane_new(requirement.host) else { throw .invalidRequest("out of memory") }
        self.dane = dane
        daneRequirement = requirement
        for record in requirement.records {
            guard
                record.data.withUnsafeBufferPointer({
                    ischedule_dane_add(dane, record.usage, record.selector, record.matchingType, $0.baseAddress, $0.count)
                }) == 0
            else { throw .invalidRequest("too many TLSA records at \(requirement.name)") }
        }
        try set(CURLOPT_SSL_VERIFYHOST, 0)
        try set(CURLOPT_SSL_SESSIONID_CACHE, 0)
        try set(CURLOPT_FRESH_CONNECT, 1)
        try set(CURLOPT_FORBID_REUSE, 1)
        try check(ischedule_curl_easy_setopt_dane(handle, dane))
    }

    deinit {
        ischedule_dane_free(dane)
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        curl_slist_free_all(resolveList)
        errorBuffer.deallocate()
    }

    fileprivate func receive(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard body.count + bytes.count <= maximumBytes else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Called by libcurl before it opens a socket to `address`, and again before each request is
    /// sent on a connection: false refuses the address.
    fileprivate func admit(_ address: String) -> Bool {
        guard let reason = addressPolicy.refusal(address) else { return true }
        refusedAddress = reason
        return false
    }

    /// Copies the next part of `upload` for libcurl's read callback.
    fileprivate func send(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, upload.count - uploaded)
        guard count > 0 else { return 0 }
        upload.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[uploaded..<(uploaded + count)]))
        }
        uploaded += count
        return count
    }

    /// Header lines of HTTP responses, or the server's reply lines of an SMTP session.
    fileprivate func receiveHeader(_ line: String) {
        // A new status line (after a 100 Continue, say) starts a new header block.
        if line.hasPrefix("HTTP/") { headerLines.removeAll() }
        headerLines.append(line)
        if headerLines.count > 200 { headerLines.removeFirst(100) }
    }

    /// An SMTP submission: MAIL FROM, RCPT TO for each recipient, DATA from `submission.message`.
    convenience init(_ submission: MailSubmission, configuration: SMTPConfiguration, pinnedAddresses: String?) throws(HTTPClientError) {
        try self.init(
            maximumBytes: 64 * 1024, addressPolicy: .any, protocols: "smtp,smtps", caFile: configuration.caFile,
            pinnedAddresses: pinnedAddresses,
            connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
            totalTimeoutMilliseconds: configuration.totalTimeoutMilliseconds)
        upload = submission.message
        try set(CURLOPT_URL, configuration.url)
        if configuration.url.hasPrefix("smtp://") {
            try set(CURLOPT_USE_SSL, Int(configuration.startTLS == .required ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        }
        if let username = configuration.username { try set(CURLOPT_USERNAME, username) }
        if let password = configuration.password { try set(CURLOPT_PASSWORD, password) }
        try set(CURLOPT_MAIL_FROM, "<\(submission.sender)>")
        for recipient in submission.recipients { headerList = curl_slist_append(headerList, "<\(recipient)>") }
        try set(CURLOPT_MAIL_RCPT, pointer: UnsafeMutableRawPointer(headerList))
        try set(CURLOPT_UPLOAD, 1)
        try set(CURLOPT_INFILESIZE_LARGE, size: upload.count)
    }

    /// The SMTP outcome once the transfer ended; the server's last reply line is in `headerLines`.
    func smtpResult(_ ending: Ending) -> Result<Void, SMTPError> {
        let code: CURLcode
        switch ending {
        case .cancelled: return .failure(.cancelled)
        case .shutDown: return .failure(.shutDown)
        case .finished(let finished): code = finished
        }
        if code == CURLE_OK { return .success(()) }
        let reply = responseCode
        // The server's reply line for that code (later lines, such as QUIT's 221, say nothing).
        let line = headerLines.last { $0.hasPrefix("\(reply) ") || $0.hasPrefix("\(reply)-") }
        let text = line.map { String($0.dropFirst(4)) } ?? detail(code)
        switch code {
        case CURLE_LOGIN_DENIED: return .failure(.authenticationFailed(code: reply, text: text))
        case CURLE_USE_SSL_FAILED, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE:
            return .failure(.tls(detail(code)))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST: return .failure(.couldNotConnect(detail(code)))
        case CURLE_OPERATION_TIMEDOUT: return .failure(.timeout(detail(code)))
        default:
            if reply >= 400 { return .failure(.rejected(code: reply, text: text)) }
            return .failure(.transfer(code: Int(code.rawValue), message: detail(code)))
        }
    }

    /// The peer's chain from CURLINFO_CERTINFO ("Name:value" lines per certificate), if collected.
    private func certificateChain() -> [[String: String]] {
        var pointer: UnsafeMutableRawPointer?
        guard ischedule_curl_easy_getinfo_pointer(handle, CURLINFO_CERTINFO, &pointer) == CURLE_OK, let pointer else { return [] }
        let info = pointer.assumingMemoryBound(to: curl_certinfo.self).pointee
        guard info.num_of_certs > 0, let lists = info.certinfo else { return [] }
        return (0..<Int(info.num_of_certs)).map { index in
            var fields: [String: String] = [:]
            var node = lists[index]
            while let current = node {
                if let data = current.pointee.data {
                    let line = String(cString: data)
                    if let colon = line.firstIndex(of: ":") { fields[String(line[..<colon])] = String(line[line.index(after: colon)...]) }
                }
                node = current.pointee.next
            }
            return fields
        }
    }

    /// libcurl's error text for `code`: the error buffer's detail when it has one.
    func detail(_ code: CURLcode) -> String {
        errorBuffer.pointee == 0 ? String(cString: curl_easy_strerror(code)) : String(cString: errorBuffer)
    }

    /// The last response code (HTTP status, or SMTP reply code).
    var responseCode: Int {
        var code = 0
        _ = ischedule_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The HTTP outcome once the transfer ended.
    func httpResult(_ ending: Ending) -> Result<HTTPClientResponse, HTTPClientError> {
        let code: CURLcode
        switch ending {
        case .cancelled: return .failure(.cancelled)
        case .shutDown: return .failure(.shutDown)
        case .finished(let finished): code = finished
        }
        let detail = detail(code)
        switch code {
        case CURLE_OK: break
        case CURLE_ABORTED_BY_CALLBACK where refusedAddress != nil, CURLE_COULDNT_CONNECT where refusedAddress != nil:
            return .failure(.addressNotAllowed(refusedAddress!))
        case CURLE_WRITE_ERROR where tooLarge, CURLE_FILESIZE_EXCEEDED: return .failure(.responseTooLarge(limit: maximumBytes))
        case CURLE_COULDNT_CONNECT: return .failure(.couldNotConnect(detail))
        case CURLE_COULDNT_RESOLVE_HOST: return .failure(.couldNotResolve(detail))
        case CURLE_OPERATION_TIMEDOUT: return .failure(.timeout(detail))
        // Whatever code libcurl chose: a handshake our DANE check refused.
        case _ where dane.map { ischedule_dane_verdict($0) } == -1:
            return .failure(.daneMismatch("\(daneRequirement.map { "\($0.host):\($0.port) matches none of its \($0)" } ?? ""): \(detail)"))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .failure(.tls(detail))
        default: return .failure(.transfer(code: Int(code.rawValue), message: detail))
        }
        let status = responseCode
        var version = 0
        _ = ischedule_curl_easy_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        let headers = headerLines.dropFirst().compactMap { line -> HeaderField? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return HeaderField(name: String(line[..<colon]), value: String(ASCII.trimmingWhitespace(line[line.index(after: colon)...])))
        }
        return .success(
            HTTPClientResponse(
                status: status, headers: headers, body: body,
                httpVersion: version == Int(CURL_HTTP_VERSION_2_0) ? "2" : "1.1",
                certificates: certificateChain()))
    }

    static func from(_ handle: UnsafeMutableRawPointer) -> CurlTransfer? {
        var pointer: UnsafeMutableRawPointer?
        guard ischedule_curl_easy_getinfo_pointer(handle, CURLINFO_PRIVATE, &pointer) == CURLE_OK, let pointer else { return nil }
        return Unmanaged<CurlTransfer>.fromOpaque(pointer).takeUnretainedValue()
    }
}

private func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
    return transfer.receive(bytes) ? size * count : 0
}

private func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
    let line = ASCII.trimmingWhitespace(String(decoding: bytes, as: UTF8.self))
    if !line.isEmpty { transfer.receiveHeader(String(line)) }
    return size * count
}

private func curlPrerequest(
    _ context: UnsafeMutableRawPointer?, _ remote: UnsafeMutablePointer<CChar>?,
    _ local: UnsafeMutablePointer<CChar>?, _ remotePort: Int32, _ localPort: Int32
) -> Int32 {
    guard let context, let remote else { return Int32(CURL_PREREQFUNC_ABORT) }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.admit(String(cString: remote)) ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
}

/// libcurl's open-socket callback: the address policy decides before the socket exists, so a
/// refused address never sees a SYN.
private func curlOpenSocket(
    _ context: UnsafeMutableRawPointer?, _ purpose: curlsocktype,
    _ address: UnsafeMutablePointer<curl_sockaddr>?
) -> curl_socket_t {
    guard let context, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    guard let peer = ischedule_curl_sockaddr_address(address).flatMap(SocketAddressText.text), transfer.admit(peer) else {
        return CURL_SOCKET_BAD
    }
    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
}

private func curlRead(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.send(into: UnsafeMutableRawBufferPointer(start: data, count: size * count))
}
