#!/usr/bin/env python3
"""The side-by-side benchmark suite: the gateway beside nginx and OpenSSL, in one run.

    python3 Benchmarks/suite/run.py [--seconds 8] [--rounds 3] [--requests 200000] [--binary PATH]

Installs nginx and wrk from Debian when missing (no system service is started), builds the release
binary (deploy/build-release.sh) and the request signer, then measures on loopback ports chosen at
run time, rounds interleaved (gateway, nginx, gateway, ...):
  inbound   DKIM-signed 2 KB invitations (RSA-2048, distinct Message-IDs) -> verify -> forward to a
            local upstream (nginx answering a fixed schedule-response), beside nginx proxy_pass of
            the same requests to the same upstream: req/s, p50/p99, CPU per request, RSS; then
            both paced at half of the gateway's peak: p99 beside nginx's
  outbound  the intake, one remote recipient per message -> sign -> deliver to a loopback
            receiver, beside `openssl speed -multi N rsa2048` sign/s
  fan-out   one message to 1,000 recipients in 100 remote domains whose receivers answer after
            50 ms: wall time / 50 ms
  memory    RSS idle and with 1,000 keep-alive connections open, beside nginx
  queue     durable enqueues/s beside raw SQLite (queue-benchmark)
Prints a table and writes BENCHMARKS.md with the machine description. Figures only: nothing is
asserted. Ends only the processes it started, by PID.
"""
import argparse
import asyncio
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEDULE_RESPONSE = ('<?xml version="1.0" encoding="utf-8"?><schedule-response xmlns="urn:ietf:params:xml:ns:ischedule">'
                     '<response><recipient>mailto:bob@beta.test</recipient><request-status>2.0;Success</request-status>'
                     '</response></schedule-response>')
CAPABILITIES = ('<?xml version="1.0" encoding="utf-8"?><query-result xmlns="urn:ietf:params:xml:ns:ischedule"><capabilities>'
                '<serial-number>1</serial-number><versions><version>1.0</version></versions><scheduling-messages>'
                '<component name="VEVENT"><method name="REQUEST"/><method name="REPLY"/><method name="CANCEL"/></component>'
                '</scheduling-messages><calendar-data><calendar-data-type content-type="text/calendar" version="2.0"/>'
                '</calendar-data><attachments><inline/></attachments><max-content-length>1048576</max-content-length>'
                '<max-recipients>100</max-recipients></capabilities></query-result>')
STARTED = []
ANALYSIS_HEADING = "## Where the time goes"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(arguments, **kwargs):
    return subprocess.run(arguments, check=True, capture_output=True, text=True, **kwargs).stdout


def start(arguments, log, cwd=None):
    process = subprocess.Popen(arguments, stdout=open(log, "ab"), stderr=subprocess.STDOUT, cwd=cwd)
    STARTED.append(process)
    return process


def wait_for_port(port, log=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    tail = open(log, errors="replace").read()[-2000:] if log and os.path.exists(log) else ""
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s\n{tail}")


def ensure_tools():
    missing = [name for name, binary in (("nginx", "/usr/sbin/nginx"), ("wrk", "/usr/bin/wrk")) if not os.path.exists(binary)]
    if not missing:
        return
    policy = "/usr/sbin/policy-rc.d"
    guard = not os.path.exists(policy)
    if guard:  # packaged daemons must not start a system-wide service
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
    finally:
        if guard:
            os.unlink(policy)


def build(binary):
    if not binary:
        binary = run(["bash", "deploy/build-release.sh"], cwd=ROOT).strip().splitlines()[-1]
    # The release binary's flags, so that the two tools share its build.
    flags = ["swift", "build", "-c", "release", "--static-swift-stdlib"]
    run(flags + ["--product", "signed-requests"], cwd=ROOT)
    run(flags + ["--product", "queue-benchmark"], cwd=ROOT)
    tools = run(flags + ["--show-bin-path"], cwd=ROOT).strip()
    return os.path.abspath(binary), tools


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "unknown CPU")
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr.strip()
    swift = run(["swift", "--version"]).splitlines()[0]
    return (f"{os.cpu_count()} x {model}, {memory / 1048576:.0f} GiB RAM, Linux {platform.release()}; {swift}; "
            f"{nginx}; {run(['openssl', 'version']).strip()}")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def rss_mb(pids, field="VmRSS"):
    """Resident memory in MB (`field` of /proc/PID/status: VmRSS, or RssAnon for the part that is
    not file-backed code and data)."""
    total = 0
    for pid in pids:
        try:
            total += next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith(field + ":"))
        except OSError:
            pass
    return total / 1024


