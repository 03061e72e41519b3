"""A stand-in for huggingface.co on 127.0.0.1 (the internet cannot be reached here), speaking the hub's protocol.

``HEAD|GET /<repo>/resolve/<revision>/<file>`` answers like the hub does for an LFS file: a 302 to the CDN
with ``X-Linked-Etag`` (the sha256), ``X-Linked-Size``, ``X-Repo-Commit`` and ``ETag``; ``GET /cdn/<sha256>``
serves the bytes with ``Accept-Ranges`` and answers a ``Range`` request with 206 + ``Content-Range``. A
missing file is a 404 with ``X-Error-Code: EntryNotFound``, a missing repo ``RepoNotFound``, as the hub says.

Faults for the tests: ``cut_once`` (file names whose first GET stops half way and drops the connection),
``wrong_sha`` (file names whose advertised sha256 is wrong), ``on_body`` (called with the file name once half
the body is sent: the disk-full test fills the disk there).
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def write_gguf(path: Path, *, arch: str = "llama", mb: float = 2.5, name: str = "stand-in", seed: int = 0) -> Path:
    """A real GGUF file (header, metadata, one tensor of random float32) of about ``mb`` megabytes."""
    import gguf

    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(name)
    n = max(1, int(mb * 1e6 / 4))
    w.add_tensor("token_embd.weight", np.random.default_rng(seed).standard_normal(n).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up (cancel, cut) is expected
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Hub:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.cut_once: set[str] = set()
        self.wrong_sha: set[str] = set()
        self.on_body: Callable[[str], None] | None = None
        self.requests: list[tuple[str, str, str]] = []  # method, path, Range header
        self._cut_done: set[str] = set()
        self._by_sha: dict[str, tuple[str, bytes]] = {}
        # The CDN listens on its own port: huggingface_hub follows redirects within the hub's origin and stops
        # at another one, reading the file's metadata from the 302 itself, as it does with the real CDN.
        self.servers = [_Server(("127.0.0.1", 0), self._handler()) for _ in range(2)]
        self.url, self.cdn = (f"http://127.0.0.1:{s.server_address[1]}" for s in self.servers)
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def add(self, repo: str, files: dict[str, bytes]) -> None:
        self.repos.setdefault(repo, {}).update(files)
        for name, body in files.items():
            self._by_sha[hashlib.sha256(body).hexdigest()] = (name, body)

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def ranged_gets(self, name: str) -> list[str]:
        sha = hashlib.sha256(self._find(name)).hexdigest()
        return [r for m, p, r in self.requests if m == "GET" and p == f"/cdn/{sha}" and r]

    def _find(self, name: str) -> bytes:
        return next(files[name] for files in self.repos.values() if name in files)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(body_too=False)

            def do_GET(self) -> None:
                self._serve(body_too=True)

            def _serve(self, body_too: bool) -> None:
                hub.requests.append((self.command, self.path, self.headers.get("Range", "")))
                if self.path.startswith("/cdn/"):
                    self._cdn(self.path[len("/cdn/"):], body_too)
                    return
                head, sep, rest = self.path.partition("/resolve/")
                repo, (_rev, _, name) = head.lstrip("/"), rest.partition("/")
                if not sep or repo not in hub.repos:
                    self._error(404, "RepoNotFound")
                    return
                body = hub.repos[repo].get(name.split("?")[0])
                if body is None:
                    self._error(404, "EntryNotFound")
                    return
                sha = hashlib.sha256(body).hexdigest()
                advertised = ("f" * 64) if name in hub.wrong_sha else sha
                self.send_response(302)
                self.send_header("Location", f"{hub.cdn}/cdn/{sha}")
                self.send_header("X-Linked-Etag", f'"{advertised}"')
                self.send_header("X-Linked-Size", str(len(body)))
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", '"not-the-file-sha"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _error(self, code: int, kind: str) -> None:
                self.send_response(code)
                self.send_header("X-Error-Code", kind)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _cdn(self, sha: str, body_too: bool) -> None:
                if sha not in hub._by_sha:
                    self._error(404, "EntryNotFound")
                    return
                name, body = hub._by_sha[sha]
                start = 0
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and wanted.endswith("-"):
                    start = int(wanted[len("bytes="):-1])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if not body_too:
                    return
                part = body[start:]
                half = len(part) // 2
                self.wfile.write(part[:half])
                self.wfile.flush()
                if hub.on_body is not None:
                    hub.on_body(name)
                if name in hub.cut_once and name not in hub._cut_done:
                    hub._cut_done.add(name)
                    self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-file
                    self.close_connection = True
                    return
                self.wfile.write(part[half:])

        return Handler
