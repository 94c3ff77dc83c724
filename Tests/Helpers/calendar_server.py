#!/usr/bin/env python3
"""A minimal CalDAV-side iSchedule endpoint for the service tests: a local upstream behind a
gateway, or a plain (unsigned, non-verifying) remote receiver.

Usage: calendar_server.py RECORD_FILE [PORT [CERT KEY]]   (binds 127.0.0.1, a free port when PORT is 0
or absent; prints "ready PORT"; with CERT and KEY, PEM files, it speaks https)

Every POST is appended to RECORD_FILE as one JSON line {"path", "headers": [[name, value]...],
"body"} and answered with a schedule-response: one response per Recipient (comma lists and
repeated headers split), 2.0 with a free-busy calendar-data for a VFREEBUSY REQUEST, 1.2 for
anything else, 3.7 for a local part starting with "unknown". A recipient whose local part starts
with "slow" delays the answer by 3 s; one in a domain starting with "refusing" makes the whole
request answered HTTP 403 (verification-failed), as a receiver that will not take us. Paths change
the behaviour:
  /status/N            answer HTTP N with an iSchedule error document
  /partial             leave out every recipient whose local part starts with "missing"
  /pNNN/X              a POST is redirected with status NNN (301, 302, 307, 308) to /X
  /flaky/N/X           the first N POSTs to this path answer 503, later ones are served normally
  /hang/X              wait 10 s, then answer 503 (a receiver that stalls)
GET ...?action=capabilities (any path) answers a draft-05 capabilities document (max-recipients 2).
REPORT (a CalDAV free-busy-query, any path) is recorded like a POST (with "method" and the most
REPORTs it saw at once, "concurrent") and answered 200 with a VFREEBUSY holding one busy hour,
after 0.5 s on paths starting /slow.
"""
import http.server
import json
import sys
import threading
import time
from xml.sax.saxutils import escape

LOCK = threading.Lock()
FAILURES = {}
REPORTS = {"running": 0, "most": 0}
CAPABILITIES = b"""<?xml version="1.0" encoding="utf-8"?>
<query-result xmlns="urn:ietf:params:xml:ns:ischedule"><capabilities><serial-number>7</serial-number>
<versions><version>1.0</version></versions><scheduling-messages>
<component name="VEVENT"><method name="REQUEST"/><method name="REPLY"/><method name="CANCEL"/></component>
<component name="VFREEBUSY"><method name="REQUEST"/></component></scheduling-messages>
<calendar-data-types><calendar-data-type content-type="text/calendar" version="2.0"/></calendar-data-types>
<max-content-length>1048576</max-content-length><max-recipients>2</max-recipients></capabilities></query-result>"""


def prop(body, name):
    """First value of an (unfolded) iCalendar property."""
    unfolded = body.replace("\r\n ", "").replace("\r\n\t", "")
    for line in unfolded.split("\r\n"):
        head, _, value = line.partition(":")
        if head.split(";")[0].upper() == name:
            return value
    return ""


def free_busy(body, recipient):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//calendar_server//EN", "METHOD:REPLY",
        "BEGIN:VFREEBUSY", "UID:" + prop(body, "UID"), "DTSTAMP:20261124T120000Z",
        "DTSTART:" + prop(body, "DTSTART"), "DTEND:" + prop(body, "DTEND"),
        "ORGANIZER:" + prop(body, "ORGANIZER"), "ATTENDEE:" + recipient,
        "FREEBUSY;FBTYPE=BUSY:" + prop(body, "DTSTART") + "/PT1H", "END:VFREEBUSY", "END:VCALENDAR", ""])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self):
        for code in (301, 302, 307, 308):
            prefix = "/p%d/" % code
            if self.path.startswith(prefix):
                self.reply(code, b"", [("Location", "/" + self.path[len(prefix):])])
                return True
        return False

    def do_GET(self):
        if "action=capabilities" in self.path:
            self.reply(200, CAPABILITIES, [("Content-Type", "application/xml"), ("iSchedule-Capabilities", "7")])
        else:
            self.reply(404, b"not found")

    def do_REPORT(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            REPORTS["running"] += 1
            REPORTS["most"] = max(REPORTS["most"], REPORTS["running"])
        if self.path.startswith("/slow"):
            time.sleep(0.5)
        with LOCK:
            with open(sys.argv[1], "a") as record:
                record.write(json.dumps({"path": self.path, "method": "REPORT", "headers": list(self.headers.items()), "body": "",
                                         "concurrent": REPORTS["most"]}) + "\n")
            REPORTS["running"] -= 1
        body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//calendar_server//EN", "BEGIN:VFREEBUSY",
                             "DTSTART:20261201T000000Z", "DTEND:20261202T000000Z",
                             "FREEBUSY;FBTYPE=BUSY:20261201T100000Z/20261201T110000Z", "END:VFREEBUSY", "END:VCALENDAR", ""])
        self.reply(200, body.encode(), [("Content-Type", "text/calendar; charset=utf-8")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
        with LOCK, open(sys.argv[1], "a") as record:
            record.write(json.dumps({"path": self.path, "headers": list(self.headers.items()), "body": body}) + "\n")
        if self.redirect():
            return
        if self.path.startswith("/hang/"):
            time.sleep(10)
            self.reply(503, b"stalled")
            return
        if self.path.startswith("/flaky/"):
            limit = int(self.path.split("/")[2])
            with LOCK:
                FAILURES[self.path] = FAILURES.get(self.path, 0) + 1
                failing = FAILURES[self.path] <= limit
            if failing:
                self.reply(503, b"not now")
                return
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            error = b'<error xmlns="urn:ietf:params:xml:ns:ischedule"><invalid-scheduling-message/></error>'
            self.reply(code, error, [("Content-Type", "application/xml")])
            return
        recipients = [r.strip() for value in self.headers.get_all("Recipient", []) for r in value.split(",") if r.strip()]
        local = lambda r: r.split(":", 1)[-1].lower()
        if any(r.rpartition("@")[2].lower().startswith("refusing") for r in recipients):
            error = b'<error xmlns="urn:ietf:params:xml:ns:ischedule"><verification-failed/></error>'
            self.reply(403, error, [("Content-Type", "application/xml")])
            return
        if any(local(r).startswith("slow") for r in recipients):
            time.sleep(3)
        parts = ['<?xml version="1.0" encoding="utf-8"?>',
                 '<schedule-response xmlns="urn:ietf:params:xml:ns:ischedule">']
        for recipient in recipients:
            if self.path.startswith("/partial") and local(recipient).startswith("missing"):
                continue
            parts.append("<response><recipient>%s</recipient>" % escape(recipient))
            if local(recipient).startswith("unknown"):
                parts.append("<request-status>3.7;Invalid Calendar User</request-status>")
            elif "BEGIN:VFREEBUSY" in body:
                parts.append("<request-status>2.0;Success</request-status>")
                parts.append("<calendar-data>%s</calendar-data>" % escape(free_busy(body, recipient)))
            else:
                parts.append("<request-status>1.2;Scheduling message has been delivered</request-status>")
            parts.append("</response>")
        parts.append("</schedule-response>")
        self.reply(200, "".join(parts).encode(), [("Content-Type", "application/xml; charset=utf-8")])


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
server.daemon_threads = True
if len(sys.argv) > 4:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", server.server_address[1], flush=True)
server.serve_forever()
