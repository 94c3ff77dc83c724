#!/usr/bin/env python3
"""Records who knocks, answers nothing: a test's witness that no connection or DNS query arrived.

    loopback_recorder.py --tcp ADDRESS:PORT ... --dns ADDRESS:PORT ...

--tcp  accepts TCP connections on each address, logs "accept ADDRESS:PORT", closes them at once.
--dns  receives DNS queries over UDP and TCP on each address, logs "query NAME", never answers
       (a dead resolver). IPv6 addresses are written in brackets: [::1]:8443.
Prints "ready" once every socket is bound; runs until killed. Standard library only.
"""
import selectors
import socket
import sys


def parse(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def qname(message):
    labels, index = [], 12
    while index < len(message) and message[index] != 0:
        length = message[index]
        labels.append(message[index + 1:index + 1 + length].decode("ascii", "replace"))
        index += 1 + length
    return ".".join(labels) or "."


def main():
    selector = selectors.DefaultSelector()
    mode = None
    for argument in sys.argv[1:]:
        if argument in ("--tcp", "--dns"):
            mode = argument
            continue
        host, port = parse(argument)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        stream = socket.socket(family, socket.SOCK_STREAM)
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stream.bind((host, port))
        stream.listen(64)
        selector.register(stream, selectors.EVENT_READ, ("tcp" if mode == "--tcp" else "dns-tcp", argument))
        if mode == "--dns":
            datagram = socket.socket(family, socket.SOCK_DGRAM)
            datagram.bind((host, port))
            selector.register(datagram, selectors.EVENT_READ, ("dns-udp", argument))
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            kind, where = key.data
            if kind == "dns-udp":
                message, _ = key.fileobj.recvfrom(65535)
                print(f"query {qname(message)}", flush=True)
                continue
            connection, _ = key.fileobj.accept()
            if kind == "tcp":
                print(f"accept {where}", flush=True)
            else:
                connection.settimeout(1)
                try:
                    data = connection.recv(65535)
                    print(f"query {qname(data[2:])}", flush=True)
                except OSError:
                    print("query ?", flush=True)
            connection.close()


if __name__ == "__main__":
    main()