def family(pid):
    """The process and its children (nginx's workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1] == str(pid):
                    children.append(int(entry))
            except OSError:
                pass
    return [pid] + children


class Nginx:
    """An nginx of our own: its own prefix, config and PID, ended by PID."""

    def __init__(self, work, name, servers, workers):
        self.prefix = os.path.join(work, name)
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        config = os.path.join(self.prefix, "nginx.conf")
        with open(config, "w") as f:
            f.write(f"worker_processes {workers};\npid {self.prefix}/nginx.pid;\nerror_log {self.prefix}/logs/error.log warn;\n"
                    "daemon off;\nevents { worker_connections 4096; }\nhttp {\n access_log off;\n"
                    f" client_body_temp_path {self.prefix}/body;\n proxy_temp_path {self.prefix}/proxy;\n"
                    f" fastcgi_temp_path {self.prefix}/fcgi;\n uwsgi_temp_path {self.prefix}/uwsgi;\n scgi_temp_path {self.prefix}/scgi;\n"
                    f"{servers}\n}}\n")
        self.process = start(["/usr/sbin/nginx", "-p", self.prefix, "-c", config], os.path.join(self.prefix, "out.log"))

    @property
    def pids(self):
        return family(self.process.pid)


def wrk(url, script, seconds, connections, environment):
    output = run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url], env=dict(os.environ, **environment))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    refused = int(re.search(r"Non-2xx or 3xx responses: (\d+)", output).group(1)) if "Non-2xx" in output else 0

    def percentile(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    following = re.search(r"^next-offset (\d+)", output, re.M)
    return {"rate": rate, "total": total, "refused": refused, "p50": percentile("50"), "p99": percentile("99"),
            "next_offset": int(following.group(1)) if following else None}


def measured(pids, body):
    before = cpu_seconds(pids)
    result = body()
    result["cpu_ms"] = (cpu_seconds(pids) - before) * 1000 / max(1, result["total"])
    result["rss"] = rss_mb(pids)
    return result


def best(results):
    return max(results, key=lambda r: r["rate"])


async def slow_receiver(hosts, port, delay, ready):
    """Answers capabilities at once and every POST after `delay` seconds (fan-out receivers), on
    `port` of every address in `hosts`."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1)) if b"ontent-" in head else 0
                body = await reader.readexactly(length) if length else b""
                if head.startswith(b"GET"):
                    payload = CAPABILITIES.encode()
                else:
                    await asyncio.sleep(delay)
                    recipients = re.findall(rb"(?im)^recipient:\s*(.+?)\r$", head)
                    addresses = [a.strip() for line in recipients for a in line.split(b",")]
                    payload = ('<?xml version="1.0" encoding="utf-8"?><schedule-response xmlns="urn:ietf:params:xml:ns:ischedule">'
                               + "".join(f"<response><recipient>{a.decode()}</recipient><request-status>2.0;Success</request-status></response>"
                                         for a in addresses) + "</schedule-response>").encode()
                del body
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, hosts, port, backlog=4096)
    ready.set()
    async with server:
        await server.serve_forever()


def hold_connections(port, count):
    """Opens `count` keep-alive connections, one request each; returns the sockets (kept open)."""
    held = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        held.append(s)
    for s in held:
        s.recv(4096)
    return held


def inbound_refusals(port):
    """The gateway's inbound outcomes other than ok, from /metrics (what wrk counts as non-2xx and why)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        text = b""
        while chunk := s.recv(65536):
            text += chunk
    found = re.findall(r'ischedule_requests_total\{direction="inbound",outcome="([^"]+)"\} (\d+)', text.decode(errors="replace"))
    return {outcome: int(count) for outcome, count in found if outcome != "ok"}


def gateway_config(work, upstream, remotes="", extra=""):
    return f"""listeners:
  - url: http://127.0.0.1:{{port}}
data-directory: {work}/data
domains:
  beta.test:
    dkim-keys:
      - selector: gw
        private-key: {work}/keys/beta.pem
        create-if-missing: true
    upstream: http://127.0.0.1:{upstream}/ischedule
outbound:
  allow-from: [127.0.0.1]
  allow-private-addresses: true
  tls-policy: may
remote-domains:
  alpha.test: {{}}
{remotes}
dkim:
  lookup-methods: [private-exchange]
  private-exchange-directory: {work}/exchange
