"""The built wheel holds every source module under deskscribe.* and nothing generic at the top level."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = {"app": "deskscribe/app", "capture": "deskscribe/capture", "models": "deskscribe/models",
          "storage": "deskscribe/storage", "export": "deskscribe/export", "deskscribe": "deskscribe"}


def test_wheel_contains_every_module_under_deskscribe(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(REPO)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("deskscribe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for src, dest in STAGES.items():
        for path in (REPO / src).rglob("*.py"):
            expected.add(f"{dest}/{path.relative_to(REPO / src).as_posix()}")
    assert expected - names == set(), "modules missing from the wheel (add their package to pyproject.toml)"
    tops = {n.split("/")[0] for n in names if not n.startswith("deskscribe-")}
    assert tops == {"deskscribe"}
