"""Keep long-running processes (capture, the tray) small."""

from __future__ import annotations

import sys


def load_sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils with pandas hidden.

    sqlite-utils imports pandas whenever it is installed (``datasets`` brings it) only to map its Timestamp
    type: ~70 MB of memory and 0.3 s of start-up that capture and the tray never use. pandas is hidden only
    while sqlite-utils loads, so anything else in the process can still import it. A no-op once either is
    already imported.
    """
    if "pandas" in sys.modules or "sqlite_utils" in sys.modules:
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["pandas"]
