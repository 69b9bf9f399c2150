#!/usr/bin/env python3
"""Python side of `exbus bench`'s Python rows: PUSH->PULL as the Python
``experimance_common`` sockets do it, one ``json.dumps`` + ``send_string`` per message
on the sender and one ``recv_string`` + ``json.loads`` (and the type check) per message
on the receiver, blocking (``zmq``) or asyncio (``zmq.asyncio``).

Usage::

    bench_peer.py pull --mode sync|async --count N            # binds, prints its endpoint
    bench_peer.py push --mode sync|async --count N --endpoint E

Protocol on stdout (one JSON line each, flushed): the receiver prints
``{"endpoints": [E]}`` once bound, then ``{"received": n, "rate": msg/s, ...}`` timed
from its first message to its last; the sender prints ``{"sent": n, "rate": ...}``.
The same protocol as ``exbus bench-peer``.
"""

import argparse
import asyncio
import json
import sys
import time

import zmq

HEARTBEAT = {"type": "Heartbeat", "timestamp": 1732762000.123456,
             "service": "experimance-core-benchmark"}
TIMEOUT_MS = 20000
LINGER_MS = 5000


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def peak_rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def socket(ctx, kind):
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, LINGER_MS)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    return sock


def received(n, start, end):
    secs = end - start
    return {"received": n, "elapsed_s": secs, "rate": (n - 1) / secs if secs > 0 else 0.0,
            "peak_rss_kb": peak_rss_kb()}


def sent(n, start, end):
    secs = end - start
    return {"sent": n, "elapsed_s": secs, "rate": n / secs if secs > 0 else 0.0,
            "peak_rss_kb": peak_rss_kb()}


def check(msg):
    if msg.get("type") != "Heartbeat":
        raise ValueError(f"unexpected type {msg.get('type')!r}")


def run_sync(args):
    ctx = zmq.Context()
    if args.role == "pull":
        sock = socket(ctx, zmq.PULL)
        sock.bind("tcp://127.0.0.1:*")
        emit({"endpoints": [sock.getsockopt_string(zmq.LAST_ENDPOINT)]})
        check(json.loads(sock.recv_string()))
        start = time.perf_counter()
        for _ in range(args.count - 1):
            check(json.loads(sock.recv_string()))
        result = received(args.count, start, time.perf_counter())
    else:
        sock = socket(ctx, zmq.PUSH)
        sock.connect(args.endpoint)
        start = time.perf_counter()
        for _ in range(args.count):
            sock.send_string(json.dumps(HEARTBEAT))
        result = sent(args.count, start, time.perf_counter())
    sock.close()
    ctx.term()
    emit(result)


async def run_async(args):
    import zmq.asyncio

    ctx = zmq.asyncio.Context()
    if args.role == "pull":
        sock = socket(ctx, zmq.PULL)
        sock.bind("tcp://127.0.0.1:*")
        emit({"endpoints": [sock.getsockopt_string(zmq.LAST_ENDPOINT)]})
        check(json.loads(await sock.recv_string()))
        start = time.perf_counter()
        for _ in range(args.count - 1):
            check(json.loads(await sock.recv_string()))
        result = received(args.count, start, time.perf_counter())
    else:
        sock = socket(ctx, zmq.PUSH)
        sock.connect(args.endpoint)
        start = time.perf_counter()
        for _ in range(args.count):
            await sock.send_string(json.dumps(HEARTBEAT))
        result = sent(args.count, start, time.perf_counter())
    sock.close()
    ctx.term()
    emit(result)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("role", choices=["push", "pull"])
    p.add_argument("--mode", choices=["sync", "async"], default="sync")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--endpoint")
    args = p.parse_args(argv)
    if args.role == "push" and not args.endpoint:
        p.error("push needs --endpoint")
    if args.count < 2:
        p.error("--count must be >= 2")
    if args.mode == "async":
        asyncio.run(run_async(args))
    else:
        run_sync(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
