import DKIM
import FuzzSupport

// Header canonicalization: the raw request parser feeds every algorithm's signing input.
FuzzDriver.run { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    _ = HeaderCanonicalizer.ischeduleRelaxed(name: "Recipient", values: [text, text])
    guard let request = try? HTTPRequestMessage(parsing: bytes) else { return }
    for canonicalization in HeaderCanonicalization.allCases {
        let value = "v=1; a=rsa-sha256; d=example.com; s=s; c=\(canonicalization.rawValue); "
            + "h=Originator:Recipient:Content-Type:Recipient; bh=x; b=y"
        if let signature = try? DKIMSignature(parsing: value) {
            _ = SigningInput.headerText(headers: request.headers, signature: signature)
        }
    }
    _ = BodyCanonicalizer.canonicalize(request.body, .relaxed)
}