log-level: warning
{extra}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200000, help="signed requests prepared for the inbound rounds")
    parser.add_argument("--binary", help="gateway binary (default: a fresh deploy/build-release.sh build)")
    options = parser.parse_args()
    ensure_tools()
    binary, tools = build(options.binary)
    work = tempfile.mkdtemp(prefix="benchmarks-")
    try:
        report(options, binary, tools, work)
    finally:
        for process in STARTED:
            process.terminate()
        for process in STARTED:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def report(options, binary, tools, work):
    upstream_port, proxy_port, gateway_port, outbound_port, fan_port = (free_port() for _ in range(5))
    far_response = SCHEDULE_RESPONSE.replace("bob@beta.test", "bob@far.test")
    upstream = Nginx(work, "upstream", f"""server {{ listen 127.0.0.1:{upstream_port} backlog=4096; keepalive_requests 1000000;
  location /far/ {{ default_type application/xml;
    if ($arg_action = capabilities) {{ return 200 '{CAPABILITIES}'; }}
    return 200 '{far_response}'; }}
  location / {{ default_type application/xml;
    if ($arg_action = capabilities) {{ return 200 '{CAPABILITIES}'; }}
    return 200 '{SCHEDULE_RESPONSE}'; }} }}""", 1)
    proxy = Nginx(work, "proxy", f"""upstream calendar {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
server {{ listen 127.0.0.1:{proxy_port} backlog=4096; keepalive_requests 1000000;
  location / {{ proxy_pass http://calendar; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""", "auto")
    wait_for_port(upstream_port)
    wait_for_port(proxy_port)

    # The partner's key (alpha.test), known to the gateway by private exchange.
    os.makedirs(f"{work}/keys")
    run([binary, "dkim", "keygen", "--domain", "alpha.test", "--selector", "bench", "--out", f"{work}/keys"])
    partner_key = f"{work}/keys/alpha.test.bench.private.pem"
    os.makedirs(f"{work}/exchange/alpha.test")
    with open(f"{work}/exchange/alpha.test/bench", "w") as f:
        f.write(run([binary, "dkim", "txt", "--key", partner_key, "--domain", "alpha.test", "--selector", "bench", "--record-only"]))

    configuration = gateway_config(work, upstream_port)
    with open(f"{work}/gateway.yaml", "w") as f:
        f.write(configuration.replace("{port}", str(gateway_port)))
    gateway = start([binary, "serve", "--config", f"{work}/gateway.yaml"], f"{work}/gateway.log", cwd=work)
    wait_for_port(gateway_port, f"{work}/gateway.log")
    time.sleep(2)
    idle_gateway, idle_nginx = rss_mb([gateway.pid]), rss_mb(proxy.pids)
    idle_anonymous = rss_mb([gateway.pid], "RssAnon"), rss_mb(proxy.pids, "RssAnon")

    requests = f"{work}/requests.bin"
    print(run([f"{tools}/signed-requests", str(options.requests), partner_key, "alpha.test", "bench", "mailto:bob@beta.test",
               f"127.0.0.1:{gateway_port}", "/.well-known/ischedule", requests]).strip())
    inbound_script = os.path.join(HERE, "signed.lua")
    gateway_rounds, nginx_rounds, offset = [], [], 0
    for _ in range(options.rounds):
        result = measured([gateway.pid], lambda: wrk(f"http://127.0.0.1:{gateway_port}", inbound_script, options.seconds, 32,
                                                     {"REQUESTS": requests, "OFFSET": str(offset)}))
        offset = result["next_offset"]
        gateway_rounds.append(result)
        nginx_rounds.append(measured(proxy.pids + [upstream.process.pid], lambda: wrk(
            f"http://127.0.0.1:{proxy_port}", inbound_script, options.seconds, 32, {"REQUESTS": requests, "OFFSET": "0"})))
    # Latency at half of the gateway's peak: both paced to the same rate (every connection waits
    # 32 / rate seconds before each request), p99 beside nginx's.
    half = best(gateway_rounds)["rate"] / 2
    pace = {"REQUESTS": requests, "PACE_MS": str(max(1, round(32_000 / half)))}
    paced = measured([gateway.pid], lambda: wrk(f"http://127.0.0.1:{gateway_port}", inbound_script, options.seconds, 32,
                                                dict(pace, OFFSET=str(offset))))
    offset = paced["next_offset"]
    paced_nginx = wrk(f"http://127.0.0.1:{proxy_port}", inbound_script, options.seconds, 32, dict(pace, OFFSET="0"))
    refusals = inbound_refusals(gateway_port)
    if refusals:
        print(f"inbound answers other than ok, by the gateway's own metrics: {refusals}")
    if offset > options.requests:
        print(f"note: the rounds used {offset} requests of {options.requests}; the rest were replays (refused, counted as non-2xx)")

    # Memory with 1,000 keep-alive connections.
    held = hold_connections(gateway_port, 1000)
    loaded_gateway = rss_mb([gateway.pid])
    for s in held:
        s.close()
    held = hold_connections(proxy_port, 1000)
    loaded_nginx = rss_mb(proxy.pids)
    for s in held:
        s.close()
    gateway.terminate()
    gateway.wait(timeout=30)

    # Outbound: the intake, one remote recipient per message (far.test -> the upstream nginx).
    with open(f"{work}/outbound.yaml", "w") as f:
        f.write(gateway_config(work, upstream_port, remotes=f"  far.test:\n    uri: http://127.0.0.1:{upstream_port}/far/ischedule",
                               extra="delivery:\n  circuit-failures: 1000\n").replace("{port}", str(outbound_port))
                .replace(f"{work}/data", f"{work}/data-outbound"))
    sender = start([binary, "serve", "--config", f"{work}/outbound.yaml"], f"{work}/outbound.log", cwd=work)
    wait_for_port(outbound_port, f"{work}/outbound.log")
    outbound_rounds = [measured([sender.pid], lambda: wrk(f"http://127.0.0.1:{outbound_port}/outbound",
                                                          os.path.join(HERE, "intake.lua"), options.seconds, 32, {}))
                       for _ in range(options.rounds)]
    sender.terminate()
    sender.wait(timeout=30)
    speed = run(["openssl", "speed", "-multi", str(os.cpu_count()), "-seconds", "3", "rsa2048"])
    openssl_sign = float(re.search(r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)", speed, re.M).group(1))

    # Fan-out: 1,000 recipients over 100 domains, each receiver answering after 50 ms. Each domain's
    # receiver has an address of its own (127.0.1.N), as 100 domains have 100 servers: the gateway
    # opens at most 16 connections to one host.
    ready = threading.Event()
    hosts = [f"127.0.1.{n + 1}" for n in range(100)]
    threading.Thread(target=lambda: asyncio.run(slow_receiver(hosts, fan_port, 0.05, ready)), daemon=True).start()
    ready.wait(10)
    remotes = "\n".join(f"  d{n}.test:\n    uri: http://{hosts[n]}:{fan_port}/d{n}/ischedule" for n in range(100))
    fan_gateway_port = free_port()
    with open(f"{work}/fanout.yaml", "w") as f:
        f.write(gateway_config(work, upstream_port, remotes=remotes, extra="limits:\n  max-recipients: 1000\n")
                .replace("{port}", str(fan_gateway_port)).replace(f"{work}/data", f"{work}/data-fanout"))
    fan = start([binary, "serve", "--config", f"{work}/fanout.yaml"], f"{work}/fanout.log", cwd=work)
    wait_for_port(fan_gateway_port, f"{work}/fanout.log")
    recipients = [f"mailto:u{i}@d{i % 100}.test" for i in range(1000)]
    fan_times = [fan_out(fan_gateway_port, recipients) for _ in range(options.rounds + 1)][1:]  # the first warms the caches
    fan.terminate()
    fan.wait(timeout=30)

    queue = run([f"{tools}/queue-benchmark"], cwd=ROOT)
    write_report(options, gateway_rounds, nginx_rounds, (paced, paced_nginx), outbound_rounds, openssl_sign, fan_times,
                 (idle_gateway, idle_nginx, loaded_gateway, loaded_nginx, idle_anonymous), queue)


def fan_out(port, recipients):
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
            f"UID:fan-{time.time()}\r\nDTSTAMP:20261126T120000Z\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T160000Z\r\n"
            "ORGANIZER:mailto:alice@beta.test\r\n" + "".join(f"ATTENDEE:{r}\r\n" for r in recipients)
            + "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    # Recipient in header lines of 100 addresses (a single 20 KB line exceeds the header size limit).
    lines = "".join(f"Recipient: {','.join(recipients[i:i + 100])}\r\n" for i in range(0, len(recipients), 100))
    head = (f"POST /outbound HTTP/1.1\r\nHost: 127.0.0.1\r\nOriginator: mailto:alice@beta.test\r\n{lines}"
            f"Content-Type: text/calendar; charset=utf-8; component=VEVENT; method=REQUEST\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(head + body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    elapsed = time.perf_counter() - started
    delivered = answer.count(b"2.0;") + answer.count(b">2.0<")
    if not answer.startswith(b"HTTP/1.1 200") or delivered < len(recipients):
        print(f"fan-out: {delivered} of {len(recipients)} answered 2.0: {answer[:300]!r}")
    return elapsed


def write_report(options, gateway_rounds, nginx_rounds, half_load, outbound_rounds, openssl_sign, fan_times, memory, queue):
    g, n, o = best(gateway_rounds), best(nginx_rounds), best(outbound_rounds)
    idle_gateway, idle_nginx, loaded_gateway, loaded_nginx, idle_anonymous = memory
    fan = min(fan_times)
    rows = [
        ("inbound req/s (verify + forward)", f"{g['rate']:,.0f}", f"nginx proxy_pass {n['rate']:,.0f}", f"{g['rate'] / n['rate']:.3f}", ">= 0.5"),
        ("inbound p50 / p99 ms", f"{g['p50']:.2f} / {g['p99']:.2f}", f"nginx {n['p50']:.2f} / {n['p99']:.2f}", "", ""),
        (f"inbound p99 ms at half of peak ({half_load[0]['rate']:,.0f} req/s)", f"{half_load[0]['p99']:.2f}",
         f"nginx {half_load[1]['p99']:.2f} ({half_load[1]['rate']:,.0f} req/s)",
         f"+{half_load[0]['p99'] - half_load[1]['p99']:.2f} ms", "<= +2 ms"),
        ("inbound CPU ms per request", f"{g['cpu_ms']:.3f}", f"nginx (proxy + upstream) {n['cpu_ms']:.3f}", f"{g['cpu_ms'] / max(n['cpu_ms'], 1e-9):.1f}", ""),
        ("inbound refused (non-2xx) in best round", f"{g['refused']}", f"nginx {n['refused']}", "", "0"),
        ("outbound msgs/s (sign + send)", f"{o['rate']:,.0f}", f"openssl rsa2048 sign/s, {os.cpu_count()} cores {openssl_sign:,.0f}",
         f"{o['rate'] / openssl_sign:.3f}", ">= 0.8"),
        ("fan-out 1,000 rcpts / 100 domains, 50 ms receivers", f"{fan * 1000:.0f} ms", "50 ms", f"{fan / 0.05:.1f} x", "<= 3 x"),
        ("RSS idle MB", f"{idle_gateway:.1f}", f"nginx {idle_nginx:.1f}", "", "<= 40"),
        ("  of which anonymous (not file-backed) MB", f"{idle_anonymous[0]:.1f}", f"nginx {idle_anonymous[1]:.1f}", "", ""),
        ("RSS with 1,000 keep-alive connections MB", f"{loaded_gateway:.1f}", f"nginx {loaded_nginx:.1f}", "", "<= 150"),
    ]
    widths = [max(len(str(row[i])) for row in rows + [("measure", "gateway", "beside", "ratio", "target")]) for i in range(5)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |"
             for row in [("measure", "gateway", "beside", "ratio", "target")] + rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    table = "\n".join(lines)
    rounds = ", ".join(f"{r['rate']:,.0f}" for r in gateway_rounds) + " (gateway); " + ", ".join(f"{r['rate']:,.0f}" for r in nginx_rounds) + " (nginx)"
    print(table)
    print(f"inbound rounds, req/s: {rounds}")
    print(queue.strip())
    # The written analysis below the figures (from its heading on) is kept from run to run.
    path = os.path.join(ROOT, "BENCHMARKS.md")
    previous = open(path).read() if os.path.exists(path) else ""
    analysis = previous[previous.index(ANALYSIS_HEADING):] if ANALYSIS_HEADING in previous else ""
    with open(path, "w") as f:
        f.write(f"""# Benchmarks

Measured by `python3 Benchmarks/suite/run.py` (--seconds {options.seconds} --rounds {options.rounds}) on
{time.strftime('%Y-%m-%d')}: {machine()}. Everything on loopback; wrk with 2 threads and 32 keep-alive
connections; rounds interleaved, best round shown. Figures, not assertions.

{table}

Inbound rounds, req/s: {rounds}.

Queue (`queue-benchmark`):

```
{queue.strip()}
```
""" + ("\n" + analysis if analysis else ""))
    print("written: BENCHMARKS.md")


if __name__ == "__main__":
    main()
