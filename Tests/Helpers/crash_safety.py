#!/usr/bin/env python3
"""Crash-safety run: 1,000 outbound messages through a gateway that is killed with SIGKILL at
random moments (at least 10 times) and restarted, towards a receiver that is slow, answers 503
now and then and is down for a second every few seconds; 20% of the messages go to a domain whose
receiver refuses them for good, so they end as iMIP e-mail. At the end every recipient that was
answered 1.0, 1.1 or 1.2 must have arrived at the receiver or the SMTP server. Prints the figures;
exits 1 if anything was lost.

With --instances N and --store postgresql://…, N gateways share one PostgreSQL store: the local
server's requests are spread over them (the next one when one is down), a random one is killed
each time, and with --retire-one one of them is killed for good mid-run while it holds leases:
the others must deliver its records once the lease runs out.

With --slow-share F, that share of the receiver's answers comes after --slow-seconds (longer than
the gateway's timeouts.remote-request): the receiver delivers them all the same, as a real one does
when its client has given up. --kills 0 runs without restarts. "arrived twice or more" counts the
recipients a receiver or the mailbox got more than once (Benchmarks/duplicates/run.sh).

Usage: crash_safety.py GATEWAY_BINARY WORK_DIRECTORY [MESSAGES] [--instances N] [--store URL]
                       [--kills K] [--retire-one] [--slow-share F] [--slow-seconds S]
Everything listens on 127.0.0.1 on ports the kernel chooses.
"""
import argparse
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

ARGUMENTS = argparse.ArgumentParser()
ARGUMENTS.add_argument("binary")
ARGUMENTS.add_argument("work")
ARGUMENTS.add_argument("messages", nargs="?", type=int, default=1000)
ARGUMENTS.add_argument("--instances", type=int, default=1)
ARGUMENTS.add_argument("--store", default="sqlite")
ARGUMENTS.add_argument("--kills", type=int, default=10)
ARGUMENTS.add_argument("--retire-one", action="store_true")
ARGUMENTS.add_argument("--slow-share", type=float, default=0.0)
ARGUMENTS.add_argument("--slow-seconds", type=float, default=3.0)
OPTIONS = ARGUMENTS.parse_args()
BINARY, WORK, MESSAGES = OPTIONS.binary, OPTIONS.work, OPTIONS.messages
LOCK = threading.Lock()
RECEIVED = {}      # recipient -> times the receiver accepted it
MAILED = {}        # recipient -> e-mails the SMTP server accepted
random.seed(20261124)


