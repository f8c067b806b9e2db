"""A real HTTP server on a loopback port standing in for DERMS `device_score`:
it reads each body as it arrives and checks its size and SHA-256 against the headers."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    name: str
    headers: dict
    size: int
    sha256: str
    complete: bool

    @property
    def intact(self) -> bool:
        return (
            self.complete
            and self.headers.get("Content-Length") == str(self.size)
            and self.headers.get("X-Content-SHA256") == self.sha256
        )


class ScoreReceiver:
    """`answer(received) -> status` scripts the answer; `drop_after` bytes of a body closes the connection;
    `read_pause_s` reads bodies slowly (64 KB, then a pause); `started` names every body begun."""

    def __init__(self, answer: Callable[[Received], int] | None = None, keep_bodies: bool = True):
        self.answer = answer or (lambda received: 202 if received.intact else 400)
        self.keep_bodies = keep_bodies
        self.drop_after: int | None = None
        self.read_pause_s = 0.0
        self.started: list[str] = []
        self.received: list[Received] = []
        self.bodies: dict[str, bytes] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.started.append(self.headers.get("X-File-Name", ""))
                piece = 64 * 1024 if server.read_pause_s else 1024 * 1024
                digest, size, kept = hashlib.sha256(), 0, []
                while size < length:
                    if server.drop_after is not None and size >= server.drop_after:
                        server.received.append(
                            Received(
                                self.headers.get("X-File-Name", ""), dict(self.headers), size, digest.hexdigest(), False
                            )
                        )
                        self.close_connection = True
                        self.connection.close()
                        return
                    chunk = self.rfile.read(min(piece, length - size))
                    if not chunk:
                        break
                    time.sleep(server.read_pause_s)
                    digest.update(chunk)
                    size += len(chunk)
                    if server.keep_bodies:
                        kept.append(chunk)
                got = Received(
                    self.headers.get("X-File-Name", ""), dict(self.headers), size, digest.hexdigest(), size == length
                )
                server.received.append(got)
                if server.keep_bodies:
                    server.bodies[got.name] = b"".join(kept)
                status = server.answer(got)
                data = json.dumps({"status": "OK" if status < 300 else "ERROR", "size": size}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def names(self) -> list[str]:
        return [r.name for r in self.received]

    def __enter__(self) -> ScoreReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
