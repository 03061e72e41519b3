"""deskscribe: capture your own desktop activity and turn it into training data, locally."""

from pathlib import Path as _Path

__version__ = "0.1.0"

# Installed, the stage packages sit inside this folder (pyproject maps app/ → deskscribe/app, …).
# Run from a source checkout (`python -m pytest` puts the repo root first on sys.path), this folder is
# imported directly and the stages are its siblings: look there too, exactly as the mapping says.
_here = _Path(__file__).resolve().parent
if not (_here / "storage").is_dir() and (_here.parent / "storage" / "__init__.py").is_file():
    __path__.append(str(_here.parent))  # noqa: F821 (package __path__)
