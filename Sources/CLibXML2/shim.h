#ifndef ISCHEDULE_CLIBXML2_SHIM_H
#define ISCHEDULE_CLIBXML2_SHIM_H

/* libxml2's streaming reader (xmlTextReader): the iSchedule XML documents (capabilities,
   schedule-response, error) are read through it, once, into a small element tree.

   Declared here rather than by including <libxml/xmlreader.h>: Debian's libxml2 headers pull in
   ICU's <unicode/*.h>, whose enums clash with Foundation's own copy of ICU (_FoundationICU) in
   the same Swift module graph. These are libxml2's stable public prototypes (2.9 and later);
   the reader and the locator are opaque. */

typedef unsigned char xmlChar;
typedef struct _xmlTextReader *xmlTextReaderPtr;
typedef void *xmlTextReaderLocatorPtr;
/* xmlParserSeverities is an enum, passed as an int. */
typedef void (*xmlTextReaderErrorFunc)(void *arg, const char *msg, int severity, xmlTextReaderLocatorPtr locator);

void xmlInitParser(void);
xmlTextReaderPtr xmlReaderForMemory(const char *buffer, int size, const char *URL, const char *encoding, int options);
void xmlFreeTextReader(xmlTextReaderPtr reader);
int xmlTextReaderRead(xmlTextReaderPtr reader);
int xmlTextReaderNodeType(xmlTextReaderPtr reader);
const xmlChar *xmlTextReaderConstLocalName(xmlTextReaderPtr reader);
const xmlChar *xmlTextReaderConstName(xmlTextReaderPtr reader);
const xmlChar *xmlTextReaderConstNamespaceUri(xmlTextReaderPtr reader);
const xmlChar *xmlTextReaderConstValue(xmlTextReaderPtr reader);
int xmlTextReaderMoveToNextAttribute(xmlTextReaderPtr reader);
int xmlTextReaderMoveToElement(xmlTextReaderPtr reader);
int xmlTextReaderIsEmptyElement(xmlTextReaderPtr reader);
int xmlTextReaderIsNamespaceDecl(xmlTextReaderPtr reader);
void xmlTextReaderSetErrorHandler(xmlTextReaderPtr reader, xmlTextReaderErrorFunc f, void *arg);
int xmlTextReaderLocatorLineNumber(xmlTextReaderLocatorPtr locator);

/* xmlParserOption values used (parser.h). */
enum {
    ISCHEDULE_XML_PARSE_NOERROR = 1 << 5,
    ISCHEDULE_XML_PARSE_NOWARNING = 1 << 6,
    ISCHEDULE_XML_PARSE_NONET = 1 << 11,
};

/* xmlReaderTypes values used (xmlreader.h). */
enum {
    ISCHEDULE_XML_READER_ELEMENT = 1,
    ISCHEDULE_XML_READER_TEXT = 3,
    ISCHEDULE_XML_READER_CDATA = 4,
    ISCHEDULE_XML_READER_ENTITY_REFERENCE = 5,
    ISCHEDULE_XML_READER_PROCESSING_INSTRUCTION = 7,
    ISCHEDULE_XML_READER_DOCUMENT_TYPE = 10,
    ISCHEDULE_XML_READER_WHITESPACE = 13,
    ISCHEDULE_XML_READER_SIGNIFICANT_WHITESPACE = 14,
    ISCHEDULE_XML_READER_END_ELEMENT = 15,
};

#endif
