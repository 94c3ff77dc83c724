/// Builds the exact bytes a DKIM signature covers: the canonical form of each header named in
/// `h=`, then the DKIM-Signature field itself with its `b=` value removed and no trailing CRLF.
public enum SigningInput {
    public static func headerText(headers: [HeaderField], signature: DKIMSignature,
                                  signatureFieldName: String = DKIMSignature.fieldName) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        let candidates = headers.filter { !$0.hasName(DKIMSignature.fieldName) }
        let strippedValue = signature.valueWithoutSignature
        switch signature.canonicalization.header {
        case .ischeduleRelaxed:
            for name in signature.signedHeaders {
                // Most headers arrive once: find that one without building a list.
                guard let first = candidates.firstIndex(where: { $0.hasName(name) }) else { continue }
                let rest = candidates[(first + 1)...]
                let values = rest.contains(where: { $0.hasName(name) })
                    ? [candidates[first].value] + rest.values(named: name) : [candidates[first].value]
                HeaderCanonicalizer.appendISchedulRelaxed(name: name, values: values, to: &out)
            }
            HeaderCanonicalizer.appendISchedulRelaxedSignature(value: strippedValue, to: &out)
        case .relaxed, .simple:
            // RFC 6376 §5.4.2: each listing of a name takes the next instance from the bottom.
            var used: [String: Int] = [:]
            for name in signature.signedHeaders {
                let key = name.lowercased()
                let instances = candidates.filter { $0.hasName(name) }
                let taken = used[key, default: 0]
                guard taken < instances.count else { continue }
                used[key] = taken + 1
                let field = instances[instances.count - 1 - taken]
                append(field.name, field.value, signature.canonicalization.header, terminated: true, to: &out)
            }
            append(signatureFieldName, strippedValue, signature.canonicalization.header, terminated: false, to: &out)
        case .simpleHTTP:
            for name in signature.signedHeaders {
                let values = candidates.values(named: name)
                if values.isEmpty { continue }
                let merged = values.map { ASCII.trimmingWhitespace($0) }.joined(separator: ", ")
                HeaderCanonicalizer.appendSimpleHTTP(name: name, value: merged, terminated: true, to: &out)
            }
            HeaderCanonicalizer.appendSimpleHTTP(name: DKIMSignature.fieldName, value: strippedValue,
                                                 terminated: false, to: &out)
        }
        return out
    }

    private static func append(_ name: String, _ value: String, _ algorithm: HeaderCanonicalization,
                               terminated: Bool, to out: inout [UInt8]) {
        if algorithm == .relaxed {
            HeaderCanonicalizer.appendRelaxed(name: name, value: value, terminated: terminated, to: &out)
        } else {
            HeaderCanonicalizer.appendSimple(name: name, value: value, terminated: terminated, to: &out)
        }
    }
}
