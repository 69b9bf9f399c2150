#!/usr/bin/env python3
"""Python peer for the experimance-common interop tests.

Behaves on the wire exactly like the Python ``experimance_common`` services:

* PUB frames are ONE frame ``f"{topic} {json.dumps(message)}"`` (UTF-8, default
  ``json.dumps`` separators ``", "`` and ``": "``);
* PUSH frames are ONE frame ``json.dumps(message)``.

Usage::

    peer.py ROLE --endpoint E (--bind|--connect) [--mode sync|async]
            [--topic T ...] --cases FILE [--timeout SECS] [--repeat N]
            [--unordered] [--echo]

ROLE is one of ``pub``, ``sub``, ``push``, ``pull``.  FILE is a JSON list of
``{"topic": str, "message": object}`` (``push``/``pull`` ignore the topic).

Protocol on stdout (one JSON object per line, flushed):

* ``{"event": "ready", "endpoint": E}`` once the socket is bound/connected (for a
  bound socket E is its LAST_ENDPOINT, so ``tcp://127.0.0.1:*`` reveals the port);
  ``pub`` prints it BEFORE waiting for a subscriber.
* ``{"event": "frame", "index": i, "raw": str}`` per received frame with ``--echo``.
* ``{"event": "timeout", "phase": ..., "missing": [...], ...}`` when a wait expired.
* ``{"event": "done", "received": n, "sent": n, "mismatches": [...], ...}`` last.

Exit codes: 0 all matched, 1 mismatches, 2 timeout, 3 usage error (bad arguments or
cases file), 4 internal error (unexpected exception, printed as an ``error`` event).
"""

import argparse
import asyncio
import json
import math
import sys
import time

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_TIMEOUT = 2
EXIT_USAGE = 3
EXIT_INTERNAL = 4

# close() flushes what was queued, bounded so that it never hangs forever.
LINGER_MS = 5000


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class UsageError(Exception):
    pass


class PeerTimeout(Exception):
    def __init__(self, phase, missing, **extra):
        super().__init__(phase)
        self.phase = phase
        self.missing = missing
        self.extra = extra


class ArgParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        emit({"event": "error", "kind": "usage", "message": message})
        sys.exit(EXIT_USAGE)


def parse_args(argv):
    p = ArgParser(prog="peer.py", description="Python ZeroMQ peer for interop tests")
    p.add_argument("role", choices=["pub", "sub", "push", "pull"])
    p.add_argument("--endpoint", required=True)
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--bind", action="store_true")
    side.add_argument("--connect", action="store_true")
    p.add_argument("--mode", choices=["sync", "async"], default="sync")
    p.add_argument(
        "--topic",
        action="append",
        default=None,
        help="sub: subscribe to it (default: everything). pub: wait until a "
        "subscription to exactly this prefix arrived (default: until every "
        "case's frame is covered by some received subscription).",
    )
    p.add_argument("--cases", required=True)
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds; socket send/receive timeout and subscriber wait")
    p.add_argument("--repeat", type=int, default=1,
                   help="send (pub/push) or expect (sub/pull) the case list N times")
    p.add_argument("--unordered", action="store_true",
                   help="sub/pull: match received messages as a multiset")
    p.add_argument("--echo", action="store_true",
                   help="sub/pull: print every received raw frame as an event")
    p.add_argument("--curve-server", metavar="SECRET_Z85",
                   help="be a CURVE server with this secret key")
    p.add_argument("--curve-client", metavar="SERVER_PUBLIC,PUBLIC,SECRET",
                   help="be a CURVE client of the server with this public key, "
                   "with its own key pair (all Z85, joined by commas, which Z85 never "
                   "uses; pass it as --curve-client=... since a Z85 key may begin "
                   "with '-')")
    args = p.parse_args(argv)
    if args.timeout <= 0:
        p.error("--timeout must be > 0")
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.curve_client is not None and len(args.curve_client.split(",")) != 3:
        p.error("--curve-client takes three comma-separated Z85 keys")
    return args


