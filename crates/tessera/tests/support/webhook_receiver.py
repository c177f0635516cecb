#!/usr/bin/env python3
"""Webhook receiver for the integration tests: a real HTTP server that checks every delivery's signature with
the `standardwebhooks` package (the Standard Webhooks reference implementation), independently of Tessera.

    python3 webhook_receiver.py --host 127.0.0.1

Prints `READY <port>` once listening on a free port. Deliveries are POSTs to any path except the control ones:

    POST /_secrets  {"path": "/a", "secret": "whsec_..."}   adds a secret to try for that path (newest last)
    POST /_fail     {"path": "/a", "count": N, "status": S}  answers the next N deliveries to that path with S
    GET  /_received                                          every delivery so far, in arrival order

Each received delivery is recorded as {"path", "headers" (the webhook-* ones), "body" (parsed JSON),
"verified_by" (index of the first secret of the path that verifies it, or null), "error" (why none did),
"answered" (the status sent back)}. Exits cleanly on SIGTERM/SIGINT.
"""

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    sys.exit("webhook_receiver.py: the Python package standardwebhooks is missing "
             "(python3 -m pip install standardwebhooks)")

LOCK = threading.Lock()
SECRETS = {}   # path -> [secret, ...]
FAILURES = {}  # path -> [remaining, status]
RECEIVED = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, payload=None):
        body = json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length)

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                self.answer(200, RECEIVED)
        else:
            self.answer(404)

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_secrets":
            order = json.loads(raw)
            with LOCK:
                SECRETS.setdefault(order["path"], []).append(order["secret"])
            return self.answer(200)
        if self.path == "/_fail":
            order = json.loads(raw)
            with LOCK:
                FAILURES[order["path"]] = [order["count"], order["status"]]
            return self.answer(200)
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("webhook-")}
        verified_by, error = None, "no secret registered for this path"
        with LOCK:
            secrets = list(SECRETS.get(self.path, []))
        for index, secret in enumerate(secrets):
            try:
                Webhook(secret).verify(raw, headers)
                verified_by, error = index, None
                break
            except WebhookVerificationError as e:
                error = str(e)
        with LOCK:
            status = 200
            failing = FAILURES.get(self.path)
            if failing and failing[0] > 0:
                failing[0] -= 1
                status = failing[1]
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            RECEIVED.append({"path": self.path, "headers": headers, "body": body, "verified_by": verified_by,
                             "error": error, "answered": status})
        self.answer(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, 0), Handler)
    server.daemon_threads = True

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
