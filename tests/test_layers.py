"""The stage boundaries hold: every module imports on its own, and imports follow the layer rule.

Layer rule (README, Development): nothing imports app; capture, models and export never import each other;
storage imports no other stage; only app imports Qt; no module imports deskscribe.cli (the root CLI only
assembles the stages' commands) except ``deskscribe/__main__.py``. Root modules import no stage, except the
CLI (which assembles them) and doctor (which assembles each stage's checks); config validates model names against deskscribe/choices.py (data only).

One exception, and only one: export may import the OCR engine, ``deskscribe.models.ocr_engine``, and nothing
else of models. Redaction reuses the OCR boxes describe stored, so it must read pixels exactly as describe
did — the same engine, version and options, one home for OCR. In return the engine imports nothing of
models outside its own package, so export reaches no other model code through it.
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
    "deskscribe.doctor": {"storage", "capture", "models"},  # assembles each stage's checks, like the CLI
}
OCR_ENGINE = "deskscribe.models.ocr_engine"  # the one part of models export may import (see the docstring)


def in_ocr_engine(name: str) -> bool:
    return name == OCR_ENGINE or name.startswith(OCR_ENGINE + ".")


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
        if in_ocr_engine(module) and target == "models" and not in_ocr_engine(name):
            out.append(f"{where}: the OCR engine imports nothing of models outside its package (export imports it)")
        if target in (None, "root", own):
            continue
        if own == "root":
            if target not in ROOT_EXCEPTIONS.get(module, set()):
                out.append(f"{where}: a root module imports no stage")
        elif own == "export" and in_ocr_engine(name):
            continue  # export's redaction reads pixels with describe's engine
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


def test_export_may_import_the_ocr_engine_and_nothing_else_of_models(tmp_path, monkeypatch):
    """The one exception is as narrow as it says: the engine's package, not models.ocr (the captioner), not
    ``from deskscribe.models import ocr_engine``; and the engine may not reach back into the rest of models."""
    export, models = tmp_path / "export", tmp_path / "models"
    (models / "ocr_engine").mkdir(parents=True)
    export.mkdir()
    (export / "ok.py").write_text("from deskscribe.models.ocr_engine import OcrEngine\n"
                                  "from deskscribe.models.ocr_engine.boxes import decode_boxes\n")
    (export / "bad.py").write_text("from deskscribe.models.ocr import OcrCaptioner\n"
                                   "from deskscribe.models import ocr_engine\n")
    (models / "ocr_engine" / "leak.py").write_text("def f():\n    from deskscribe.models.registry import CAPTIONERS\n"
                                                   "from deskscribe.models.ocr_engine.options import ENGINES\n")
    monkeypatch.setitem(FOLDERS, "export", export)
    monkeypatch.setitem(FOLDERS, "models", models)
    assert violations("deskscribe.export.ok") == []
    bad = violations("deskscribe.export.bad")
    assert len(bad) == 3 and all("never import each other" in v for v in bad), bad  # models.ocr, its class, bare models
    leak = violations("deskscribe.models.ocr_engine.leak")
    assert len(leak) == 2 and all("imports nothing of models outside" in v for v in leak), leak


def _stage_modules_loaded_by(name: str) -> list[str]:
    code = (f"import sys, {name}\n"
            f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith('deskscribe.'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO.parent, timeout=300,
                          check=True)
    return [m for m in proc.stdout.split() if stage_of(m) in STAGES]


def test_importing_config_imports_no_stage():
    """Config validates model names from deskscribe/choices.py: loading settings loads no stage (before, it
    imported the models registry — an import cycle hidden by lazy imports)."""
    assert _stage_modules_loaded_by("deskscribe.config") == []


def test_importing_the_ocr_engine_imports_nothing_else_of_models():
    loaded = _stage_modules_loaded_by(OCR_ENGINE)
    assert OCR_ENGINE in loaded
    # storage holds the stored shape of its boxes (storage/boxes.py), which every stage may import
    assert [m for m in loaded if not in_ocr_engine(m) and m != "deskscribe.models" and stage_of(m) != "storage"] == []


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
