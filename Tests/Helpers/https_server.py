#!/usr/bin/env python3
"""Test HTTPS server for the transport tests: TLS with a certificate the test generated.

Usage: https_server.py CERT KEY [DOCROOT]   (binds 127.0.0.1 on a free port, prints "ready PORT")
Routes: GET /ok, GET /big/N (N bytes), GET /redirect (301 to /ok), GET /slow/SECONDS,
POST /echo (echoes the body; X-Method, X-Seen-Test and X-Seen-Empty headers report what arrived),
GET /.well-known/domainkey/D/S (DOCROOT/D/S as text/plain; a selector named "json" is served as
application/json), GET /.well-known/ischedule?action=capabilities (DOCROOT/capabilities.xml as
text/xml with iSchedule-Capabilities: DOCROOT/serial and Cache-Control: max-age=DOCROOT/max-age),
GET /moved/... (301 to the same path without /moved).
"""
import http.server
import os
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        print("request", self.command, self.path, flush=True)
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/.well-known/domainkey/") and len(sys.argv) > 3:
            parts = self.path.split("/")[3:]
            path = os.path.join(sys.argv[3], *parts)
            if len(parts) == 2 and ".." not in parts and os.path.isfile(path):
                with open(path, "rb") as key:
                    kind = "application/json" if parts[1] == "json" else "text/plain; charset=utf-8"
                    self.reply(200, key.read(), [("Content-Type", kind)])
            else:
                self.reply(404, b"no such key")
        elif self.path.startswith("/.well-known/ischedule") and len(sys.argv) > 3:
            # A docroot with a file "draft01" answers as DAViCal: only ?query=capabilities, 404 to ?action=.
            draft01 = os.path.isfile(os.path.join(sys.argv[3], "draft01"))
            if self.path.endswith("?query=capabilities" if draft01 else "?action=capabilities"):
                root = sys.argv[3]
                def read(name, default=b""):
                    path = os.path.join(root, name)
                    return open(path, "rb").read().strip() if os.path.isfile(path) else default
                headers = [("Content-Type", "text/xml"), ("iSchedule-Capabilities", read("serial", b"1").decode())]
                if read("max-age"):
                    headers.append(("Cache-Control", "max-age=" + read("max-age").decode()))
                self.reply(200, read("capabilities.xml"), headers)
            elif draft01:
                self.reply(404, b"not found")
            else:
                self.reply(400, b"bad action")
        elif self.path.startswith("/moved/"):
            self.reply(301, b"", [("Location", self.path[len("/moved"):])])
        elif self.path == "/ok":
            self.reply(200, b"hello", [("Content-Type", "text/plain")])
        elif self.path.startswith("/big/"):
            self.reply(200, b"x" * int(self.path[5:]))
        elif self.path == "/redirect":
            self.reply(301, b"", [("Location", "/ok")])
        elif self.path.startswith("/slow/"):
            time.sleep(float(self.path[6:]))
            self.reply(200, b"late")
        else:
            self.reply(404, b"not found")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(200, body, [("X-Method", self.command), ("X-Seen-Test", self.headers.get("X-Test", "")),
                               ("X-Seen-Empty", "present" if "X-Empty" in self.headers else "absent")])


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512  # the default listen backlog of 5 drops bursts of connections
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
