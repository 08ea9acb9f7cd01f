"""A plain script: the standard library's HTTP server, no dependencies."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(os.environ.get("PORT", "8080"))


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"Hello from a plain script!"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", PORT), Hello).serve_forever()
