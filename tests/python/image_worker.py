#!/usr/bin/env python3
"""A Python image worker as the Experimance services write one (pyzmq, json.dumps):
pulls RenderRequests, pushes an ImageReady for each, and exits after COUNT of them.

    image_worker.py NAME REQUESTS_ENDPOINT RESULTS_ENDPOINT COUNT [TIMEOUT_S]

Prints {"event": "done", "name": NAME, "handled": n} and exits 0, or exits 2 when no
request came within TIMEOUT_S (default 30).
"""

import json
import sys

import zmq


def main(argv):
    name, requests, results, count = argv[0], argv[1], argv[2], int(argv[3])
    timeout_ms = int(float(argv[4]) * 1000) if len(argv) > 4 else 30000
    ctx = zmq.Context.instance()
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, timeout_ms)
    pull.connect(requests)
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.SNDTIMEO, timeout_ms)
    push.connect(results)
    print(json.dumps({"event": "ready", "name": name}), flush=True)
    handled = 0
    while handled < count:
        try:
            task = json.loads(pull.recv())
        except zmq.Again:
            print(json.dumps({"event": "timeout", "handled": handled}), flush=True)
            return 2
        if task.get("type") != "RenderRequest":
            continue
        rid = task["request_id"]
        push.send(json.dumps({"type": "ImageReady", "request_id": rid,
                              "image_id": f"{name}-{rid}",
                              "uri": f"file:///images/{name}/{rid}.png"}).encode())
        handled += 1
    push.close(linger=5000)
    pull.close(linger=0)
    print(json.dumps({"event": "done", "name": name, "handled": handled}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
