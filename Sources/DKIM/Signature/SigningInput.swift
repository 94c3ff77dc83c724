/// Builds the exact bytes a DKIM signature covers: the canonical form of each header named in
/// `h=`, then the DKIM-Signature field itself with its `b=` value removed and no trailing CRLF.
package enum SigningInput {
    package static func headerText(
        headers: [HeaderField], signature: DKIMSignature,
        signatureFieldName: String = DKIMSignature.fieldName
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        // The signature being verified is never among the fields h= selects.
        let listsItself = signature.signedHeaders.contains { ASCII.equalsIgnoringCase($0, DKIMSignature.fieldName) }
        let signed =
            listsItself
            ? signature.signedHeaders.filter { !ASCII.equalsIgnoringCase($0, DKIMSignature.fieldName) } : signature.signedHeaders
        switch signature.canonicalization.header {
        case .ischeduleRelaxed:
            for name in signed {
                // Most headers arrive once: find that one without building a list.
                guard let first = headers.firstIndex(where: { $0.hasName(name) }) else { continue }
                let rest = headers[(first + 1)...]
                if rest.contains(where: { $0.hasName(name) }) {
                    HeaderCanonicalizer.appendISchedulRelaxed(name: name, values: [headers[first].value] + rest.values(named: name), to: &out)
                } else {
                    HeaderCanonicalizer.appendISchedulRelaxed(name: name, value: headers[first].value, to: &out)
                }
            }
            HeaderCanonicalizer.appendISchedulRelaxedSignature(
                value: signature.tags.source,
                removing: signature.tags.tag("b")?.valueRange, to: &out)
        case .relaxed, .simple:
            // RFC 6376 §5.4.2: each listing of a name takes the next instance from the bottom.
            let candidates = headers.filter { !$0.hasName(DKIMSignature.fieldName) }
            var used: [String: Int] = [:]
            for name in signed {
                let key = name.lowercased()
                let instances = candidates.filter { $0.hasName(name) }
                let taken = used[key, default: 0]
                guard taken < instances.count else { continue }
                used[key] = taken + 1
                let field = instances[instances.count - 1 - taken]
                append(field.name, field.value, signature.canonicalization.header, terminated: true, to: &out)
            }
            append(
                signatureFieldName, signature.valueWithoutSignature, signature.canonicalization.header,
                terminated: false, to: &out)
        case .simpleHTTP:
            for name in signed {
                let values = headers.values(named: name)
                if values.isEmpty { continue }
                let merged = values.map { ASCII.trimmingWhitespace($0) }.joined(separator: ", ")
                HeaderCanonicalizer.appendSimpleHTTP(name: name, value: merged, terminated: true, to: &out)
            }
            HeaderCanonicalizer.appendSimpleHTTP(
                name: DKIMSignature.fieldName, value: signature.valueWithoutSignature,
                terminated: false, to: &out)
        }
        return out
    }

    private static func append(
        _ name: String, _ value: String, _ algorithm: HeaderCanonicalization,
        terminated: Bool, to out: inout [UInt8]
    ) {
        if algorithm == .relaxed {
            HeaderCanonicalizer.appendRelaxed(name: name, value: value, terminated: terminated, to: &out)
        } else {
            HeaderCanonicalizer.appendSimple(name: name, value: value, terminated: terminated, to: &out)
        }
    }
}
