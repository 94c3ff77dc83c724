#!/usr/bin/env python3
"""Abuse load: is a partner's signed invitation still answered while strangers flood the receiver?

    python3 Benchmarks/abuse-load/run.py [GATEWAY_BINARY] [SECONDS]

Starts, on loopback ports chosen at run time, a recording calendar server (the upstream) and the
gateway (release build by default) with a partner key by private exchange. Measures the latency of
signed invitations while idle, then while 8 clients send worst-case unsigned bodies (1 MB,
40,000 distinct ATTENDEEs, from a peer nobody allowed) as fast as they can, and prints both, with
how many flood requests were answered and how. Bounded in time; ends only what it started.
Prints figures; asserts nothing.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATEWAY = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/ischedule-gateway")
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
CLIENTS = 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(arguments, log, cwd=None):
    return subprocess.Popen(arguments, stdout=open(log, "ab"), stderr=subprocess.STDOUT, cwd=cwd)


def wait_for(path, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return True
        time.sleep(0.05)
    return False


def exchange(port, raw, timeout=30):
    """Sends raw bytes, returns (status, seconds) once the whole answer arrived (Connection: close)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - started


def calendar(organizer, attendees, uid):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//abuse load//EN", "METHOD:REQUEST", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:20261124T100000Z", "DTSTART:20261201T100000Z", "DTEND:20261201T110000Z", "SUMMARY:Load",
             f"ORGANIZER:{organizer}"] + [f"ATTENDEE:{a}" for a in attendees] + ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def request(port, originator, recipients, body, extra=b""):
    head = (f"POST /.well-known/ischedule HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Originator: {originator}\r\nRecipient: {', '.join(recipients)}\r\n"
            "Content-Type: text/calendar; charset=utf-8; component=VEVENT; method=REQUEST\r\n").encode()
    return head + extra + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def main():
    work = tempfile.mkdtemp(prefix="abuse-load-")
    port, upstream_port = free_port(), free_port()
    processes = []
    try:
        upstream_log = os.path.join(work, "upstream.log")
        processes.append(start([sys.executable, os.path.join(ROOT, "Tests/Helpers/calendar_server.py"),
                                os.path.join(work, "received.jsonl"), str(upstream_port)], upstream_log))
        if not wait_for(upstream_log, "ready"):
            sys.exit("upstream did not start")
        keys = os.path.join(work, "keys")
        subprocess.run([GATEWAY, "dkim", "keygen", "--domain", "peer.example", "--selector", "s1", "--out", keys],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        key = os.path.join(keys, "peer.example.s1.private.pem")
        exchange_dir = os.path.join(work, "private-exchange", "peer.example")
        os.makedirs(exchange_dir)
        with open(os.path.join(exchange_dir, "s1"), "w") as record:
            subprocess.run([GATEWAY, "dkim", "txt", "--record-only", "--key", key, "--domain", "peer.example", "--selector", "s1"],
                           check=True, stdout=record)
        with open(os.path.join(work, "gateway.yaml"), "w") as config:
            config.write(f"""listeners:
  - url: http://127.0.0.1:{port}
data-directory: data
domains:
  example.com:
    dkim-keys:
      - selector: gw
        private-key: gw.pem
        create-if-missing: true
    upstream: http://127.0.0.1:{upstream_port}/ischedule
dkim:
  lookup-methods: [private-exchange]
  private-exchange-directory: private-exchange
limits:
  max-content-length: 2097152
log-level: warning
""")
        gateway_log = os.path.join(work, "gateway.log")
        processes.append(start([GATEWAY, "serve", "--config", os.path.join(work, "gateway.yaml")], gateway_log, cwd=work))
        if not wait_for(gateway_log, "listening on"):
            sys.exit("gateway did not start: " + open(gateway_log).read())

        def signed(index):
            body = calendar("mailto:ann@peer.example", ["mailto:bob@example.com"], f"load-{index}")
            raw = request(port, "mailto:ann@peer.example", ["mailto:bob@example.com"], body)
            path = os.path.join(work, f"invite-{index}.http")
            open(path, "wb").write(raw.replace(b"Connection: close\r\n", b"").split(b"Content-Length:")[0] + b"\r\n" + body)
            out = subprocess.run([GATEWAY, "dkim", "sign", "--request", path, "--key", key, "--domain", "peer.example",
                                  "--selector", "s1", "--query-methods", "private-exchange"], check=True, capture_output=True).stdout
            return out.replace(b"\r\n", b"\r\nConnection: close\r\n", 1)

        invitations = [signed(i) for i in range(40)]
        worst = request(port, "mailto:eve@stranger.example", ["mailto:bob@example.com"],
                        calendar("mailto:eve@stranger.example", [f"mailto:a{i}@x.example" for i in range(40_000)], "worst"),
                        b"iSchedule-Version: 1.0\r\n")

        def latencies(batch):
            results = []
            for raw in batch:
                status, seconds = exchange(port, raw)
                results.append((status, seconds))
                time.sleep(0.05)
            return results

        idle = latencies(invitations[:20])
        stop = threading.Event()
        flood = {"answered": 0, "statuses": {}}
        lock = threading.Lock()

        def client():
            while not stop.is_set():
                try:
                    status, _ = exchange(port, worst, timeout=30)
                except OSError:
                    status = 0
                with lock:
                    flood["answered"] += 1
                    flood["statuses"][status] = flood["statuses"].get(status, 0) + 1

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        loaded = latencies(invitations[20:])
        time.sleep(max(0, SECONDS - 1 - sum(s for _, s in loaded)))
        stop.set()
        for thread in threads:
            thread.join(timeout=35)

        def describe(results):
            seconds = sorted(s for _, s in results)
            ok = sum(1 for status, _ in results if status == 200)
            return (f"{ok}/{len(results)} answered 200; p50 {statistics.median(seconds) * 1000:7.1f} ms, "
                    f"max {max(seconds) * 1000:7.1f} ms")

        print(f"worst-case body: {len(worst) / 1e6:.2f} MB, 40,000 ATTENDEEs, unsigned, from a peer nobody allowed")
        print(f"signed invitation, idle:                  {describe(idle)}")
        print(f"signed invitation, {CLIENTS} clients flooding:   {describe(loaded)}")
        print(f"flood requests answered: {flood['answered']} in {SECONDS:.0f} s, by status {dict(sorted(flood['statuses'].items()))}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
