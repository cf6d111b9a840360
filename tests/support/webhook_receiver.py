"""A webhook receiver on loopback, as Slack, ntfy or any JSON receiver would be reached: every
request is printed on standard output as one JSON line (`path`, `headers`, `body`), after
`PORT <n>` on the first line. RECEIVER_FAIL_PATHS (comma-separated path prefixes) answer 500.

Usage: webhook_receiver.py [PORT]
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRINTING = threading.Lock()
FAILING = [p for p in os.environ.get("RECEIVER_FAIL_PATHS", "").split(",") if p]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        with PRINTING:
            print(json.dumps({"path": self.path, "headers": headers, "body": body}), flush=True)
        status = 500 if any(self.path.startswith(p) for p in FAILING) else 200
        answer = b"ok" if status == 200 else b"down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
