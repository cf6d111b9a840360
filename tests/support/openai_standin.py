"""A loopback stand-in for the OpenAI Responses API, so the real Codex CLI runs offline.

Usage: openai_standin.py PORT (0: a free one). Prints `PORT <n>` on its first line. Answers
`POST /v1/responses` with a streamed answer whose `response.completed` carries fixed usage figures
from the environment (STANDIN_INPUT_TOKENS, STANDIN_CACHED_TOKENS, STANDIN_OUTPUT_TOKENS,
STANDIN_REASONING_TOKENS); every other request gets a harmless answer. Each request is logged on
stderr.
"""
import itertools, json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
COUNTER = itertools.count(1)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *a): sys.stderr.write("standin: " + (fmt % a) + "\n")
    def body(self):
        if self.headers.get("Transfer-Encoding") == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().strip(), 16)
                if n == 0: self.rfile.readline(); break
                data += self.rfile.read(n); self.rfile.readline()
            return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
    def send_json(self, value, status=200):
        b = json.dumps(value).encode()
        self.send_response(status); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        sys.stderr.write(f"GET {self.path}\n")
        self.send_json({"object": "list", "data": [], "models": []})
    def do_POST(self):
        raw = self.body()
        path = self.path.split("?")[0]
        if path.startswith("/v1/logs") or path.startswith("/v1/metrics") or path.startswith("/v1/traces"):
            return self.send_json({})
        try: req = json.loads(raw or b"{}")
        except Exception: req = {}
        sys.stderr.write(f"POST {path} keys={list(req)[:12]} stream={req.get('stream')}\n")
        n = next(COUNTER); rid = f"resp_standin_{n:06d}"; model = req.get("model", "gpt-5-codex")
        figure = lambda name, default: int(os.environ.get(name, default))
        inp, cached = figure("STANDIN_INPUT_TOKENS", "1234"), figure("STANDIN_CACHED_TOKENS", "700")
        out, reasoning = figure("STANDIN_OUTPUT_TOKENS", "56"), figure("STANDIN_REASONING_TOKENS", "20")
        usage = {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached},
                 "output_tokens": out, "output_tokens_details": {"reasoning_tokens": reasoning},
                 "total_tokens": inp + out}
        item = {"type": "message", "id": f"msg_{n}", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Hello from the stand-in.", "annotations": []}]}
        resp = {"id": rid, "object": "response", "created_at": int(time.time()), "status": "in_progress", "model": model, "output": []}
        events = [
            ("response.created", {"type": "response.created", "response": resp}),
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": dict(item, status="in_progress", content=[])}),
            ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0, "content_index": 0, "delta": "Hello from the stand-in."}),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.completed", {"type": "response.completed", "response": dict(resp, status="completed", output=[item], usage=usage)}),
        ]
        b = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()
        self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), H)
print(f"PORT {s.server_address[1]}", flush=True); s.serve_forever()