def free_port():
    """A port below the kernel's ephemeral range (32768-60999), so that no outgoing connection's
    source port takes it while a killed gateway restarts on it."""
    for _ in range(200):
        candidate = random.SystemRandom().randrange(10000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
                return candidate
            except OSError:
                continue
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
        time.sleep(OPTIONS.slow_seconds if random.random() < OPTIONS.slow_share else random.uniform(0, 0.15))
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

    class Server(http.server.ThreadingHTTPServer):
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            pass   # a client gone (a killed gateway, a timeout) is expected here, not news

    def start(self):
        self.server = ReceiverHost.Server(("127.0.0.1", self.port), Receiver)
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
    def __init__(self, config, port, name):
        self.config = config
        self.process = None
        self.port = port
        self.name = name
        self.kills = 0
        self.retired = False

    def start(self):
        log = open(os.path.join(WORK, "%s.log" % self.name), "ab")
        self.process = subprocess.Popen([BINARY, "serve", "--config", self.config], stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("gateway %s did not become ready" % self.name)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self):
        if self.retired:
            return "retired"
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def psql(sql):
    """Runs SQL against the shared store; its unaligned, tuples-only output."""
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", OPTIONS.store, "-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


CONFIGURATION = """listeners:
  - url: http://127.0.0.1:%d
data-directory: data
store: %s
domains:
  alpha.test:
    dkim-keys:
      - selector: gw
        private-key: keys/alpha.pem
        create-if-missing: true
outbound:
  allow-from: [127.0.0.1]
  allow-private-addresses: true
  tls-policy: may
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
  lease: %s
  concurrency: 16
  per-domain-concurrency: 8
  circuit-failures: 1000
timeouts:
  connect: 1s
  remote-request: 2s
  remote-transfer: %s
imip:
  smtp-url: smtp://127.0.0.1:%d
  from: gateway@alpha.test
  require-tls: false
log-level: warning
"""


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
    gateways = []
    for number in range(OPTIONS.instances):
        name = "gateway%d" % number if OPTIONS.instances > 1 else "gateway"
        directory = os.path.join(WORK, name)
        os.makedirs(directory, exist_ok=True)
        port = free_port()
        config = os.path.join(directory, "gateway.yaml")
        with open(config, "w") as f:
            f.write(CONFIGURATION % (port, OPTIONS.store, receiver.port, receiver.port,
                                     # A dead instance's claims come back when the lease runs out,
                                     # which must outlast any transfer.
                                     "5s" if OPTIONS.instances > 1 else "60s", "4s" if OPTIONS.instances > 1 else "30s", smtp_port))
        gateways.append(Gateway(config, port, name))
    for gateway in gateways:
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
            for attempt in range(200):
                try:
                    # Spread over the instances; when one is down, the next one.
                    status = submit(gateways[(index + attempt) % len(gateways)].port, index, recipient)
                    with LOCK:
                        answers[recipient] = status
                    break
                except Exception:
                    time.sleep(0.1)   # the gateway is down: the local server tries again

    retired = {}

    def retire(gateway):
        """Kills an instance for good while it holds leases; remembers which records it held."""
        pid = gateway.process.pid
        held = []
        for _ in range(200):
            held = psql("SELECT id FROM deliveries WHERE state = 'pending' AND lease_owner LIKE '%%/%d/%%'" % pid).split()
            if held:
                break
            time.sleep(0.05)
        gateway.kill()
        gateway.retired = True
        retired[gateway.name] = held

    def killer():
        while not done.is_set() or sum(g.kills for g in gateways) < OPTIONS.kills:
            time.sleep(random.uniform(0.3, 1.5))
            if OPTIONS.retire_one and not retired and len(pending) < MESSAGES // 2:
                retire(gateways[-1])
                continue
            gateway = random.choice([g for g in gateways if not g.retired])
            gateway.kill()
            time.sleep(random.uniform(0, 0.3))
            gateway.start()

    started = time.time()
    clients = [threading.Thread(target=client) for _ in range(8)]
    for t in clients:
        t.start()
    killing = threading.Thread(target=killer if OPTIONS.kills > 0 else (lambda: None))
    killing.start()
    for t in clients:
        t.join()
    done.set()
    killing.join()
    submitted = time.time() - started

    # Let the queue drain with the gateways running undisturbed.
    config = gateways[0].config
    drain_deadline = time.time() + 180
    while time.time() < drain_deadline:
        listing = subprocess.run([BINARY, "queue", "list", "--state", "pending", "--config", config],
                                 capture_output=True, text=True)
        if listing.returncode == 0 and len(listing.stdout.strip().splitlines()) <= 1:
            break
        time.sleep(0.5)
    states = subprocess.run([BINARY, "queue", "list", "--limit", "1", "--config", config], capture_output=True, text=True).stderr.strip()
    exit_codes = [gateway.stop() for gateway in gateways]
    receiver.stopped = True
    mailbox.stop()

    promised = {r: s for r, s in answers.items() if s in ("1.0", "1.1", "1.2")}
    arrived = set(RECEIVED) | set(MAILED)
    lost = sorted(r for r in promised if r not in arrived)
    twice = sum(1 for r in arrived if RECEIVED.get(r, 0) + MAILED.get(r, 0) > 1)
    by_status = {s: sum(1 for v in answers.values() if v == s) for s in sorted(set(answers.values()))}
    print("messages submitted: %d in %.1f s, answered: %d %s" % (MESSAGES, submitted, len(answers), by_status))
    kills = sum(g.kills for g in gateways)
    print("gateway killed with SIGKILL: %d times (%s); final SIGTERM exit codes %s"
          % (kills, ", ".join("%s %d" % (g.name, g.kills) for g in gateways), exit_codes))
    print("answered 1.0/1.1/1.2: %d; arrived at the receiver: %d; by e-mail: %d; arrived twice or more: %d"
          % (len(promised), len(RECEIVED), len(MAILED), twice))
    print("queue after draining: %s" % states)
    unfinished = []
    for name, held in retired.items():
        unfinished = psql("SELECT id FROM deliveries WHERE id IN (%s) AND state = 'pending'" % ",".join(held)).split() if held else []
        print("retired for good: %s, holding %d leased records; left pending at the end: %d" % (name, len(held), len(unfinished)))
    print("lost: %d%s" % (len(lost), (" " + ", ".join(lost[:10])) if lost else ""))
    clean = all(code in (0, "retired") for code in exit_codes)
    retired_ok = not OPTIONS.retire_one or (bool(retired) and all(retired.values()) and not unfinished)
    return 0 if not lost and kills >= OPTIONS.kills and len(answers) == MESSAGES and clean and retired_ok else 1


if __name__ == "__main__":
    sys.exit(main())
