"""Known environment problems: each carries one short sentence that says what to do.

Anything that is not a ``DeskscribeError`` is a bug and is reported with its traceback.
"""

from __future__ import annotations


class DeskscribeError(Exception):
    """A known problem the user can act on; ``str(err)`` is the one line shown."""


class ConfigError(DeskscribeError):
    pass


class DataDirError(DeskscribeError):
    pass


class SchemaTooNewError(DeskscribeError):
    pass


class DatabaseError(DeskscribeError):
    pass


class DiskFullError(DeskscribeError):
    pass


class ImportFailed(DeskscribeError):
    pass


class ModelError(DeskscribeError):
    """A model file is missing, corrupt, of the wrong kind, or a server cannot be reached."""


class InvalidOutput(DeskscribeError, ValueError):
    """The model's answer cannot be stored: not JSON, an empty summary, or a loop."""


class BackendUnavailable(DeskscribeError):
    """Something this platform or session cannot provide (no display, no tray, Wayland…)."""


class ExportError(DeskscribeError):
    pass
