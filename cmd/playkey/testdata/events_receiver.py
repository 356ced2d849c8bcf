"""A webhook receiver for playkey's stream events, independent of playkey's code.

Usage: events_receiver.py PORT SECRET_FILE

It checks each delivery's X-Playkey-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the secret>) and its timestamp, and prints one line per request:
"event <path> <body>" for a valid one (answered 204), "bad <path> <why>" otherwise (401).
"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE = 300  # seconds between the signature's timestamp and this clock

with open(sys.argv[2], "rb") as f:
    SECRET = f.read()


def verify(header, body):
    fields = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in fields or "v1" not in fields:
        return "no t= or v1="
    if abs(time.time() - int(fields["t"])) > TOLERANCE:
        return "stale timestamp"
    mac = hmac.new(SECRET, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, fields["v1"]):
        return "signature mismatch"
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        why = verify(self.headers.get("X-Playkey-Signature", ""), body)
        if why is None:
            try:
                json.loads(body)
            except ValueError:
                why = "body is not JSON"
        if why is None:
            print("event", self.path, body.decode(), flush=True)
            self.send_response(204)
        else:
            print("bad", self.path, why, flush=True)
            self.send_response(401)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("receiver listening on", server.server_address[1], flush=True)
server.serve_forever()
