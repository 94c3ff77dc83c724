#!/usr/bin/env python3
"""Test SMTP server for the transport tests (aiosmtpd from PyPI, installed by deploy/install-deps.sh).

Usage: smtp_server.py PORT MODE CERT KEY
MODE: starttls (STARTTLS offered, required before AUTH), smtps (TLS from the first byte), plain.
AUTH accepts user "gateway" with password "secret". Recipients @reject.test get 550, @later.test 451.
Prints "ready PORT", then "message {json}" for every accepted message.
"""
import asyncio
import base64
import email
import email.policy
import json
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@reject.test"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if address.endswith("@later.test"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # session.ssl is only set by STARTTLS; the transport knows about implicit TLS as well.
        tls = server.transport.get_extra_info("ssl_object") is not None
        record = {"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": tls,
                  "authenticated": bool(session.authenticated),
                  "data": envelope.original_content.decode("utf-8", "replace")}
        record["parsed"] = parse(envelope.original_content)
        print("message " + json.dumps(record), flush=True)
        return "250 2.0.0 accepted"


def parse(raw):
    """The message as Python's email package (an independent MIME parser) reads it."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [{"type": part.get_content_type(), "method": part.get_param("method"),
              "charset": part.get_content_charset(),
              "payload": base64.b64encode(part.get_payload(decode=True) or b"").decode()}
             for part in message.walk() if not part.is_multipart()]
    headers = {name: str(message.get(name, "")) for name in ("subject", "from", "to", "reply-to", "message-id", "date")}
    return {"top": message.get_content_type(), "parts": parts, "headers": headers,
            "defects": [type(defect).__name__ for defect in message.defects],
            "longest_line": max(len(line) for line in raw.split(b"\r\n"))}


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"gateway" and auth_data.password == b"secret"
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)


def main():
    port, mode, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    options = {"authenticator": authenticate, "auth_required": False}
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    elif mode == "smtps":
        options.update(ssl_context=context, auth_require_tls=False)
    else:
        options.update(auth_require_tls=False)
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
    controller.start()
    print("ready", port, flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
