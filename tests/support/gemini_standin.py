"""A loopback stand-in for the Gemini API, so the real Gemini CLI runs offline
(GOOGLE_GEMINI_BASE_URL points at it).

Usage: gemini_standin.py (a free port). Prints `PORT <n>` on its first line. Answers
`…:streamGenerateContent` (SSE) and `…:generateContent` with one text part and fixed usage
figures from the environment (STANDIN_INPUT_TOKENS, STANDIN_CACHED_TOKENS, STANDIN_OUTPUT_TOKENS,
STANDIN_THOUGHTS_TOKENS); every other request gets a harmless answer. Requests are logged on stderr.
"""
import itertools, json, os, sys
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
    def send_json(self, value):
        b = json.dumps(value).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        sys.stderr.write(f"GET {self.path}\n"); self.send_json({"models": []})
    def do_POST(self):
        raw = self.body(); path = self.path
        sys.stderr.write(f"POST {path}\n")
        figure = lambda name, default: int(os.environ.get(name, default))
        inp, cached = figure("STANDIN_INPUT_TOKENS", "1234"), figure("STANDIN_CACHED_TOKENS", "700")
        out, thoughts = figure("STANDIN_OUTPUT_TOKENS", "56"), figure("STANDIN_THOUGHTS_TOKENS", "20")
        usage = {"promptTokenCount": inp, "candidatesTokenCount": out, "cachedContentTokenCount": cached,
                 "thoughtsTokenCount": thoughts, "totalTokenCount": inp + out + thoughts}
        chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello from the stand-in."}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage, "modelVersion": "gemini-2.5-pro", "responseId": f"resp-{next(COUNTER)}"}
        if "countTokens" in path:
            return self.send_json({"totalTokens": 10})
        if "stream" in path.lower() or "alt=sse" in path:
            b = f"data: {json.dumps(chunk)}\r\n\r\n".encode()
            self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
        else:
            self.send_json(chunk)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"PORT {s.server_address[1]}", flush=True); s.serve_forever()
