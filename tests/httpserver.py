"""A real HTTP server on a loopback port whose answers a test scripts."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorded:
    def __init__(self, method: str, path: str, headers: dict, body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self):
        return json.loads(self.body)


class QuietServer(ThreadingHTTPServer):
    # Closing the server waits for requests still being answered, so none outlives its test.
    daemon_threads = False

    def handle_error(self, request, client_address) -> None:
        """A client that gave up is expected here."""


class ScriptedServer:
    """`handler(request) -> (status, body)`; every request is kept in `.requests`.

    `keep_alive` answers in HTTP/1.1 and keeps connections open between requests, as a
    production server does; its clients must close them before the server is closed."""

    def __init__(self, handler: Callable[[Recorded], tuple[int, object]], keep_alive: bool = False):
        self.handler = handler
        self.requests: list[Recorded] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            # Headers and body go out in two writes; without this a kept-alive connection
            # waits for the client's delayed ACK before the body.
            disable_nagle_algorithm = True

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length))
                server.requests.append(request)
                status, body = server.handler(request)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args):
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
