"""The stage boundaries hold: every module imports on its own, and imports follow the layer rule.

Layer rule (README, Development): nothing imports app; capture, models and export never import each other;
storage imports no other stage; only app imports Qt; no module imports deskscribe.cli (the root CLI only
assembles the stages' commands) except ``deskscribe/__main__.py``. Root modules import no stage, except
the CLI (which assembles them), doctor (which assembles each stage's checks) and config, which validates against the models
registry (names only).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("app", "capture", "models", "storage", "export")
FOLDERS = {"deskscribe": REPO / "deskscribe", **{s: REPO / s for s in STAGES}}
# root modules allowed to import a stage, and which
ROOT_EXCEPTIONS = {
    "deskscribe.cli": set(STAGES),
    "deskscribe.config": {"models"},  # deskscribe.models.registry only, checked below
    "deskscribe.doctor": {"storage", "capture", "models"},  # assembles each stage's checks, like the CLI
}


def module_names() -> list[str]:
    names = []
    for stage, folder in FOLDERS.items():
        prefix = "deskscribe" if stage == "deskscribe" else f"deskscribe.{stage}"
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join([prefix, *parts]))
    return names


def source_of(module: str) -> Path:
    parts = module.split(".")[1:]
    if not parts:
        return FOLDERS["deskscribe"] / "__init__.py"
    base = FOLDERS[parts[0]] if parts[0] in STAGES else FOLDERS["deskscribe"] / parts[0]
    rest = parts[1:] if parts[0] in STAGES else []
    path = base.joinpath(*rest)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports_of(module: str) -> list[tuple[int, str]]:
    """Absolute module names imported anywhere in ``module`` (also inside functions), with line numbers."""
    path = source_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "deskscribe":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else "root"


def violations(module: str) -> list[str]:
    own = stage_of(module)
    out = []
    for line, name in imports_of(module):
        target = stage_of(name)
        where = f"{module}:{line} imports {name}"
        top = name.split(".")[0]
        if top in STAGES:
            out.append(f"{where}: a bare stage import (use deskscribe.{name})")
        if top == "PySide6" and own != "app":
            out.append(f"{where}: only app imports Qt")
        if name == "deskscribe.cli" or name.startswith("deskscribe.cli."):
            if module != "deskscribe.__main__":
                out.append(f"{where}: only deskscribe/__main__.py imports the root CLI")
        if target in (None, "root", own):
            continue
        if own == "root":
            if target not in ROOT_EXCEPTIONS.get(module, set()):
                out.append(f"{where}: a root module imports no stage")
            elif module == "deskscribe.config" and name not in ("deskscribe.models", "deskscribe.models.registry"):
                out.append(f"{where}: config reads only the models registry")
        elif target == "app":
            out.append(f"{where}: nothing imports app")
        elif own in ("capture", "models", "export") and target in ("capture", "models", "export"):
            out.append(f"{where}: capture, models and export never import each other")
        elif own == "storage":
            out.append(f"{where}: storage imports no other stage")
    return out


def test_every_module_follows_the_layer_rule():
    found = [v for m in module_names() for v in violations(m)]
    assert found == [], "\n".join(found)


def test_the_layer_check_sees_a_violation(tmp_path, monkeypatch):
    """The checker itself: a capture module importing models (inside a function) and Qt is caught."""
    bad = tmp_path / "capture"
    bad.mkdir()
    (bad / "bad.py").write_text("def f():\n    from deskscribe.models import ocr\n    import PySide6.QtCore\n"
                                "    import deskscribe.cli\n    from storage import db\n")
    monkeypatch.setitem(FOLDERS, "capture", bad)
    got = violations("deskscribe.capture.bad")
    assert any("never import each other" in v for v in got)
    assert any("only app imports Qt" in v for v in got)
    assert any("root CLI" in v for v in got)
    assert any("bare stage import" in v for v in got)


# Each module in a fresh interpreter: a cycle ("partially initialized module") or a module that only works
# after another one was imported first fails here. One child process per module, a few at a time.
def _import_alone(name: str) -> str | None:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=REPO.parent,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=300)
    if proc.returncode == 0:
        return None
    return (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]


def test_every_module_imports_on_its_own():
    names = [m for m in module_names() if m != "deskscribe.__main__"]  # __main__ runs the CLI when imported
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = dict(zip(names, pool.map(_import_alone, names), strict=True))
    failed = {name: why for name, why in results.items() if why is not None}
    assert failed == {}, "\n".join(f"{k}: {v}" for k, v in failed.items())


def test_every_error_type_is_a_deskscribe_error():
    """Known problems reach the user as one `Error: …` line only if they derive from DeskscribeError."""
    from deskscribe.errors import DeskscribeError

    outside = []
    for module in module_names():
        if module == "deskscribe.__main__":
            continue
        for name, obj in vars(importlib.import_module(module)).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module:
                if not issubclass(obj, DeskscribeError):
                    outside.append(f"{module}.{name}")
    assert outside == [], f"not under deskscribe.errors.DeskscribeError: {outside}"
