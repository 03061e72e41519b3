"""The one atomic file writer: settings, model manifests, caches and desktop entries are replaced whole.

The data goes to a temporary file in the same folder (so the rename never crosses file systems), is flushed
to disk, and then replaces the target in one ``os.replace``: a reader sees the old file or the new one,
never half of either, and a failed write leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``data`` (text is encoded with ``encoding``); creates the folder; returns ``path``."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, obj: Any) -> Path:
    """``obj`` as indented, key-sorted JSON, written with :func:`write_atomic`."""
    return write_atomic(path, json.dumps(obj, indent=1, sort_keys=True))
