#!/usr/bin/env python3
"""Crash-safety run: 1,000 outbound messages through a gateway that is killed with SIGKILL at
random moments (at least 10 times) and restarted, towards a receiver that is slow, answers 503
now and then and is down for a second every few seconds; 20% of the messages go to a domain whose
receiver refuses them for good, so they end as iMIP e-mail. At the end every recipient that was
answered 1.0, 1.1 or 1.2 must have arrived at the receiver or the SMTP server. Prints the figures;
exits 1 if anything was lost.

Usage: crash_safety.py GATEWAY_BINARY WORK_DIRECTORY [MESSAGES]
Everything listens on 127.0.0.1 on ports the kernel chooses.
"""
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from aiosmtpd.controller import Controller

BINARY, WORK = sys.argv[1], sys.argv[2]
MESSAGES = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
LOCK = threading.Lock()
RECEIVED = {}      # recipient -> times the receiver accepted it
MAILED = {}        # recipient -> e-mails the SMTP server accepted
random.seed(20261124)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, kind="application/xml"):
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200, b'<query-result xmlns="urn:ietf:params:xml:ns:ischedule"><capabilities><versions><version>1.0</version>'
                        b'</versions></capabilities></query-result>')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        recipients = [r.strip() for v in self.headers.get_all("Recipient", []) for r in v.split(",") if r.strip()]
        if self.path.startswith("/refuse"):
            self.reply(403, b'<error xmlns="urn:ietf:params:xml:ns:ischedule"><verification-failed/></error>')
            return
        time.sleep(random.uniform(0, 0.15))
        if random.random() < 0.15:
            self.reply(503, b"busy", "text/plain")
            return
        with LOCK:
            for r in recipients:
                RECEIVED[r] = RECEIVED.get(r, 0) + 1
        items = "".join("<response><recipient>%s</recipient><request-status>1.2;Delivered</request-status></response>" % r
                        for r in recipients)
        self.reply(200, ('<schedule-response xmlns="urn:ietf:params:xml:ns:ischedule">%s</schedule-response>' % items).encode())


class ReceiverHost:
    """The receiver, taken down for a second every few seconds (connection refused)."""

    def __init__(self):
        self.port = free_port()
        self.server = None
        self.stopped = False
        self.start()
        threading.Thread(target=self.flap, daemon=True).start()

    def start(self):
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Receiver)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def flap(self):
        while not self.stopped:
            time.sleep(random.uniform(3, 6))
            if self.stopped:
                return
            self.server.shutdown()
            self.server.server_close()
            time.sleep(1)
            self.start()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        with LOCK:
            for r in envelope.rcpt_tos:
                MAILED["mailto:" + r] = MAILED.get("mailto:" + r, 0) + 1
        return "250 2.0.0 accepted"


