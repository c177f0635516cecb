#!/usr/bin/env python3
"""SMTP sink for the integration tests: accepts every message and stores it in a directory.

    python3 smtp_sink.py --host 127.0.0.1 --port N --dir D

Each message becomes D/<name>.eml (the raw DATA) plus D/<name>.json ({"mail_from", "rcpt_tos"}). Names sort in
arrival order, also across restarts into the same directory. Both files are written under a temporary name and
renamed, the .json first, so a visible .eml always has its sidecar. The server answers 250 only once both are on
disk, so a message the client saw accepted is never lost. No auth, no TLS. Prints READY once listening; exits
cleanly on SIGTERM/SIGINT.
"""

import argparse
import itertools
import json
import os
import signal
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:
    sys.exit("smtp_sink.py: the Python package aiosmtpd is missing (python3 -m pip install aiosmtpd)")


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count()

    def _write(self, name, data):
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        stem = f"{time.time_ns():020d}-{next(self.counter):06d}"
        envelope_json = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        self._write(f"{stem}.json", json.dumps(envelope_json).encode())
        self._write(f"{stem}.eml", envelope.original_content or envelope.content)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    controller = Controller(Sink(args.dir), hostname=args.host, port=args.port, enable_SMTPUTF8=True)
    controller.start()
    print("READY", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
