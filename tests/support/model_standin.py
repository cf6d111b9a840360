"""A loopback stand-in for the Anthropic Messages API, so the real Claude Code CLI runs offline.

Usage: model_standin.py PORT (0: a free one). Prints `PORT <n>` on its first line. Answers
`POST /v1/messages` (streamed or not) with one text block and fixed usage figures, taken from the
environment: STANDIN_INPUT_TOKENS, STANDIN_OUTPUT_TOKENS, STANDIN_CACHE_READ, STANDIN_CACHE_WRITE.
Every other request gets a harmless answer. Each request is logged on stderr.

STANDIN_DELAY: seconds each `/v1/messages` answer waits (a call that takes a while).
STANDIN_TOOL=write: the first streamed request that offers tools and carries no tool result is
answered with a `Write` tool use (`$STANDIN_DIR/new.txt`), so the agent asks for a permission;
the request that carries the tool's result gets the text answer.
"""

import itertools
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTER = itertools.count(1)
TOOL_USES = itertools.count(1)
TEXT = "Hello from the stand-in."


def usage():
    return {
        "input_tokens": int(os.environ.get("STANDIN_INPUT_TOKENS", "1234")),
        "output_tokens": int(os.environ.get("STANDIN_OUTPUT_TOKENS", "56")),
        "cache_read_input_tokens": int(os.environ.get("STANDIN_CACHE_READ", "700")),
        "cache_creation_input_tokens": int(os.environ.get("STANDIN_CACHE_WRITE", "300")),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    request_id = "req_standin_none"

    def log_message(self, fmt, *args):
        sys.stderr.write("standin: " + (fmt % args) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("request-id", self.request_id)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send_json(200, {"data": [], "has_more": False})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        raw = self.read_body()
        path = self.path.split("?")[0]
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            request = {}
        if path.endswith("/count_tokens"):
            return self.send_json(200, {"input_tokens": usage()["input_tokens"]})
        if not path.endswith("/v1/messages"):
            return self.send_json(200, {})
        model = request.get("model", "claude-sonnet-4-5")
        time.sleep(float(os.environ.get("STANDIN_DELAY", "0")))
        number = next(COUNTER)
        message_id = f"msg_standin_{number:06d}"
        # As the real API: a request id in a header (Claude Code keeps it as request_id/requestId).
        self.request_id = f"req_standin_{os.getpid()}_{number:06d}"
        figures = usage()
        sys.stderr.write(f"standin: {message_id} model={model} stream={request.get('stream')}\n")
        if not request.get("stream"):
            return self.send_json(200, {
                "id": message_id, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": TEXT}],
                "stop_reason": "end_turn", "stop_sequence": None, "usage": figures,
            })
        start = dict(figures, output_tokens=1)
        if self.asks_for_a_tool(request):
            tool_input = {"file_path": os.path.join(os.environ.get("STANDIN_DIR", "."), "new.txt"),
                          "content": "a\nb\nc\n"}
            return self.send_events(message_id, [
                ("message_start", {"type": "message_start", "message": {
                    "id": message_id, "type": "message", "role": "assistant", "model": model,
                    "content": [], "stop_reason": None, "stop_sequence": None, "usage": start}}),
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                    "type": "tool_use", "id": f"toolu_{number:06d}", "name": "Write", "input": {}}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
                    "type": "input_json_delta", "partial_json": json.dumps(tool_input)}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                   "usage": {"output_tokens": figures["output_tokens"]}}),
                ("message_stop", {"type": "message_stop"}),
            ])
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": message_id, "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": None, "stop_sequence": None, "usage": start}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": TEXT}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": figures["output_tokens"]}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        self.send_events(message_id, events)

    def asks_for_a_tool(self, request):
        """Whether this request is answered with a tool use (see STANDIN_TOOL)."""
        if os.environ.get("STANDIN_TOOL") != "write" or not request.get("stream"):
            return False
        messages = request.get("messages") or []
        content = (messages[-1] if messages else {}).get("content")
        has_result = isinstance(content, list) and any(
            isinstance(c, dict) and c.get("type") == "tool_result" for c in content)
        return bool(request.get("tools")) and not has_result and next(TOOL_USES) == 1

    def send_events(self, message_id, events):
        body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()
        self.send_response(200)
        self.send_header("request-id", self.request_id)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
