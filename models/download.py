"""One file from a Hugging Face hub repository: resumable, cancellable, checked against the hub's sha256.

The hub reports, for every LFS file, its sha256 (``X-Linked-Etag``) and size (``X-Linked-Size``);
huggingface_hub's :func:`get_hf_file_metadata` reads them (it honours ``HF_ENDPOINT``). The bytes then come
through one plain HTTP GET that follows the hub's redirect to its CDN, with a ``Range`` header when a
partial ``<file>.part`` is already there, so a cut connection costs only what was not yet written. The
sha256 is computed while writing; a file whose hash differs from the hub's is deleted, never kept.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deskscribe.errors import DiskFullError, ModelError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # bytes written so far (this file), its size
CHUNK = 1 << 20
RETRIES = 3  # reconnects within one call after a cut connection (each resumes where the last stopped)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class DownloadCancelled(ModelError):
    """The person cancelled; the partial file stays so the next pull resumes it."""


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    filename: str
    url: str  # where the GET goes (the hub's redirect target when it gave one)
    sha256: str
    size: int
    commit: str


def remote_file(repo: str, filename: str, endpoint: str, revision: str = "main", timeout: float = 20.0) -> RemoteFile:
    """The hub's metadata for one file; a file the hub gives no sha256 for is refused (nothing to check)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo, filename, revision=revision, endpoint=endpoint)
    meta = get_hf_file_metadata(url, token=False, timeout=timeout, endpoint=endpoint)
    etag = (meta.etag or "").lower()
    if not _SHA256.fullmatch(etag):
        raise ModelError(f"{endpoint} gives no sha256 for {repo}/{filename} (etag {meta.etag!r}), so the "
                         "download could not be checked; fetch the file by hand and use its path")
    if meta.size is None:
        raise ModelError(f"{endpoint} gives no size for {repo}/{filename}; fetch the file by hand and use its path")
    return RemoteFile(repo, filename, meta.location or url, etag, int(meta.size), meta.commit_hash or "")


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


class _Partial:
    """The ``.part`` file and the sha256 of what it holds; re-read from disk after a cut, so what counts is
    what reached the disk."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.reload(size)

    def reload(self, size: int) -> None:
        self.digest = hashlib.sha256()
        self.done = 0
        if self.path.exists() and self.path.stat().st_size > size:  # not a prefix of this file: start over
            self.path.unlink()
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            while block := fh.read(CHUNK):
                self.digest.update(block)
                self.done += len(block)

    def restart(self) -> None:
        self.path.unlink(missing_ok=True)
        self.digest = hashlib.sha256()
        self.done = 0


def _check_space(folder: Path, needed: int, name: str) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFullError(f"not enough disk space for {name}: it needs {needed / 1e6:,.0f} MB more and "
                            f"{folder} has {free / 1e6:,.0f} MB free; free some space and pull again")


def fetch(remote: RemoteFile, dest: Path, *, progress: Progress | None = None,
          cancel: threading.Event | None = None, retries: int = RETRIES) -> Path:
    """Download ``remote`` to ``dest`` (through ``dest.part``), resuming a partial; returns ``dest``.

    ``progress(done, size)`` is called after every chunk; setting ``cancel`` stops at the next chunk with
    :class:`DownloadCancelled` (the partial stays). A wrong sha256 deletes the partial; a full disk deletes
    it too (it cannot be finished there) and raises :class:`DiskFullError`.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _Partial(part_path(dest), remote.size)
    _check_space(dest.parent, remote.size - part.done, remote.filename)
    report = progress or (lambda _d, _t: None)
    report(part.done, remote.size)
    failures = 0
    while part.done < remote.size:
        try:
            _get(remote, part, report, cancel)
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code not in (408, 429, 500, 502, 503, 504):
                raise ModelError(f"{remote.filename}: the server answered HTTP {exc.code}; try again later") from exc
            failures += 1
            part.reload(remote.size)
            log.warning("download of %s cut at %d bytes (%s); %s", remote.filename, part.done, exc,
                        "resuming" if failures <= retries else "giving up")
            if failures > retries:
                raise ModelError(f"the download of {remote.filename} stopped at {part.done / 1e6:,.1f} of "
                                 f"{remote.size / 1e6:,.1f} MB ({_reason(exc)}); pull again to resume") from exc
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                part.path.unlink(missing_ok=True)
                raise DiskFullError(f"the disk filled up while downloading {remote.filename} into {dest.parent}; "
                                    "the partial file was removed: free some space and pull again") from exc
            raise
    got = part.digest.hexdigest()
    if got != remote.sha256:
        part.path.unlink(missing_ok=True)
        raise ModelError(f"{remote.filename} failed its checksum (sha256 {got[:12]}… where the hub says "
                         f"{remote.sha256[:12]}…); the download was removed: pull again")
    os.replace(part.path, dest)
    return dest


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return str(exc.reason)
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"


def _get(remote: RemoteFile, part: _Partial, report: Progress, cancel: threading.Event | None) -> None:
    """One GET from ``part.done`` to the end, or until the connection drops (then ConnectionError)."""
    headers = {"Accept-Encoding": "identity", "User-Agent": "deskscribe"}
    if part.done:
        headers["Range"] = f"bytes={part.done}-"
    request = urllib.request.Request(remote.url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (the hub's https or HF_ENDPOINT)
        if part.done and resp.status != 206:  # the server ignored the range: take the whole file again
            log.info("%s: no range support, starting over", remote.filename)
            part.restart()
        with part.path.open("ab") as out:
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"download of {remote.filename} cancelled at "
                                            f"{part.done / 1e6:,.1f} MB; pull again to resume")
                block = resp.read(CHUNK)
                if not block:
                    break
                out.write(block)
                part.digest.update(block)
                part.done += len(block)
                report(part.done, remote.size)
            out.flush()
            os.fsync(out.fileno())
    if part.done < remote.size:
        raise ConnectionError(f"the server closed the connection at {part.done} of {remote.size} bytes")
