"""The 16 dev-set sessions (typed text not stored, as on import by default) through the real CLI: import,
describe, show, export. The exported trajectory's step texts are `deskscribe show`'s steps, action for action,
and typing read from the screen becomes write() steps."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main

pytestmark = pytest.mark.model


def test_exported_steps_are_show_s_steps_for_every_dev_set_episode(screenagent: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    folders = sorted(str(p) for p in screenagent.iterdir() if p.is_dir())
    assert len(folders) == 16
    assert runner.invoke(main, ["import", *folders]).exit_code == 0
    described = runner.invoke(main, ["describe", "--progress", "none"])
    assert described.exit_code == 0 and "described 16 of 16" in described.output, described.output
    out = tmp_path / "jl"
    exported = runner.invoke(main, ["export", "jsonl", str(out), "--include-unreviewed", "--val-fraction", "0"])
    assert exported.exit_code == 0, exported.output
    trajectories = {t["episode_id"]: t for t in map(json.loads, (out / "trajectories.jsonl").read_text().splitlines())}
    assert len(trajectories) == 16

    truth = {e["episode"]: e for e in map(json.loads, (screenagent / "episodes.jsonl").read_text().splitlines())}
    on_screen = written = 0
    for episode_id, traj in trajectories.items():
        shown = json.loads(runner.invoke(main, ["show", str(episode_id), "--json"]).stdout)
        steps = {s["event_id"]: s["text"] for s in shown["description"]["step_rows"] if s["event_id"] is not None}
        kinds = {a["event_id"]: a["kind"] for a in shown["actions"]}
        exported_ids = [s["event_id"] for s in traj["traj"] if s["event_id"] is not None]
        for s in traj["traj"]:
            if s["event_id"] is not None:  # an action: its text is the step shown for that action
                assert s["value"]["description"] == steps[s["event_id"]], (episode_id, s)
        # every shown step of an action the action space has (not app switches) is exported, in order
        acted = [eid for eid in steps if kinds.get(eid) not in ("app_switch", "other")]
        skipped = sum(traj["skipped_events"].values())
        assert exported_ids == [e for e in acted if e in exported_ids] and len(acted) - len(exported_ids) <= skipped
        # the person's typing (known from the dataset) that shows on a typing burst's after frame
        after = {a["after_frame_id"] for a in shown["actions"] if a["kind"] == "keys"}
        screen = _norm(" ".join(f["ocr_text"] or "" for f in shown["frames"] if f["id"] in after))
        texts = [_norm(json.loads(s["value"]["action"][len("write(text="):-1]))
                 for s in traj["traj"] if s["value"]["action"].startswith("write(")]
        for typed in _typed(truth[Path(shown["episode"]["source_ref"]).name]):
            if _norm(typed) in screen:
                on_screen += 1
                written += any(difflib.SequenceMatcher(None, _norm(typed), t).ratio() >= 0.9 for t in texts)
    assert on_screen >= 8 and written >= 0.9 * on_screen, (written, on_screen)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _typed(episode: dict) -> list[str]:  # type: ignore[type-arg]
    return [m.group(1) for step in episode["steps"] for a in step["actions"] if (m := re.match(r"type '(.*)'$", a))]
