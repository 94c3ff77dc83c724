internal import CLibXML2

/// libxml2's streaming reader, wrapped: a well-formed document becomes an `XMLTreeElement` tree
/// (namespaces resolved, text and CDATA joined, comments dropped), or the first error libxml2
/// reported. No network access, no entity loading; nothing is printed (errors are collected).
enum XMLReader {
    static func tree(_ data: [UInt8], maximumDepth: Int) throws(XMLReadError) -> XMLTreeElement {
        libxml2Initialized.touch()
        let errors = ErrorSink()
        let result: Result<XMLTreeElement, XMLReadError> = data.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { bytes in
                let options = Int32(ISCHEDULE_XML_PARSE_NONET | ISCHEDULE_XML_PARSE_NOERROR | ISCHEDULE_XML_PARSE_NOWARNING)
                guard let reader = xmlReaderForMemory(bytes, Int32(buffer.count), nil, "UTF-8", options) else {
                    return .failure(XMLReadError("the XML reader could not start"))
                }
                defer { xmlFreeTextReader(reader) }
                let context = Unmanaged.passUnretained(errors).toOpaque()
                xmlTextReaderSetErrorHandler(
                    reader,
                    { argument, message, _, locator in
                        guard let argument else { return }
                        let sink = Unmanaged<ErrorSink>.fromOpaque(argument).takeUnretainedValue()
                        if sink.first == nil {
                            sink.first = (message.map { String(cString: $0) } ?? "").trimmingBlanks
                            sink.line = locator.map { Int(xmlTextReaderLocatorLineNumber($0)) } ?? 0
                        }
                    }, context)
                return read(reader, maximumDepth: maximumDepth, errors: errors)
            }
        }
        return try result.get()
    }

    private static func read(_ reader: xmlTextReaderPtr, maximumDepth: Int, errors: ErrorSink) -> Result<XMLTreeElement, XMLReadError> {
        var stack: [XMLTreeElement] = []
        var root: XMLTreeElement?
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            guard status == 1 else {
                return .failure(XMLReadError("not well-formed XML near line \(errors.line)" + (errors.first.map { ": \($0)" } ?? "")))
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(ISCHEDULE_XML_READER_ELEMENT):
                guard stack.count < maximumDepth else { return .failure(XMLReadError("elements nested more than \(maximumDepth) deep")) }
                let element = XMLTreeElement(
                    namespace: string(xmlTextReaderConstNamespaceUri(reader)) ?? "",
                    name: string(xmlTextReaderConstLocalName(reader)) ?? "",
                    attributes: attributes(reader), children: [], text: "")
                xmlTextReaderMoveToElement(reader)
                if xmlTextReaderIsEmptyElement(reader) == 1 { close(element, stack: &stack, root: &root) } else { stack.append(element) }
            case Int32(ISCHEDULE_XML_READER_END_ELEMENT):
                guard let element = stack.popLast() else { continue }
                close(element, stack: &stack, root: &root)
            case Int32(ISCHEDULE_XML_READER_TEXT), Int32(ISCHEDULE_XML_READER_CDATA),
                Int32(ISCHEDULE_XML_READER_WHITESPACE), Int32(ISCHEDULE_XML_READER_SIGNIFICANT_WHITESPACE):
                if !stack.isEmpty { stack[stack.count - 1].text += string(xmlTextReaderConstValue(reader)) ?? "" }
            case Int32(ISCHEDULE_XML_READER_DOCUMENT_TYPE), Int32(ISCHEDULE_XML_READER_ENTITY_REFERENCE),
                Int32(ISCHEDULE_XML_READER_PROCESSING_INSTRUCTION):
                return .failure(XMLReadError("DTDs, entity references and processing instructions are not accepted"))
            default:
                continue
            }
        }
        guard let root else { return .failure(XMLReadError("not well-formed XML: no root element")) }
        return .success(root)
    }

    /// The element's attributes by qualified name, namespace declarations left out.
    private static func attributes(_ reader: xmlTextReaderPtr) -> [String: String] {
        var attributes: [String: String] = [:]
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            guard xmlTextReaderIsNamespaceDecl(reader) != 1, let name = string(xmlTextReaderConstName(reader)) else { continue }
            attributes[name] = string(xmlTextReaderConstValue(reader)) ?? ""
        }
        return attributes
    }

    private static func close(_ element: XMLTreeElement, stack: inout [XMLTreeElement], root: inout XMLTreeElement?) {
        if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// The first error the reader reported for one document.
    private final class ErrorSink {
        var first: String?
        var line = 0
    }

    /// `xmlInitParser` once, before the first document (libxml2's global state).
    private static let libxml2Initialized = Once { xmlInitParser() }

    private final class Once: Sendable {
        init(_ body: () -> Void) { body() }
        func touch() {}
    }
}