def load_cases(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            cases = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read cases file {path!r}: {e}")
    if not isinstance(cases, list):
        raise UsageError("cases file must hold a JSON list")
    out = []
    for i, c in enumerate(cases):
        if not isinstance(c, dict) or "message" not in c:
            raise UsageError(f"case {i} must be an object with a 'message'")
        topic = c.get("topic", "")
        if not isinstance(topic, str):
            raise UsageError(f"case {i}: topic must be a string")
        out.append((topic, c["message"]))
    return out


# --------------------------------------------------------------------------- compare

def _kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _show(v):
    return json.dumps(v, ensure_ascii=False)


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def compare(expected, actual, path=""):
    """Field-by-field comparison of parsed JSON; returns a list of differences."""
    where = path or "<root>"
    ek, ak = _kind(expected), _kind(actual)
    if ek != ak:
        return [f"{where}: expected {ek} {_show(expected)}, got {ak} {_show(actual)}"]
    if ek == "object":
        diffs = []
        for k in expected:
            if k not in actual:
                diffs.append(f"missing field {_join(path, k)} (expected {_show(expected[k])})")
            else:
                diffs.extend(compare(expected[k], actual[k], _join(path, k)))
        for k in actual:
            if k not in expected:
                diffs.append(f"unexpected field {_join(path, k)} = {_show(actual[k])}")
        return diffs
    if ek == "array":
        diffs = []
        if len(expected) != len(actual):
            diffs.append(f"{where}: expected {len(expected)} items, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            diffs.extend(compare(e, a, f"{path}[{i}]"))
        for i in range(len(actual), len(expected)):
            diffs.append(f"missing item {path}[{i}] (expected {_show(expected[i])})")
        for i in range(len(expected), len(actual)):
            diffs.append(f"unexpected item {path}[{i}] = {_show(actual[i])}")
        return diffs
    if ek == "float":
        if expected == actual or (math.isnan(expected) and math.isnan(actual)):
            return []
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    if expected != actual:
        return [f"{where}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def decode_frame(frame, with_topic):
    """Returns (topic, message, error)."""
    try:
        text = bytes(frame).decode("utf-8")
    except UnicodeDecodeError as e:
        return None, None, f"frame is not UTF-8: {e}"
    topic = None
    if with_topic:
        topic, sep, rest = text.partition(" ")
        if not sep:
            return None, None, f"frame has no space between topic and JSON: {text[:200]!r}"
        text = rest
    try:
        message = json.loads(text)
    except ValueError as e:
        return topic, None, f"JSON does not parse ({e}): {text[:200]!r}"
    return topic, message, None


class Checker:
    def __init__(self, cases, repeat, with_topic, unordered):
        self.expected = [c for _ in range(repeat) for c in cases]
        self.n_cases = len(cases)
        self.with_topic = with_topic
        self.unordered = unordered
        self.used = [False] * len(self.expected)
        self.mismatches = []
        self.received = 0

    def label(self, i):
        topic, _ = self.expected[i]
        rep, idx = divmod(i, self.n_cases) if self.n_cases else (0, i)
        rep_s = f" repeat {rep}" if len(self.expected) > self.n_cases else ""
        topic_s = f" (topic {topic!r})" if self.with_topic else ""
        return f"case {idx}{rep_s}{topic_s}"

    def diffs(self, i, topic, message):
        exp_topic, exp_msg = self.expected[i]
        out = []
        if self.with_topic and topic != exp_topic:
            out.append(f"topic: expected {exp_topic!r}, got {topic!r}")
        out.extend(compare(exp_msg, message))
        return out

    def feed(self, frame):
        n = self.received
        self.received += 1
        topic, message, err = decode_frame(frame, self.with_topic)
        if self.unordered:
            if err is not None:
                self.mismatches.append(f"frame {n}: {err}")
                return
            for i, used in enumerate(self.used):
                if not used and not self.diffs(i, topic, message):
                    self.used[i] = True
                    return
            self.mismatches.append(
                f"frame {n}: unexpected message (topic {topic!r}): {_show(message)}")
            return
        self.used[n] = True
        if err is not None:
            self.mismatches.append(f"{self.label(n)}: {err}")
            return
        for d in self.diffs(n, topic, message):
            self.mismatches.append(f"{self.label(n)}: {d}")

    def missing(self):
        return [self.label(i) for i, used in enumerate(self.used) if not used]

    def finish(self):
        if self.unordered:
            for i, used in enumerate(self.used):
                if not used:
                    self.mismatches.append(f"{self.label(i)}: never received")


# --------------------------------------------------------------------------- sockets

class SyncChan:
    """Blocking pyzmq socket; its coroutines never suspend (see run_sync)."""

    def __init__(self, zmq, sock_type, timeout_ms):
        self.zmq = zmq
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(sock_type)
        self.sock.setsockopt(zmq.LINGER, LINGER_MS)
        self.sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.sock.setsockopt(zmq.SNDTIMEO, timeout_ms)

    async def recv(self, timeout_s):
        """A frame, or None on timeout."""
        ms = max(0, int(timeout_s * 1000))
        if not self.sock.poll(ms, self.zmq.POLLIN):
            return None
        try:
            return self.sock.recv(copy=True)
        except self.zmq.Again:
            return None

    async def send(self, data):
        try:
            self.sock.send(data)
            return True
        except self.zmq.Again:
            return False

    def close(self, linger_ms):
        self.sock.close(linger=linger_ms)
        self.ctx.term()  # waits for the flush, at most linger_ms


class AsyncChan:
    """zmq.asyncio socket, as used by the library's async API."""

    def __init__(self, zmq, sock_type, timeout_ms):
        import zmq.asyncio

        self.zmq = zmq
        self.ctx = zmq.asyncio.Context()
        self.sock = self.ctx.socket(sock_type)
        self.sock.setsockopt(zmq.LINGER, LINGER_MS)
        self.sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.sock.setsockopt(zmq.SNDTIMEO, timeout_ms)

    async def recv(self, timeout_s):
        try:
            return await asyncio.wait_for(self.sock.recv(), max(0.0, timeout_s))
        except (asyncio.TimeoutError, self.zmq.Again):
            return None

    async def send(self, data):
        timeout_s = self.sock.getsockopt(self.zmq.SNDTIMEO) / 1000.0
        try:
            await asyncio.wait_for(self.sock.send(data), timeout_s)
            return True
        except (asyncio.TimeoutError, self.zmq.Again):
            return False

    def close(self, linger_ms):
        self.sock.close(linger=linger_ms)
        self.ctx.term()


def run_sync(coro):
    """Drive a coroutine whose awaits never suspend, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("sync coroutine suspended")


# --------------------------------------------------------------------------- roles

class Result:
    def __init__(self):
        self.sent = 0
        self.received = 0
        self.mismatches = []


async def wait_for_subscribers(chan, frames, topics, timeout_s):
    """XPUB: wait until the subscriptions we need have arrived (no sleeping)."""
    deadline = time.monotonic() + timeout_s
    subs = set()

    def pending():
        if topics is not None:
            return [t for t in topics if t.encode("utf-8") not in subs]
        return sorted({f.split(b" ", 1)[0].decode("utf-8") for f in frames
                       if not any(f.startswith(s) for s in subs)})

    while True:
        missing = pending()
        if not missing:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise PeerTimeout(
                "subscribe", [f"subscription covering topic {t!r}" for t in missing],
                subscriptions_seen=sorted(s.decode("utf-8", "replace") for s in subs))
        msg = await chan.recv(left)
        if msg is None:
            continue
        msg = bytes(msg)
        if msg[:1] == b"\x01":
            subs.add(msg[1:])
        elif msg[:1] == b"\x00":
            subs.discard(msg[1:])


async def run_role(args, cases, chan, res):
    zmq = chan.zmq
    sock = chan.sock
    if args.curve_server:
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, args.curve_server.encode("ascii"))
    if args.curve_client:
        server, public, secret = (k.encode("ascii") for k in args.curve_client.split(","))
        sock.setsockopt(zmq.CURVE_SERVERKEY, server)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
    if args.bind:
        sock.bind(args.endpoint)
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    else:
        sock.connect(args.endpoint)
        endpoint = args.endpoint
    if args.role == "sub":
        for t in (args.topic if args.topic is not None else [""]):
            sock.setsockopt(zmq.SUBSCRIBE, t.encode("utf-8"))
    emit({"event": "ready", "endpoint": endpoint})

    if args.role in ("pub", "push"):
        if args.role == "pub":
            frames = [f"{t} {json.dumps(m)}".encode("utf-8") for t, m in cases]
            await wait_for_subscribers(chan, frames, args.topic, args.timeout)
        else:
            frames = [json.dumps(m).encode("utf-8") for _, m in cases]
        total = len(frames) * args.repeat
        for _ in range(args.repeat):
            for f in frames:
                if not await chan.send(f):
                    raise PeerTimeout("send", [f"{total - res.sent} of {total} messages unsent"])
                res.sent += 1
        return

    checker = Checker(cases, args.repeat, args.role == "sub", args.unordered)
    try:
        total = len(checker.expected)
        while checker.received < total:
            frame = await chan.recv(args.timeout)
            if frame is None:
                raise PeerTimeout("receive", checker.missing(),
                                  waited_s=args.timeout)
            if args.echo:
                emit({"event": "frame", "index": checker.received,
                      "raw": bytes(frame).decode("utf-8", "replace")})
            checker.feed(frame)
            res.received = checker.received
        checker.finish()
    finally:
        res.received = checker.received
        res.mismatches = checker.mismatches


def main(argv):
    args = parse_args(argv)
    try:
        cases = load_cases(args.cases)
    except UsageError as e:
        sys.stderr.write(f"peer.py: {e}\n")
        emit({"event": "error", "kind": "usage", "message": str(e)})
        return EXIT_USAGE
    try:
        import zmq
    except ImportError as e:
        emit({"event": "error", "kind": "import", "message": str(e)})
        return EXIT_INTERNAL

    sock_type = {"pub": zmq.XPUB, "sub": zmq.SUB, "push": zmq.PUSH, "pull": zmq.PULL}[args.role]
    timeout_ms = max(1, int(args.timeout * 1000))
    res = Result()
    code = EXIT_OK

    def make_chan():
        cls = AsyncChan if args.mode == "async" else SyncChan
        chan = cls(zmq, sock_type, timeout_ms)
        if args.role == "pub":
            # Wire-identical to PUB for subscribers. NODROP: block (bounded by
            # SNDTIMEO) at the high-water mark instead of silently dropping.
            chan.sock.setsockopt(zmq.XPUB_NODROP, 1)
        return chan

    async def body():
        chan = make_chan()
        try:
            await run_role(args, cases, chan, res)
        finally:
            # Senders flush what they queued (bounded). Receivers have nothing worth
            # flushing: a SUB whose publisher already left would otherwise wait the
            # whole linger to re-send its subscriptions to nobody.
            chan.close(LINGER_MS if args.role in ("pub", "push") else 0)

    try:
        if args.mode == "async":
            asyncio.run(body())
        else:
            run_sync(body())
    except PeerTimeout as t:
        ev = {"event": "timeout", "phase": t.phase, "timeout_s": args.timeout,
              "missing": t.missing, "received": res.received, "sent": res.sent}
        ev.update(t.extra)
        emit(ev)
        code = EXIT_TIMEOUT
    except zmq.ZMQError as e:
        emit({"event": "error", "kind": "zmq", "message": f"{type(e).__name__}: {e}"})
        code = EXIT_USAGE if e.errno in (zmq.EINVAL, zmq.EPROTONOSUPPORT,
                                         zmq.ENOCOMPATPROTO) else EXIT_INTERNAL
    except Exception as e:  # noqa: BLE001 - reported, never swallowed
        import traceback

        traceback.print_exc()
        emit({"event": "error", "kind": "internal", "message": f"{type(e).__name__}: {e}"})
        code = EXIT_INTERNAL
    if code == EXIT_OK and res.mismatches:
        code = EXIT_MISMATCH
    emit({"event": "done", "role": args.role, "mode": args.mode,
          "received": res.received, "sent": res.sent,
          "mismatches": res.mismatches, "exit_code": code})
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