class Gateway:
    def __init__(self, config):
        self.config = config
        self.process = None
        self.port = None
        self.kills = 0

    def start(self):
        log = open(os.path.join(WORK, "gateway.log"), "ab")
        self.process = subprocess.Popen([BINARY, "serve", "--config", self.config], stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("gateway did not become ready")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def submit(port, index, recipient):
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crash safety//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
            "UID:crash-%d\r\nDTSTAMP:20261124T100000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\n"
            "SUMMARY:Crash test %d\r\nORGANIZER:mailto:alice@alpha.test\r\nATTENDEE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (index, index, recipient)).encode()
    request = urllib.request.Request("http://127.0.0.1:%d/outbound" % port, data=body, method="POST", headers={
        "Originator": "mailto:alice@alpha.test", "Recipient": recipient,
        "Content-Type": "text/calendar; charset=utf-8; component=VEVENT; method=REQUEST"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    start = text.index("<request-status>") + len("<request-status>")
    return text[start:start + 3]


def main():
    os.makedirs(WORK, exist_ok=True)
    receiver = ReceiverHost()
    smtp_port = free_port()
    mailbox = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    mailbox.start()
    gateway_port = free_port()
    config = os.path.join(WORK, "gateway.yaml")
    with open(config, "w") as f:
        f.write("""listeners:
  - url: http://127.0.0.1:%d
data-directory: data
domains:
  alpha.test:
    dkim-keys:
      - selector: gw
        private-key: keys/alpha.pem
        create-if-missing: true
outbound:
  allow-from: [127.0.0.1]
  allow-private-addresses: true
remote-domains:
  flaky.test:
    uri: http://127.0.0.1:%d/ischedule
  refusing.test:
    uri: http://127.0.0.1:%d/refuse
dns:
  servers: [127.0.0.1:9]
delivery:
  retry-initial: 1s
  retry-maximum: 2s
  max-attempts: 40
  poll-interval: 50ms
  lease: 60s
  concurrency: 16
  per-domain-concurrency: 8
  circuit-failures: 1000
timeouts:
  connect: 1s
  remote-request: 2s
imip:
  smtp-url: smtp://127.0.0.1:%d
  from: gateway@alpha.test
  require-tls: false
log-level: warning
""" % (gateway_port, receiver.port, receiver.port, smtp_port))
    gateway = Gateway(config)
    gateway.port = gateway_port
    gateway.start()

    answers = {}
    pending = list(range(MESSAGES))
    queue_lock = threading.Lock()
    done = threading.Event()

    def client():
        while True:
            with queue_lock:
                if not pending:
                    return
                index = pending.pop(0)
            recipient = "mailto:u%d@%s" % (index, "refusing.test" if index % 5 == 0 else "flaky.test")
            for _ in range(200):
                try:
                    status = submit(gateway_port, index, recipient)
                    with LOCK:
                        answers[recipient] = status
                    break
                except Exception:
                    time.sleep(0.1)   # the gateway is down: the local server tries again

    def killer():
        while not done.is_set() or gateway.kills < 10:
            time.sleep(random.uniform(0.3, 1.5))
            gateway.kill()
            time.sleep(random.uniform(0, 0.3))
            gateway.start()

    started = time.time()
    clients = [threading.Thread(target=client) for _ in range(8)]
    for t in clients:
        t.start()
    killing = threading.Thread(target=killer)
    killing.start()
    for t in clients:
        t.join()
    done.set()
    killing.join()
    submitted = time.time() - started

    # Let the queue drain with the gateway running undisturbed.
    database = os.path.join(WORK, "data", "queue.sqlite")
    drain_deadline = time.time() + 180
    while time.time() < drain_deadline:
        listing = subprocess.run([BINARY, "queue", "list", "--state", "pending", "--config", config],
                                 capture_output=True, text=True)
        if listing.returncode == 0 and len(listing.stdout.strip().splitlines()) <= 1:
            break
        time.sleep(0.5)
    states = subprocess.run([BINARY, "queue", "list", "--limit", "1", "--config", config], capture_output=True, text=True).stderr.strip()
    exit_code = gateway.stop()
    receiver.stopped = True
    mailbox.stop()

    promised = {r: s for r, s in answers.items() if s in ("1.0", "1.1", "1.2")}
    arrived = set(RECEIVED) | set(MAILED)
    lost = sorted(r for r in promised if r not in arrived)
    twice = sum(1 for r in arrived if RECEIVED.get(r, 0) + MAILED.get(r, 0) > 1)
    by_status = {s: sum(1 for v in answers.values() if v == s) for s in sorted(set(answers.values()))}
    print("messages submitted: %d in %.1f s, answered: %d %s" % (MESSAGES, submitted, len(answers), by_status))
    print("gateway killed with SIGKILL: %d times; final SIGTERM exit code %s" % (gateway.kills, exit_code))
    print("answered 1.0/1.1/1.2: %d; arrived at the receiver: %d; by e-mail: %d; arrived twice or more: %d"
          % (len(promised), len(RECEIVED), len(MAILED), twice))
    print("queue after draining: %s" % states)
    print("lost: %d%s" % (len(lost), (" " + ", ".join(lost[:10])) if lost else ""))
    return 0 if not lost and gateway.kills >= 10 and len(answers) == MESSAGES else 1


if __name__ == "__main__":
    sys.exit(main())
